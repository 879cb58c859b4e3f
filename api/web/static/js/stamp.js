// Stamp files as their author: hashed here (streaming), committed with a fresh salt here, signed here
// and relayed; one transaction for any number of files (stampBatch over a StandardMerkleTree). The
// certificates are the CLI's (`ipledger verify FILE CERT` accepts them) and are downloaded as files.
//
// Nothing is lost and nothing overwritten: the batch (salts, proofs) is kept in this browser before it
// is sent, so certificates are recovered after a crash; a file whose content already has a certificate
// by the same author that stands on this chain (one kept in this browser, or given beside the file) is
// not stamped again; a changed file's new certificate gets the next name (`<file>.ipledger.2.json`).
//
// By default the commitments go to the server's stamp service (POST /api/v1/stamps). The service sends the
// stamp, so the author signs the batch's root once (EIP-712 Authorship(bytes32 root)): that signature, in each
// certificate, is what proves the author. The service's EIP-712 receipts are checked against its published
// address, and each certificate is completed here from the proof of the round that anchored the leaf
// (GET /api/v1/stamps/{leaf}?wait=): the same format as every certificate.
import { verifyTypedData } from "/vendor/ethers.js";
import { ProblemError, get, post } from "./api.js";
import { sha256File } from "./hash.js";
import { getActive, signer } from "./keys.js";
import { esc, lang, t } from "./messages.js";
import {
  MerkleTree, certificate, certificateName, certificateNumber, certificateText, commitment, isCertificateName,
  newSalt,
} from "./proofs.js";
import { act } from "./relay.js";

const JOURNAL = "ipledger.certificates";  // [{name, certificate}] issued in this browser
const PENDING = "ipledger.pending-stamps";  // batches signed or about to be, kept until their certificates exist
const FORGET_UNSENT_AFTER = 30 * 60 * 1000;  // a pending batch the chain never recorded, past any deadline

const form = document.getElementById("stamp-form");
const input = document.getElementById("files");
const progress = document.getElementById("progress");
const status = document.getElementById("status");
const results = document.getElementById("results");

const load = (key) => {
  try {
    return JSON.parse(localStorage.getItem(key) || "[]");
  } catch {
    return [];
  }
};
const store = (key, value) => localStorage.setItem(key, JSON.stringify(value));

function say(kind, html) {
  status.className = `result ${kind}`;
  status.innerHTML = html;
}

function downloadLink(name, cert) {
  const url = URL.createObjectURL(new Blob([certificateText(cert)], { type: "application/json" }));
  return `<a class="button" href="${url}" download="${esc(name)}">${esc(t("download", { name }))}</a>
    <button type="button" class="pdf" data-name="${esc(name)}">${esc(t("downloadPdf"))}</button>`;
}

const pdfs = new Map();  // certificate file name -> certificate, for the PDF buttons of the table shown

/** The certificate as a printable PDF (QR code to the verify page, the JSON attached), rendered by the API
 *  from the certificate alone: the file itself never leaves the browser. */
async function downloadPdf(button) {
  const cert = pdfs.get(button.dataset.name);
  button.disabled = true;
  try {
    const language = lang.startsWith("zh") ? "zh" : "en";
    let response;
    try {
      response = await fetch(`/api/v1/certificates/render?lang=${language}&format=pdf`, {
        method: "POST", headers: { "Content-Type": "application/json", "Accept-Language": lang },
        body: certificateText(cert),
      });
    } catch {
      throw new Error(t("network"));
    }
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch { /* not JSON: the status says enough */ }
      throw new Error(detail);
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = button.dataset.name.replace(/\.json$/, ".pdf");
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    say("bad", `<strong>${esc(t("pdfFailed"))}</strong> ${esc(error.message)}`);
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest?.("button.pdf");
  if (button) downloadPdf(button);
});

const timeFormat = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" });

function when(cert) {
  return t("blockAt", { block: cert.block_number, time: `${timeFormat.format(new Date(cert.block_time * 1000))} UTC` });
}

function show(rows) {
  for (const r of rows) pdfs.set(r.name, r.cert);
  results.innerHTML = rows.length ? `<div class="table-wrap"><table>
    <caption class="visually-hidden">${esc(t("certificates"))}</caption>
    <thead><tr><th scope="col">${esc(t("file"))}</th><th scope="col">${esc(t("outcome"))}</th>
      <th scope="col">${esc(t("certificate"))}</th></tr></thead>
    <tbody>${rows.map((r) => `<tr><td>${esc(r.file)}</td><td>${r.outcome}</td><td>${downloadLink(r.name, r.cert)}</td></tr>`).join("")}</tbody>
  </table></div>` : "";
}

/** Earlier certificates: those issued in this browser and those given with the files. */
async function earlierCertificates(given) {
  const found = load(JOURNAL).map((entry) => ({ ...entry, given: false }));
  for (const file of given) {
    try {
      const cert = JSON.parse(await file.text());
      if (cert && typeof cert === "object" && cert.digest && cert.author) found.push({ name: file.name, certificate: cert, given: true });
    } catch {
      // not a certificate: not ours to judge here, left alone
    }
  }
  return found;
}

