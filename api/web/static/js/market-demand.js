// One demand: answer it with an asset; its poster accepts an answer (the price goes into escrow, after a
// token approval when missing) or closes it; the answerer withdraws an answer or accepts the escrowed
// offer (the ERC-721 approval first, when missing), which completes the sale.
import { esc, t } from "./messages.js";
import { act } from "./relay.js";
import { data, dayFrom, ids, LocalError, money, run, showForKey, toUnits, withApproval, withPayment } from "./market-common.js";

const demandId = data.demand.demand_id;

const ACTS = {
  "accept-answer": async (button, say) => (await withPayment(
    { contract: "Marketplace", fn: "acceptAnswer", args: [button.dataset.id, dayFrom(7)] },
    "Marketplace", button.dataset.price, say)).result,
  "withdraw-answer": (button, say) => act("Marketplace", "withdrawAnswer", [button.dataset.id], say),
  "close-demand": (button, say) => act("Marketplace", "closeDemand", [button.dataset.id], say),
  "accept-offer": async (button, say) => (await withApproval(
    { contract: "Marketplace", fn: "acceptOffer", args: [button.dataset.id] },
    { contract: "IPRegistry", fn: "approve", args: [data.contracts.Marketplace, button.dataset.asset],
      when: ["MarketplaceTransferNotApproved", "ERC721InsufficientApproval"], explain: t("approveAsset") }, say)).result,
};
const DONE = {
  "accept-answer": (button, relayed) => t("answerAccepted", { id: ids(relayed).offerId, amount: money(button.dataset.price) }),
  "withdraw-answer": (button) => t("answerWithdrawn", { id: button.dataset.id }),
  "close-demand": (button) => t("demandClosed", { id: button.dataset.id }),
  "accept-offer": (button) => t("offerAccepted", { id: button.dataset.id }),
};

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-act]");
  if (!button || !(button.dataset.act in ACTS)) return;
  const name = button.dataset.act;
  if (["close-demand", "withdraw-answer"].includes(name) && !window.confirm(t("confirmCancel"))) return;
  run(document.getElementById("act-result"), button, (say) => ACTS[name](button, say),
    (relayed) => esc(DONE[name](button, relayed)));
});

const form = document.getElementById("answer-form");
if (form) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form.querySelector(".result"), form.querySelector("button[type=submit]"), (say) => {
      const assetId = form.elements.asset.value.trim();
      if (!/^\d+$/.test(assetId)) throw new LocalError(t("needAsset"));
      return act("Marketplace", "answerDemand", [demandId, assetId, toUnits(form.elements.price.value)], say);
    }, (relayed) => esc(t("answered", { id: ids(relayed).answerId })));
  });
}

showForKey();
