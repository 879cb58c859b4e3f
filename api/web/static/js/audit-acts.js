// The registrar's acts on one asset (IPRegistry): verification, legal status, dates, court freeze, its
// extension and lifting. Each form is one act, signed with the key open in this browser and relayed; an
// order document is hashed here (never uploaded) and only its SHA-256 goes on chain.
import { reasonOf } from "./api.js";
import { sha256File } from "./hash.js";
import { t } from "./messages.js";
import { act } from "./relay.js";

const ZERO_HASH = "0x" + "0".repeat(64);
const RELOAD_AFTER_MS = 800;
const container = document.querySelector(".acts");
const assetId = Number(container.dataset.asset);

async function reasonHash(form, status) {
  const input = form.querySelector("input[type=file]");
  const file = input?.files?.[0];
  if (!file) return ZERO_HASH;
  return sha256File(file, (done, total) => {
    status.textContent = t("hashing", { percent: `${total ? Math.floor((100 * done) / total) : 100}%` });
  });
}

async function argsOf(form, status) {
  const value = (name) => form.elements[name].value.trim();
  switch (form.dataset.fn) {
    case "setVerified": return { assetId, verified: value("verified") === "true" };
    case "setLegalStatus": return { assetId, status: value("status") };
    case "setDates": return { assetId, expiresAt: value("expiresAt") || "0", feesPaidUntil: value("feesPaidUntil") || "0" };
    case "freeze": return { assetId, court: value("court"), caseNumber: value("caseNumber"),
      reasonHash: await reasonHash(form, status), until: value("until") };
    case "renewFreeze": return { assetId, until: value("until") };
    case "unfreeze": return { assetId, reasonHash: await reasonHash(form, status) };
    default: throw new Error(form.dataset.fn);
  }
}

for (const form of container.querySelectorAll("form.act")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = form.querySelector(".act-status");
    const button = form.querySelector("button[type=submit]");
    if (!form.checkValidity()) {
      status.className = "act-status result bad";
      status.textContent = t("missing");
      return;
    }
    button.disabled = true;
    status.className = "act-status result";
    status.textContent = t("preparing");
    try {
      const args = await argsOf(form, status);
      status.textContent = t("preparing");
      const relayed = await act("IPRegistry", form.dataset.fn, args, (text) => { status.textContent = text; });
      status.className = "act-status result ok";
      status.textContent = t("recorded", { block: relayed.block_number, tx: relayed.tx_hash });
      setTimeout(() => window.location.reload(), RELOAD_AFTER_MS);
    } catch (error) {
      status.className = "act-status result bad";
      status.textContent = reasonOf(error);
      button.disabled = false;
    }
  });
}
