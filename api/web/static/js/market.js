// The market's boards: buy a listing or a licence (the token approval of the price first, when missing),
// post a demand (its description document is stored by the API, its hash goes on chain), get test
// tokens from the faucet on a development chain.
import { get, post } from "./api.js";
import { esc, t } from "./messages.js";
import { act } from "./relay.js";
import { data, dayFrom, ids, LocalError, me, money, run, showForKey, toUnits, withPayment } from "./market-common.js";

async function showBalance() {
  const element = document.getElementById("balance");
  const address = me();
  if (!element || !address) return;
  try {
    element.textContent = money((await get(`/market/balances/${address}`)).balance);
  } catch {
    element.textContent = "—";
  }
}

const faucet = document.getElementById("faucet");
if (faucet) {
  faucet.addEventListener("click", () => {
    const units = toUnits("1000");
    run(document.getElementById("wallet-result"), faucet,
      (say) => act("SettlementToken", "faucet", [me(), units], say),
      () => esc(t("minted", { amount: money(units) }))).then(showBalance);
  });
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-act]");
  if (!button) return;
  const { act: name, id, price, nonce } = button.dataset;
  const out = document.getElementById("board-result");
  if (name === "buy") {
    run(out, button, async (say) => (await withPayment(
      { contract: "Marketplace", fn: "buy", args: [id, price, nonce] }, "Marketplace", price, say)).result,
    () => esc(t("bought", { asset: button.dataset.asset }))).then(showBalance);
  } else if (name === "buy-licence") {
    run(out, button, async (say) => (await withPayment(
      { contract: "LicenseMarket", fn: "buyLicense", args: [id, price, nonce] }, "LicenseMarket", price, say)).result,
    (relayed) => esc(t("licenceBought", { id: ids(relayed).licenseId }))).then(showBalance);
  }
});

const form = document.getElementById("demand-form");
const deadline = document.getElementById("d-deadline");
if (!deadline.value) deadline.value = dayFrom(30);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const value = (name) => form.elements[name].value.trim();
  run(form.querySelector(".result"), form.querySelector("button[type=submit]"), async (say) => {
    if (!me()) throw new LocalError(t("noKey"));
    if (!value("title")) throw new LocalError(t("needTitle"));
    const budget = toUnits(value("budget"));
    const document_ = { schema: "ipledger.asset-metadata/1", title: value("title") };
    for (const [key, name] of [["description", "text"], ["kind", "kind"], ["field", "field"]]) {
      if (value(name)) document_[key] = value(name);
    }
    const stored = await post("/metadata", document_);
    return act("Marketplace", "postDemand", [stored.hash, stored.uri, data.contracts.SettlementToken, budget,
      value("deadline")], say);
  }, (relayed) => {
    const demandId = ids(relayed).demandId;
    return `${esc(t("demandPosted", { id: demandId }))} <a href="/market/demands/${esc(demandId)}">${esc(t("openDemand"))}</a>`;
  });
});

/** The licence offers section shows only when some offer is made to the active key. */
function showOffersToMe() {
  const section = document.getElementById("to-you");
  if (section && me()) section.hidden = !section.querySelector("li:not([hidden])");
}

window.addEventListener("ipledger:key", () => { showBalance(); showOffersToMe(); });
showForKey();
showOffersToMe();
showBalance();