/** The earliest of `candidates` that stands on this chain for `digest`, or null. */
async function standing(digest, candidates) {
  if (!candidates.length) return null;
  const answer = await post("/timestamps/verify-batch", candidates.map((c) => ({ digest, certificate: c.certificate })));
  const valid = candidates.filter((_, i) => answer.data[i].valid);
  valid.sort((a, b) => a.certificate.block_number - b.certificate.block_number);
  return valid[0] ?? null;
}

let stampService = null;  // GET /stamps/service, or null when the server runs none

async function findService() {
  try {
    stampService = await get("/stamps/service");
  } catch {
    stampService = null;
    const radio = form.querySelector("input[name=how][value=service]");
    radio.disabled = true;
    form.querySelector("input[name=how][value=chain]").checked = true;
    radio.parentElement.title = t("serviceMissing");
  }
}

/** Certificates from the stamp service's answers: each leaf's round root, proof and transaction. */
async function issueFromService(batch) {
  const certs = [];
  for (const item of batch.items) {
    let answer = await get(`/stamps/${item.leaf}`, { wait: 30 });
    while (answer.status !== "anchored") answer = await get(`/stamps/${item.leaf}`, { wait: 30 });
    const round = { author: batch.author, root: answer.root, batch_size: answer.batch_size };
    const authorship = batch.authorship_signature
      ? { root: batch.root, proof: item.proof, signature: batch.authorship_signature } : undefined;
    certs.push({ name: item.certificate_name,
                 certificate: certificate(answer, round, { ...item, proof: answer.proof, authorship }) });
  }
  return certs;
}

/** Certificates from what the chain records for the batch's root (never from what was hoped). */
async function issue(batch) {
  if (batch.service) return keep(batch, await issueFromService(batch));
  return keep(batch, await issueFromChain(batch));
}

function keep(batch, certs) {
  store(JOURNAL, [...load(JOURNAL).filter((e) => !certs.some((c) => c.certificate.leaf === e.certificate.leaf)), ...certs]);
  store(PENDING, load(PENDING).filter((p) => p.root !== batch.root));
  return certs;
}

/** The author's EIP-712 signature of Authorship(root) over the batch's own root, in the domain of the service's
 *  chain and TimestampRegistry (ledger/timestamps/proofs.py `authorship_domain`): one signature a batch. */
async function signAuthorship(who, batch) {
  const domain = { name: "ipledger timestamps", version: "1", chainId: stampService.domain.chainId,
                   verifyingContract: stampService.domain.verifyingContract };
  const types = { Authorship: [{ name: "root", type: "bytes32" }] };
  const message = { root: batch.root };
  const typed_data = {
    types: { EIP712Domain: [{ name: "name", type: "string" }, { name: "version", type: "string" },
                            { name: "chainId", type: "uint256" }, { name: "verifyingContract", type: "address" }],
             ...types },
    domain, primaryType: "Authorship", message,
  };
  return (await who.signTypedData({ domain, types, message, typed_data })).toLowerCase();
}

/** Submit the batch's leaves to the stamp service; its receipts must be signed by its published address. */
async function submitToService(batch) {
  say("", esc(t("serviceSubmitting", { count: batch.items.length })));
  const step = stampService.max_leaves_per_request;
  const leaves = batch.items.map((item) => item.leaf);
  const receipts = [];
  for (let i = 0; i < leaves.length; i += step) receipts.push(...(await post("/stamps", { leaves: leaves.slice(i, i + step) })).data);
  for (const r of receipts) {
    const signer = verifyTypedData(stampService.domain, stampService.types,
                                   { leaf: r.leaf, receivedAt: r.received_at_ms, round: r.round }, r.signature);
    if (signer !== stampService.address) throw new Error(t("serviceReceipt"));
  }
  say("", esc(t("serviceWaiting", { round: Math.max(...receipts.map((r) => r.round)) })));
}

async function issueFromChain(batch) {
  const record = await get(`/timestamps/${batch.root}`);
  return batch.items.map((item) => ({ name: item.certificate_name, certificate: certificate(record, batch, item) }));
}

function fileNameOf(path) {
  return path.split(/[\\/]/).pop();
}

