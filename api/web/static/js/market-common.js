// What the owner's page and the market pages share: the page's data, amounts typed in tokens as units,
// acts that need an approval first (asked only when the ledger says it is missing, and explained),
// refusals in the page's language, and refreshing the state shown after an act.
import { get, post, ProblemError, reasonOf } from "./api.js";
import { getActive } from "./keys.js";
import { esc, t } from "./messages.js";
import { act } from "./relay.js";

export const data = JSON.parse(document.getElementById("page-data")?.textContent || "{}");
export const token = data.token || { symbol: "IPST", decimals: 6 };

/** The active account's address (checksummed), or null. */
export const me = () => getActive()?.address || null;
export const same = (a, b) => Boolean(a && b && a.toLowerCase() === b.toLowerCase());

/** "12.5" tokens as a string of units (6 decimals: "12500000"), exactly; a LocalError when not an amount. */
export function toUnits(text, decimals = token.decimals) {
  const cleaned = String(text ?? "").trim().replace(/[,_\s]/g, "");
  const match = /^(\d*)(?:\.(\d*))?$/.exec(cleaned);
  if (!cleaned || !match || (!match[1] && !match[2])) throw new LocalError(t("notAmount", { text }));
  const fraction = match[2] || "";
  if (fraction.length > decimals) throw new LocalError(t("tooManyDecimals", { text, decimals }));
  const units = BigInt(match[1] || "0") * 10n ** BigInt(decimals) + BigInt((fraction + "0".repeat(decimals)).slice(0, decimals) || "0");
  return units.toString();
}

/** Units as tokens for people: "12500000" -> "12.5 IPST". */
export function money(units, decimals = token.decimals) {
  const value = BigInt(units);
  const scale = 10n ** BigInt(decimals);
  const whole = (value / scale).toLocaleString(document.documentElement.lang);
  const fraction = (value % scale).toString().padStart(decimals, "0").replace(/0+$/, "").padEnd(Math.min(2, decimals), "0");
  return `${whole}${fraction ? "." + fraction : ""} ${token.symbol}`;  // 300.00 IPST, as the pages write it
}

/** A date input's value, or today plus `days` (YYYY-MM-DD) when empty. */
export function dayFrom(days) {
  const when = new Date(Date.now() + days * 86_400_000);
  return when.toISOString().slice(0, 10);
}

/** A refusal found in the page before anything is sent (an amount that is not one). */
export class LocalError extends Error {}

/** HTML for a failed act: the ledger's reason, as the API words it in the page's language (api.js). */
export function failure(error) {
  return `<strong>${esc(t("failed"))}</strong> ${esc(reasonOf(error))}`;
}

async function refusal(from, contract, fn, args) {
  try {
    await post("/relay/prepare", { from, contract, function: fn, args });
    return null;
  } catch (error) {
    if (error instanceof ProblemError && error.problem?.error) return error;
    throw error;
  }
}

/** An act that may need an approval first: prepare it (nothing signed); if the ledger refuses it only for
 *  the missing approval named in `approval.when`, say so, sign and send the approval, then the act.
 *  Resolves to {approved, result}; a refused act after a given approval rejects with `error.approved`. */
export async function withApproval(main, approval, say) {
  const from = me();
  if (!from) throw new LocalError(t("noKey"));
  const refused = approval ? await refusal(from, main.contract, main.fn, main.args) : null;
  let approved = null;
  if (refused) {
    if (!approval.when.includes(refused.problem.error)) throw refused;
    say(approval.explain);
    approved = await act(approval.contract, approval.fn, approval.args, say);
    say(t("approvedNow"));
  }
  try {
    return { approved, result: await act(main.contract, main.fn, main.args, say) };
  } catch (error) {
    error.approved = approved;
    throw error;
  }
}

/** Pay `units` of the settlement token: first check the balance (nothing is approved for a payment that
 *  cannot be made), then run the act with the ERC-20 approval for `spender` when it is missing. */
export async function withPayment(main, spender, units, say) {
  const from = me();
  if (!from) throw new LocalError(t("noKey"));
  const { balance } = await get(`/market/balances/${from}`);
  if (BigInt(balance) < BigInt(units)) {
    throw new LocalError(t("lowBalance", { balance: money(balance), needed: money(units) }));
  }
  return withApproval(main, {
    contract: "SettlementToken", fn: "approve", args: { spender: data.contracts[spender], value: String(units) },
    when: ["ERC20InsufficientAllowance"], explain: t("approvePayment", { amount: money(units) }),
  }, say);
}

/** Run `work(say)` for a button or form, narrating in `out`; success shows `done(outcome)` and refreshes. */
export async function run(out, control, work, done) {
  const say = (text) => { out.className = "result"; out.textContent = text; };
  control.disabled = true;
  say("…");  // the outcome of an earlier act is no longer the news
  try {
    const outcome = await work(say);
    await refresh();  // the state shown is the ledger's after the act before the act is reported done
    out.className = "result ok";
    out.innerHTML = done(outcome);
  } catch (error) {
    out.className = "result bad";
    let html = failure(error);
    if (error?.approved) {
      html = `<p>${esc(t("halfDone", { tx: error.approved.tx_hash }))}</p>${html}`;
    }
    out.innerHTML = html;
  } finally {
    control.disabled = false;
  }
}

export const ids = (relayed) => relayed.result || {};

/** Replace every `[data-refresh]` element with its new rendering (the page read again from the ledger). */
export async function refresh() {
  try {
    const response = await fetch(location.href, { headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const element of document.querySelectorAll("[data-refresh]")) {
      const replacement = fresh.getElementById(element.id);
      if (replacement) element.innerHTML = replacement.innerHTML;
    }
  } catch {
    // the act succeeded; the state shown is as of before it until the page is reloaded
  }
  showForKey();
}

/** Show the controls meant for the active account: `[data-for="0x.."]` only to that account,
 *  `[data-needs-key]` to any account (but the one in its `data-not-for`), `[data-no-key]` when none is open. */
export function showForKey() {
  const active = me();
  for (const element of document.querySelectorAll("[data-for]")) {
    element.hidden = !same(element.dataset.for, active);
  }
  for (const element of document.querySelectorAll("[data-needs-key]")) {
    element.hidden = !active || same(element.dataset.notFor, active);
  }
  for (const element of document.querySelectorAll("[data-no-key]")) {
    element.hidden = Boolean(active);
  }
}

window.addEventListener("ipledger:key", showForKey);
