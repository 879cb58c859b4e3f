// The bank check page's acts: accept a proposed pledge (naming the check's encumbrance version, as
// `ipledger pledge accept` does), release or enforce the active one. Signed in this browser, relayed;
// a refusal shows the ledger's reason in the page's language and leaves the page as it was.
import { ZeroAddress, isAddress } from "/vendor/ethers.js";
import { get, reasonOf } from "./api.js";
import { getActive } from "./keys.js";
import { esc, lang, t } from "./messages.js";
import { act } from "./relay.js";

const RELOAD_AFTER_MS = 800;

function warnIfNotTheBank() {
  const active = getActive();
  for (const block of document.querySelectorAll(".pledge[data-pledgee]")) {
    const status = block.querySelector(".act-status");
    if (!status || status.dataset.busy) continue;
    if (active && active.address.toLowerCase() !== block.dataset.pledgee.toLowerCase()) {
      status.className = "act-status result warn";
      status.textContent = t("notYourPledge", { address: active.address });
    } else {
      status.className = "act-status result";
      status.textContent = "";
    }
  }
}

function argsOf(button, block) {
  const pledgeId = Number(button.dataset.pledge);
  if (button.dataset.act === "accept") return { pledgeId, encumbranceVersion: Number(button.dataset.version) };
  if (button.dataset.act === "enforce") {
    const buyer = block.querySelector("[data-buyer]").value.trim();
    if (buyer && !isAddress(buyer)) throw new Error(t("badBuyer"));
    return { pledgeId, buyer: buyer || ZeroAddress };
  }
  return { pledgeId };
}

async function run(button) {
  const block = button.closest(".pledge");
  const status = block.querySelector(".act-status");
  const buttons = block.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  status.dataset.busy = "1";
  status.className = "act-status result";
  status.textContent = t("preparing");
  try {
    const fn = button.dataset.act;
    const relayed = await act("PledgeRegistry", fn, argsOf(button, block), (text) => { status.textContent = text; });
    status.className = "act-status result ok";
    status.textContent = `${t(fn)} ${t("inTx", { tx: relayed.tx_hash, block: relayed.block_number })}`;
    setTimeout(() => window.location.reload(), RELOAD_AFTER_MS);
  } catch (error) {
    status.className = "act-status result bad";
    status.textContent = reasonOf(error);
    buttons.forEach((b) => { b.disabled = false; });
    delete status.dataset.busy;
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-act]");
  if (button && button.closest(".pledge")) run(button);
});
// On /bank: the pledges proposed to, or held by, the bank whose key is open (from the audit index).
async function listMyPledges() {
  const section = document.getElementById("my-pledges");
  if (!section) return;
  const status = document.getElementById("my-pledges-status");
  const wrap = section.querySelector(".table-wrap");
  const active = getActive();
  wrap.hidden = true;
  if (!active) return;
  status.textContent = t("loading");
  try {
    const found = await get("/audit/pledges", { bank: active.address, limit: 1000 });
    const pledges = found.data.filter((p) => p.status === "proposed" || p.status === "active").reverse();
    if (!pledges.length) {
      status.textContent = t("noPledges", { address: active.address });
      return;
    }
    const labels = JSON.parse(document.getElementById("pledge-statuses").textContent);
    const day = (seconds) => new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" })
      .format(new Date(seconds * 1000));
    const number = new Intl.NumberFormat(lang);
    status.textContent = t("pledgesOf", { address: active.address });
    section.querySelector("tbody").innerHTML = pledges.map((p) => {
      const maturity = p.matures_on ? p.matures_on.slice(0, 10) : "";
      return `<tr data-pledge="${esc(p.pledge_id)}"><td>${esc(p.pledge_id)}</td>
        <td><a href="/assets/${esc(p.asset_id)}/check?maturity=${esc(maturity)}">${esc(t("checkIt", { id: p.asset_id }))}</a></td>
        <td><span class="badge ${p.status === "proposed" ? "warn" : "ok"}">${esc(labels[p.status] ?? p.status)}</span></td>
        <td>${esc(number.format(p.principal))} ${esc(p.currency)}</td><td>${esc(p.maturity ? day(p.maturity) : "—")}</td></tr>`;
    }).join("");
    wrap.hidden = false;
  } catch (error) {
    status.textContent = reasonOf(error);
  }
}

window.addEventListener("ipledger:key", () => { warnIfNotTheBank(); listMyPledges(); });
warnIfNotTheBank();
listMyPledges();
