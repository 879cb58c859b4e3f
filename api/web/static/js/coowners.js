// The co-owners' page: describe an act that needs every co-owner (POST /api/v1/co-owners/{id}/acts gives its
// id, who consented, and the call that performs it), consent to it or withdraw the consent with the active
// key, or perform it once every other co-owner consented: a pledge, a transfer, an exclusive licence, the
// asset's sale on the Marketplace or the acceptance of a buyer's escrowed offer; a non-exclusive licence
// listing is one co-owner's act alone. Then the proceeds: distribute what the vault holds, withdraw one's
// credit. Every act is signed here (relay.js); a refusal shows the ledger's reason in the page's language.
import { post } from "./api.js";
import { t } from "./messages.js";
import { act } from "./relay.js";
import { data, dayFrom, failure, me, refresh, same, showForKey, toUnits, token } from "./market-common.js";

const form = document.getElementById("act-form");
const out = document.getElementById("co-result");
const actsOut = document.getElementById("co-acts-result");
const who = document.getElementById("who");

const isCoOwner = (address) => data.co_owners.some((a) => same(a, address));

function showWho() {
  const active = me();
  const mine = isCoOwner(active);
  who.className = `panel ${mine ? "ok" : "warn"}`;
  who.textContent = !active ? t("noKeyHere") : mine ? t("coOwner", { address: active }) : t("notCoOwner", { address: active });
  for (const button of document.querySelectorAll("[data-co-owner]")) button.hidden = !mine;
  showForKey();
}

function showFields() {
  const kind = form.elements.act.value;
  for (const element of form.querySelectorAll("[data-act-kinds]")) {
    element.hidden = !element.dataset.actKinds.split(" ").includes(kind);
  }
}

function spec() {
  const v = (name) => form.elements[name].value.trim();
  const kind = v("act");
  const body = { act: kind };
  if (["pledge", "transfer", "license"].includes(kind)) body.to = v("to");
  if (kind === "pledge") Object.assign(body, { principal: Number(v("principal")), currency: v("currency"), maturity: v("maturity") });
  if (kind === "license") Object.assign(body, { license_kind: "exclusive", start: v("start"), end: v("end") });
  if (kind === "sale" || kind === "license-listing") {
    Object.assign(body, { token: token.address, price: toUnits(v("price")), expiry: v("expiry") });
  }
  if (kind === "sale" && v("buyer")) body.buyer = v("buyer");
  if (kind === "license-listing") {
    Object.assign(body, { license_kind: "non-exclusive", start: v("start"), end: v("end"), supply: Number(v("supply")) });
  }
  if (kind === "offer-acceptance") body.offer_id = Number(v("offer_id"));
  return body;
}

async function describe() {
  const described = await post(`/co-owners/${data.asset_id}/acts`, spec());
  document.getElementById("co-state").hidden = false;
  document.getElementById("co-act-id").textContent = described.act_id;
  document.getElementById("co-given").textContent = described.given.join(", ") || t("nobody");
  document.getElementById("co-missing").textContent = described.missing.join(", ") || t("nobody");
  // The one who performs needs no consent of its own; a non-exclusive listing needs none at all.
  const others = described.missing.filter((a) => !same(a, me()));
  const ready = document.getElementById("co-ready");
  ready.dataset.state = described.act === "license-listing" ? "alone" : others.length ? "waiting" : "ready";
  ready.textContent = ready.dataset.state === "waiting" ? t("waiting", { names: others.join(", ") }) : t(ready.dataset.state);
  return described;
}

// The box belongs to the last act started in it: an earlier one (a "describe" still refreshing when
// "perform" is clicked) finishes silently instead of writing its outcome over the later act's.
let runs = 0;

async function run(box, button, work, done) {
  const mine = String(++runs);
  box.dataset.run = mine;
  const owns = () => box.dataset.run === mine;
  button.disabled = true;
  box.className = "result";
  box.textContent = "…";
  try {
    const outcome = await work((text) => { if (owns()) box.textContent = text; });
    await refresh();
    showWho();
    if (!owns()) return;
    box.className = "result ok";
    box.textContent = typeof done === "function" ? done(outcome) : done;
  } catch (error) {
    if (!owns()) return;
    box.className = "result bad";
    box.innerHTML = failure(error);
  } finally {
    button.disabled = false;
  }
}

const on = (id, work, done) => {
  const button = document.getElementById(id);
  if (button) {
    button.addEventListener("click", () => run(out, button, async (say) => {
      const outcome = await work(say);
      await describe();
      return outcome;
    }, done));
  }
};

if (form) {
  for (const [id, days] of [["co-maturity", 365], ["co-start", 0], ["co-end", 365], ["co-expiry", 30]]) {
    document.getElementById(id).value = dayFrom(days);
  }
  form.elements.act.addEventListener("change", showFields);
  showFields();
  on("co-describe", async () => {}, "");
  on("co-consent", async (say) => {
    const described = await describe();
    await act("CoOwnership", "consent", [data.asset_id, described.act_id], say);
  }, t("consented"));
  on("co-withdraw", async (say) => {
    const described = await describe();
    await act("CoOwnership", "withdrawConsent", [data.asset_id, described.act_id], say);
  }, t("withdrawn"));
  on("co-perform", async (say) => {
    const described = await describe();
    await act(described.contract, described.function, described.args, say);
    return described.act;
  }, (kind) => t(kind === "license-listing" ? "performedAlone" : "performed"));

  // The sale's and the proceeds' buttons (their sections are re-rendered after every act).
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-act]");
    if (!button) return;
    const { id, token: address } = button.dataset;
    if (button.dataset.act === "pick-offer") {
      form.elements.act.value = "offer-acceptance";
      form.elements.offer_id.value = id;
      showFields();
      form.scrollIntoView();
      run(out, button, async () => { await describe(); }, "");
    } else if (button.dataset.act === "distribute") {
      run(actsOut, button, (say) => act("CoOwnership", "distribute", [data.asset_id, address], say), t("distributed"));
    } else if (button.dataset.act === "withdraw") {
      run(actsOut, button, (say) => act("CoOwnership", "withdraw", [address], say), t("withdrawnProceeds"));
    } else if (button.dataset.act === "cancel-listing") {
      run(actsOut, button, (say) => act("CoOwnership", "cancelListing", [data.asset_id, Number(id)], say),
        t("listingCancelled", { id }));
    }
  });
  window.addEventListener("ipledger:key", showWho);
  showWho();
}