async function stamp(selected) {
  const who = await signer();
  const author = who.address;
  const given = selected.filter((f) => isCertificateName(f.name));
  const files = selected.filter((f) => !isCertificateName(f.name));
  if (!files.length) throw new Error(t(given.length ? "onlyCertificates" : "nothing"));
  const earlier = await earlierCertificates(given);

  const total = files.reduce((sum, f) => sum + f.size, 0);
  let before = 0;
  progress.hidden = false;
  const digests = [];
  for (const file of files) {
    digests.push(await sha256File(file, (done) => {
      const fraction = total ? (before + done) / total : 1;
      progress.value = fraction;
      say("", esc(t("hashing", { file: file.name, percent: `${Math.floor(fraction * 100)}%` })));
    }));
    before += file.size;
  }

  say("", esc(t("checkingEarlier")));
  const rows = [];
  const todo = [];
  const taken = new Map();  // file name -> the highest certificate number known
  for (const e of earlier) {
    const base = e.certificate.file_name;
    const number = base ? certificateNumber(base, e.name) : null;
    if (number) taken.set(base, Math.max(taken.get(base) ?? 0, number));
  }
  for (const [i, file] of files.entries()) {
    const mine = earlier.filter((e) => e.certificate.digest === digests[i] && e.certificate.author === author);
    const stands = await standing(digests[i], mine);
    if (stands) {
      rows.push({ file: file.name, name: stands.name, cert: stands.certificate,
                  outcome: `<span class="badge warn">${esc(t("kept"))}</span> ${esc(t("keptWhy", { when: when(stands.certificate) }))}` });
      continue;
    }
    const number = (taken.get(file.name) ?? 0) + 1;
    taken.set(file.name, number);
    todo.push({ file, digest: digests[i], number });
  }

  if (todo.length) {
    const items = todo.map(({ file, digest, number }) => {
      const salt = newSalt();
      return { file_name: fileNameOf(file.name), certificate_name: certificateName(file.name, number), digest, salt,
               leaf: commitment(digest, author, salt) };
    });
    const tree = new MerkleTree(items.map((item) => item.leaf));
    items.forEach((item, i) => { item.proof = tree.proof(i); });
    const viaService = Boolean(stampService) && form.querySelector("input[name=how]:checked")?.value === "service";
    const batch = { root: tree.root, author, batch_size: items.length, items, created: Date.now(), service: viaService };
    if (viaService) batch.authorship_signature = await signAuthorship(who, batch);  // declined: nothing sent
    store(PENDING, [...load(PENDING), batch]);  // before anything is sent: a certificate needs its salt
    const single = batch.batch_size === 1;
    if (viaService) {
      try {
        await submitToService(batch);
      } catch (error) {
        const unanswered = error instanceof ProblemError && (error.status === 0 || error.status >= 500);
        if (!unanswered) store(PENDING, load(PENDING).filter((p) => p.root !== batch.root));
        throw unanswered ? new Error(`${error.message} ${t("pendingKept")}`) : error;
      }
    } else try {
      await act("TimestampRegistry", single ? "stamp" : "stampBatch", single ? [items[0].leaf] : [batch.root, batch.batch_size],
                (text) => say("", esc(text)));
    } catch (error) {
      const already = error instanceof ProblemError && error.problem.error === "TimestampRegistryAlreadyStamped"
        && String(error.problem.arguments?.key).toLowerCase() === batch.root;
      if (!already) {
        // Refused or declined: never sent, nothing to keep. Unanswered (a lost connection, a server error):
        // it may have gone out, so its salts stay here and the next visit recovers its certificates.
        const unanswered = error instanceof ProblemError && (error.status === 0 || error.status >= 500);
        if (!unanswered) store(PENDING, load(PENDING).filter((p) => p.root !== batch.root));
        throw unanswered ? new Error(`${error.message} ${t("pendingKept")}`) : error;
      }
    }
    say("", esc(t("writing")));
    let issued;
    try {
      issued = await issue(batch);
    } catch (error) {
      throw new Error(`${error.message} ${t("pendingKept")}`);  // sent: the batch stays for recovery
    }
    for (const c of issued) {
      rows.push({ file: c.certificate.file_name, name: c.name, cert: c.certificate,
                  outcome: `<span class="badge ok">${esc(t("stamped"))}</span> ${esc(when(c.certificate))}` });
    }
  }
  return { rows, stamped: todo.length, kept: files.length - todo.length };
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  results.innerHTML = "";
  try {
    const { rows, stamped, kept } = await stamp([...input.files]);
    show(rows);
    say(stamped ? "ok" : "warn", `<strong>${esc(t(stamped ? "done" : "nothingSent"))}</strong> ${esc(t("summary", { stamped, kept }))}`
      + (kept ? ` ${esc(t("keptNote"))}` : ""));
  } catch (error) {
    const link = getActive() ? "" : ` <a href="/keys">${esc(t("goKeys"))}</a>`;
    say("bad", `<strong>${esc(t("error"))}</strong> ${esc(error?.message || error)}${link}`);
  } finally {
    button.disabled = false;
    progress.hidden = true;
  }
});

/** Batches this browser signed whose certificates were not written (a crash, a closed tab): recover them. */
async function recover() {
  const rows = [];
  for (const batch of load(PENDING)) {
    try {
      for (const c of await issue(batch)) {
        rows.push({ file: c.certificate.file_name, name: c.name, cert: c.certificate,
                    outcome: `<span class="badge ok">${esc(t("recovered"))}</span> ${esc(when(c.certificate))}` });
      }
    } catch (error) {
      if (error instanceof ProblemError && error.status === 404 && Date.now() - batch.created > FORGET_UNSENT_AFTER) {
        store(PENDING, load(PENDING).filter((p) => p.root !== batch.root));  // never recorded: nothing to recover
      }
    }
  }
  if (rows.length) {
    show(rows);
    say("ok", esc(t("recoveredNote")));
  }
}

if (!getActive()) say("warn", `${esc(t("noKey"))} <a href="/keys">${esc(t("goKeys"))}</a>`);
findService();
recover();
