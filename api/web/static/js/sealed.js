// Sealed documents on the bank check page: those the open key can read, opened in this browser.
// The format is docs/sealed-format.md: the file key is unwrapped with HPKE (@hpke/core, DHKEM(X25519) on
// WebCrypto), the chunks are AES-256-GCM (WebCrypto), and the plaintext's SHA-256 must be the header's and a
// record of this asset (the server's match of it against the chain). Nothing is saved unless all of it holds.
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "/vendor/hpke-core/mod.js";
import { get, API } from "./api.js";
import { accountKey, getActive } from "./keys.js";
import { esc, t } from "./messages.js";

const KEM_X25519 = 0x0020;
const enc = new TextEncoder();
const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
const b64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** The account's X25519 secret of key `version` (HKDF-SHA256 of the account key, as ledger/sealing/keys.py). */
async function x25519Secret(account, version) {
  const ikm = await crypto.subtle.importKey("raw", account, "HKDF", false, ["deriveBits"]);
  const info = new Uint8Array([...enc.encode("x25519"), 0, 0, 0, 0]);
  new DataView(info.buffer).setUint32(6, version);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: enc.encode("ipledger sealing keys v1"), info }, ikm, 256);
  return new Uint8Array(bits);
}

function parse(buffer) {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  if (new TextDecoder().decode(bytes.slice(0, 8)) !== "IPLSEAL1") throw new Error(t("sealedNotSealed"));
  const h = view.getUint32(8);
  const headerBytes = bytes.slice(12, 12 + h);
  const r = view.getUint32(12 + h);
  const recipients = JSON.parse(new TextDecoder().decode(bytes.slice(16 + h, 16 + h + r)));
  return { headerBytes, header: JSON.parse(new TextDecoder().decode(headerBytes)), recipients,
           payload: bytes.subarray(16 + h + r) };
}

async function openSealed(buffer, address) {
  const { headerBytes, header, recipients, payload } = parse(buffer);
  const mine = recipients.filter((e) => e.address.toLowerCase() === address.toLowerCase());
  if (!mine.length) throw new Error(t("sealedNotRecipient", { address }));
  const entry = mine.find((e) => e.kem === KEM_X25519);
  if (!entry) throw new Error(t("sealedPq"));
  const documentId = new Uint8Array(await crypto.subtle.digest("SHA-256", headerBytes));
  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const secret = await x25519Secret(await accountKey(), entry.key_version);
  const recipientKey = await suite.kem.importKey("raw", secret, false);
  let fileKey;
  try {
    const context = await suite.createRecipientContext({
      recipientKey, enc: b64(entry.enc), info: new Uint8Array([...enc.encode("ipledger-sealed v1 file key"), ...documentId]),
    });
    fileKey = await context.open(b64(entry.wrapped_key));
  } catch {
    throw new Error(t("sealedWrongKey"));
  }
  const key = await crypto.subtle.importKey("raw", fileKey, "AES-GCM", false, ["decrypt"]);
  const step = header.chunk_size + 16;
  const parts = [];
  for (let i = 0, offset = 0; offset < payload.length || i === 0; i++, offset += step) {
    const chunk = payload.subarray(offset, offset + step);
    const last = offset + step >= payload.length;
    const iv = new Uint8Array(12);
    new DataView(iv.buffer).setUint32(3, Math.floor(i / 2 ** 32));  // iv = 11-byte big-endian counter || last
    new DataView(iv.buffer).setUint32(7, i >>> 0);
    iv[11] = last ? 1 : 0;
    try {
      parts.push(new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: documentId },
                                                            key, chunk)));
    } catch {
      throw new Error(t("sealedTampered", { chunk: i }));
    }
    if (last) break;
  }
  const plain = new Blob(parts);
  const digest = hex(await crypto.subtle.digest("SHA-256", await plain.arrayBuffer()));
  if (digest !== header.plaintext_sha256 || plain.size !== header.plaintext_size) throw new Error(t("sealedHash"));
  return { plain, header };
}

function related(doc, section) {
  const record = doc.record || {};
  const pledges = (section.dataset.pledges || "").split(",").filter(Boolean).map(Number);
  return (record.kind === "asset" && record.id === Number(section.dataset.asset))
    || (record.kind === "pledge" && pledges.includes(record.id));
}

async function list(section) {
  const body = section.querySelector(".sealed-list");
  const status = section.querySelector(".sealed-status");
  const active = getActive();
  body.innerHTML = "";
  if (!active) {
    status.textContent = t("noKey");
    return;
  }
  const docs = (await get("/sealed", { recipient: active.address })).data.filter((d) => related(d, section));
  status.textContent = docs.length ? "" : t("sealedNone", { address: active.address });
  for (const doc of docs) {
    const row = document.createElement("li");
    row.dataset.sealed = doc.sealed_id;
    const what = doc.record.kind === "pledge" ? t("sealedPledge", { id: doc.record.id }) : t("sealedAsset");
    row.innerHTML = `<span>${esc(what)}</span> <span class="mono">SHA-256 ${esc(doc.plaintext_sha256.slice(0, 18))}…</span>
      <span>${esc(t("sealedSize", { size: doc.plaintext_size.toLocaleString() }))}</span>
      <button type="button">${esc(t("sealedOpen"))}</button> <span class="result" role="status"></span>`;
    row.querySelector("button").addEventListener("click", () => open(row, doc, active.address));
    body.append(row);
  }
}

async function open(row, doc, address) {
  const result = row.querySelector(".result");
  result.className = "result";
  result.textContent = t("sealedOpening");
  try {
    const info = await get(`/sealed/${doc.sealed_id}/info`);
    const matches = info.matches || [];
    if (!matches.length) throw new Error(t("sealedNotOnLedger"));
    const response = await fetch(`${API}/sealed/${doc.sealed_id}`);
    if (!response.ok) throw new Error(t("network"));
    const { plain, header } = await openSealed(await response.arrayBuffer(), address);
    if ("0x" + header.plaintext_sha256 !== info.plaintext_sha256) throw new Error(t("sealedHash"));
    const link = document.createElement("a");
    link.href = URL.createObjectURL(plain);
    link.download = `sealed-${header.plaintext_sha256.slice(0, 12)}.pdf`;
    link.textContent = t("sealedSave");
    result.className = "result ok";
    const records = matches.map((m) => t({ asset: "sealedMatchAsset", pledge: "sealedMatchPledge",
                                           stamp: "sealedMatchStamp" }[m.kind] || m.kind, { id: m.id }));
    result.textContent = t("sealedOpened", { records: records.join("; ") }) + " ";
    result.append(link);
    link.click();
  } catch (error) {
    result.className = "result bad";
    result.textContent = error.message;
  }
}

const section = document.getElementById("sealed-docs");
if (section) {
  let listedFor;
  const refresh = () => {
    const address = getActive()?.address;
    if (address === listedFor) return;  // unlocking the same key (to open a document) keeps the list and results
    listedFor = address;
    list(section).catch((error) => {
      section.querySelector(".sealed-status").textContent = error.message;
    });
  };
  window.addEventListener("ipledger:key", refresh);
  refresh();
}
