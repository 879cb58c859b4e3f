// The verify page: hash the file here (streaming), send only its digest and the certificate.
// Everything the reader sees comes from the page's messages (its language); the server's
// reason, in English, is shown only as the detail of a translated sentence.
import { post } from "./api.js";
import { certificateFromUrl, certificateLink } from "./cert-from-url.js";
import { sha256File } from "./hash.js";
import { esc, lang, t } from "./messages.js";

const form = document.getElementById("verify-form");
const out = document.getElementById("result");
const progress = document.getElementById("progress");

const FIELDS = ["chain_id", "contract", "tx_hash", "block_number", "block_hash", "block_time", "digest", "author",
  "salt", "leaf", "proof", "root", "stamper", "batch_size"];

class PageError extends Error {}

function fail(headline, detail, facts = "") {
  out.className = "result bad";
  out.innerHTML = `<strong>${esc(headline)}</strong> ${esc(detail)}${facts}`;
}

/** The certificate a printed certificate's QR code carries in this page's link (#cert=...), if any. */
let linked = null;
let linkText = null;

/** Read the link's certificate: at load, and again when the fragment changes to another one (a second QR code
 * opened in this tab: no reload), whose note replaces the first's, with no verdict or certificate file of it left.
 * A fragment without one (the skip link's #main) keeps the certificate read. */
function readLink() {
  const text = certificateLink();
  if (text === null || text === linkText) return;
  linkText = text;
  linked = null;
  const note = document.getElementById("linked-certificate");
  note.hidden = true;
  out.className = "result";
  out.textContent = "";
  progress.hidden = true;
  document.getElementById("cert").value = "";
  try {
    linked = certificateFromUrl();
  } catch {
    return fail(t("error"), t("linkDamaged"));
  }
  note.textContent = t("linkCarries", { block: linked.block_number ?? "?", author: linked.author ?? "?" });
  note.hidden = false;
}
readLink();
window.addEventListener("hashchange", readLink);

/** The certificate (a file, else the link's) as an object, or a PageError saying why it is not one. */
async function readCertificate(file) {
  let parsed;
  if (!file) {
    parsed = linked;
  } else {
    try {
      parsed = JSON.parse(await file.text());
    } catch {
      throw new PageError(t("notJson"));  // the parser's own words are English only: the message says what to do
    }
  }
  const lacking = parsed && typeof parsed === "object" && !Array.isArray(parsed)
    ? FIELDS.filter((name) => !(name in parsed)) : FIELDS;
  if (lacking.length) {
    throw new PageError(t("notCertificate", { name: file ? file.name : t("theLink"), fields: lacking.slice(0, 4).join(", ") }));
  }
  return parsed;
}

function when(seconds) {
  const format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" });
  return `${format.format(new Date(seconds * 1000))} UTC`;
}

function facts(rows) {
  return `<dl class="facts">${rows.map(([dt, dd]) => `<dt>${esc(dt)}</dt><dd>${dd}</dd>`).join("")}</dl>`;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button");
  const file = document.getElementById("file").files[0];
  const certFile = document.getElementById("cert").files[0];
  out.className = "result";
  out.textContent = "";
  if (!file) return fail(t("error"), t("noFile"));
  if (!certFile && !linked) return fail(t("error"), t("noCert"));
  button.disabled = true;
  try {
    const certificate = await readCertificate(certFile);
    progress.hidden = false;
    progress.value = 0;
    const digest = await sha256File(file, (done, total) => {
      progress.value = total ? done / total : 1;
      out.textContent = t("hashing", { percent: `${total ? Math.floor((100 * done) / total) : 100}%` });
    });
    if (String(certificate.digest).toLowerCase() !== digest) {
      return fail(t("invalid"), t("otherFile"), facts([
        [t("fileDigest"), `<code>${esc(digest)}</code>`], [t("certDigest"), `<code>${esc(certificate.digest)}</code>`]]));
    }
    out.textContent = t("checking");
    const body = await post("/timestamps/verify", { digest, certificate });
    if (!body.valid) return fail(t("invalid"), t("chainSays", { reason: body.reason }));
    const size = Number(certificate.batch_size) || 1;
    out.className = "result ok";
    out.innerHTML = `<strong>${esc(t("valid"))}</strong> ${esc(t("committedBy", { file: file.name, author: body.author }))}
      ${facts([
        [t("author"), `<code>${esc(body.author)}</code>`],
        [t("stamper"), `<code>${esc(body.stamper)}</code>`],
        [t("time"), `<time datetime="${esc(body.block_time_iso)}">${esc(when(body.block_time))}</time>`],
        [t("block"), esc(body.block_number)],
        [t("transaction"), `<code>${esc(body.tx_hash)}</code>`],
        [t("chain"), esc(body.chain_id)],
        ...(body.finality ? [[t("finality"), `<span id="finality" data-final="${body.finality.final}">${esc(
          t(body.finality.final ? "finalNow" : "notFinal", { count: body.finality.confirmations }))}</span>`]] : []),
        [t("batch"), esc(size > 1 ? t("batchOf", { count: size }) : t("single"))],
        [t("fileDigest"), `<code>${esc(digest)}</code>`],
      ])}`;
  } catch (error) {
    fail(t("error"), error.message);
  } finally {
    button.disabled = false;
  }
});
