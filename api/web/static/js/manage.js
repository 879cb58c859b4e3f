// The owner's page of an asset: offer a licence, propose a pledge, list for sale, sell licences on the
// LicenseMarket; the licensee accepts its offer here, the owner accepts offers in escrow. Every act is
// signed in this browser (relay.js); the ledger's refusal, if any, is shown before anything is signed.
import { esc, t } from "./messages.js";
import { act } from "./relay.js";
import { data, dayFrom, ids, LocalError, me, money, run, same, showForKey, toUnits, withApproval, withPayment } from "./market-common.js";

const ZERO = "0x0000000000000000000000000000000000000000";
const assetId = data.asset_id;
const who = document.getElementById("who");

function showOwner() {
  const active = me();
  const owner = document.getElementById("owner").textContent.trim();
  const mine = same(active, owner);
  who.className = `panel ${mine ? "ok" : "warn"}`;
  who.textContent = !active ? t("noKeyHere") : mine ? t("owner", { address: active }) : t("notOwner", { address: active, owner });
  for (const fieldset of document.querySelectorAll("[data-owner-only]")) fieldset.disabled = !mine;
  document.getElementById("owner-acts").classList.toggle("read-only", !mine);
  showForKey();
}
window.addEventListener("ipledger:key", showOwner);

for (const [id, days] of [["lic-start", 0], ["lic-end", 365], ["pl-maturity", 365], ["sale-expiry", 30],
  ["ls-start", 0], ["ls-end", 365], ["ls-expiry", 30], ["bo-expiry", 7]]) {
  const input = document.getElementById(id);
  if (input && !input.value) input.value = dayFrom(days);
}

const value = (form, name) => form.elements[name].value.trim();
const outOf = (form) => form.querySelector(".result");

function terms(form, licensee) {
  return [licensee, value(form, "kind"), value(form, "start") || dayFrom(0), value(form, "end"),
    value(form, "territory"), value(form, "field"), null, form.elements.fee ? toUnits(value(form, "fee") || "0") : "0",
    Boolean(form.elements.sublicensable?.checked)];
}

function onSubmit(id, work, done) {
  const form = document.getElementById(id);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(outOf(form), form.querySelector("button[type=submit]"), (say) => work(form, say), done);
  });
}

onSubmit("licence-form", async (form, say) => {
  const licensee = value(form, "licensee");
  if (!licensee) throw new LocalError(t("notAddress"));
  return act("LicenseRegistry", "offer", [assetId, terms(form, licensee)], say);
}, (relayed) => esc(t("licenceOffered", { id: ids(relayed).licenseId })));

onSubmit("pledge-form", async (form, say) => {
  const pledgee = value(form, "pledgee");
  if (!pledgee) throw new LocalError(t("notAddress"));
  return act("PledgeRegistry", "propose", [assetId, pledgee, value(form, "principal"), value(form, "currency"),
    value(form, "maturity"), null], say);
}, (relayed) => esc(t("pledgeProposed", { id: ids(relayed).pledgeId })));

onSubmit("sale-form", async (form, say) => {
  const price = toUnits(value(form, "price"));
  const outcome = await withApproval(
    { contract: "Marketplace", fn: "listAsset", args: [assetId, data.contracts.SettlementToken, price, value(form, "expiry"), ZERO] },
    { contract: "IPRegistry", fn: "approve", args: [data.contracts.Marketplace, assetId],
      when: ["MarketplaceTransferNotApproved"], explain: t("approveAsset") }, say);
  return { ...outcome, price };
}, ({ result, price }) => esc(t("listed", { id: ids(result).listingId, price: money(price) })));

onSubmit("licence-sale-form", async (form, say) => {
  const price = toUnits(value(form, "price"));
  return withApproval(
    { contract: "LicenseMarket", fn: "listLicense",
      args: [assetId, terms(form, ZERO), data.contracts.SettlementToken, price, value(form, "supply"), value(form, "expiry")] },
    { contract: "LicenseRegistry", fn: "setOperator", args: [data.contracts.LicenseMarket, true],
      when: ["MarketplaceLicensingNotApproved"], explain: t("approveLicensing") }, say);
}, ({ result }) => esc(t("licencesListed", { id: ids(result).listingId })));

onSubmit("buy-offer-form", async (form, say) => {
  const amount = toUnits(value(form, "amount"));
  const outcome = await withPayment(
    { contract: "Marketplace", fn: "makeOffer", args: [assetId, data.contracts.SettlementToken, amount, value(form, "expiry")] },
    "Marketplace", amount, say);
  return { ...outcome, amount };
}, ({ result, amount }) => esc(t("offerMade", { id: ids(result).offerId, amount: money(amount) })));

// Buttons in the state tables (rendered again after each act): one listener for all of them.
const ACTS = {
  "accept-licence": (id, say) => act("LicenseRegistry", "accept", [id], say),
  "end-licence": (id, say) => act("LicenseRegistry", "terminate", [id, null], say),
  "cancel-pledge": (id, say) => act("PledgeRegistry", "cancel", [id], say),
  "cancel-listing": (id, say) => act("Marketplace", "cancelListing", [id], say),
  "cancel-licence-listing": (id, say) => act("LicenseMarket", "cancelLicenseListing", [id], say),
  "refuse-offer": (id, say) => act("Marketplace", "refuseOffer", [id], say),
  "accept-offer": async (id, say) => (await withApproval(
    { contract: "Marketplace", fn: "acceptOffer", args: [id] },
    { contract: "IPRegistry", fn: "approve", args: [data.contracts.Marketplace, assetId],
      when: ["MarketplaceTransferNotApproved", "ERC721InsufficientApproval"], explain: t("approveAsset") }, say)).result,
};
const DONE = {
  "accept-licence": "licenceAccepted", "end-licence": "licenceEnded", "cancel-pledge": "pledgeCancelled",
  "cancel-listing": "listingCancelled", "accept-offer": "offerAccepted",
  "cancel-licence-listing": "licenceListingCancelled", "refuse-offer": "offerRefused",
};
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-act]");
  if (!button || !(button.dataset.act in ACTS)) return;
  const { act: name, id } = button.dataset;
  if (["end-licence", "cancel-pledge", "cancel-listing", "cancel-licence-listing", "refuse-offer"].includes(name) && !window.confirm(t("confirmCancel"))) return;
  run(document.getElementById("state-result"), button, (say) => ACTS[name](Number(id), say),
    () => esc(t(DONE[name], { id })));
});

showOwner();
