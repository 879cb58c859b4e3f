// Register an asset from the browser: the content hashed here, the metadata document built and hashed
// here exactly as `ipledger asset register` builds it (canonical JSON: sorted keys, compact, UTF-8), the
// act checked with the ledger before anything is stored, then the document published and the
// registration signed here and relayed. A refusal (content or number taken, a bad number) changes nothing.
// With "Seal the full document to", the file is then sealed here to the owner and those accounts' published
// keys (sealing.js, docs/sealed-format.md) and stored on the server as ciphertext: a bank opens it on the
// asset's check page. Every recipient's key is checked before anything is registered.
import { ProblemError, post } from "./api.js";
import { sha256File } from "./hash.js";
import { getActive, signer } from "./keys.js";
import { esc, t } from "./messages.js";
import { act, eventOf } from "./relay.js";
import { recipientKeys, sealFile, storeSealed } from "./sealing.js";

const SCHEMA = JSON.parse(document.getElementById("metadata-schema").textContent);
const form = document.getElementById("register-form");
const out = document.getElementById("result");
const progress = document.getElementById("progress");

function say(kind, html) {
  out.className = `result ${kind}`;
  out.innerHTML = html;
}

/** ledger.encoding.encode_ref's spelling: upper case, no spaces; empty is no number. */
const cleanRef = (text) => text.trim().toUpperCase().replaceAll(" ", "");

/** ledger.registry.metadata.build_document. */
function buildDocument({ title, kind, ref, description, meta }) {
  const extra = {};
  for (const line of meta.split("\n").filter((l) => l.trim())) {
    const at = line.indexOf("=");
    if (at < 0 || !line.slice(0, at).trim()) throw new Error(t("badMeta", { line }));
    extra[line.slice(0, at).trim()] = line.slice(at + 1);
  }
  const doc = { schema: SCHEMA, ...extra, title: title.trim() };
  if (kind) doc.kind = kind;
  if (ref) doc.ref = ref;
  if (description.trim()) doc.description = description.trim();
  return doc;
}

/** ledger.registry.metadata.canonical_bytes: sorted keys, no whitespace, UTF-8 (integers only). */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

async function sha256Hex(text) {
  const bytes = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return "0x" + [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function refusal(error) {
  const problem = error instanceof ProblemError ? error.problem : {};
  const id = problem.arguments?.assetId;
  const known = { IPRegistryContentAlreadyRegistered: "contentTaken", IPRegistryRefAlreadyRegistered: "refTaken" }[problem.error];
  if (known && id) {
    return `<strong>${esc(t(known, { id }))}</strong><br>${esc(error.message)} <a href="/assets/${esc(id)}">${esc(t("seeAsset", { id }))}</a>`;
  }
  const link = getActive() ? "" : ` <a href="/keys">${esc(t("goKeys"))}</a>`;
  return `<strong>${esc(t("error"))}</strong> ${esc(error?.message || error)}${link}`;
}

/** The co-owners typed one per line as ADDRESS:SHARE (basis points); none: not co-owned. */
function coOwners(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const match = /^(0x[0-9a-fA-F]{40})\s*:\s*(\d{1,5})$/.exec(line);
    if (!match) throw new Error(t("badCoOwner", { line }));
    return { account: match[1], bps: Number(match[2]) };
  });
}

/** The accounts to seal the full document to, one address per line (the owner is added); none: not sealed. */
function sealTo(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    if (!/^0x[0-9a-fA-F]{40}$/.test(line)) throw new Error(t("badSealTo", { line }));
    return line;
  });
}

const KEY_MESSAGES = {
  noKey: (address) => t("noSealKey", { address }),
  revoked: (address, version) => t("revokedSealKey", { address, version }),
};

/** Seal the registered file to `keys` and store it; a sentence saying so (or why not: the asset stays registered). */
async function sealRegistered(file, keys, contentHash, sealer, id) {
  try {
    say("", esc(t("sealing")));
    const { blob } = await sealFile(file, keys, { sha256: contentHash, sealer, record: { kind: "asset", id: Number(id) } });
    const stored = await storeSealed(blob);
    return ["ok", `<br><span class="sealed-stored">${esc(t("sealedStored", { count: keys.length, id: stored.sealed_id }))}</span>`];
  } catch (error) {
    return ["warn", `<br><span class="sealed-failed">${esc(t("sealFailed", { reason: error?.message || error }))}</span>`];
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const who = await signer();
    const fields = Object.fromEntries(new FormData(form).entries());
    const file = form.elements.content.files[0];
    const ref = cleanRef(fields.ref);
    const doc = buildDocument({ ...fields, ref });
    const text = canonical(doc);
    const metadataHash = await sha256Hex(text);
    progress.hidden = false;
    const contentHash = await sha256File(file, (done, total) => {
      progress.value = total ? done / total : 1;
      say("", esc(t("hashing", { percent: `${total ? Math.floor((100 * done) / total) : 100}%` })));
    });
    const args = { contentHash, kind: fields.kind, ref, metadataHash, uri: `/metadata/${metadataHash}` };
    // Co-owned: the CoOwnership contract registers it for the shares, with no agreement beyond the defaults.
    const shares = coOwners(fields.coowners || "");
    const sealing = sealTo(fields.sealto || "");
    // every recipient's published key (the owner's too) before anything is registered
    const keys = sealing.length
      ? await recipientKeys([...new Map([who.address, ...sealing].map((a) => [a.toLowerCase(), a])).values()],
                            KEY_MESSAGES)
      : [];
    const [contract, full] = shares.length
      ? ["CoOwnership", { ...args, shares, agreement: { hash: null, flags: 0 } }] : ["IPRegistry", args];
    say("", esc(t("checking")));
    // The ledger's refusal, if any, before the description is published or anything is signed.
    await post("/relay/prepare", { from: who.address, contract, function: "register", args: full });
    say("", esc(t("storing")));
    const stored = await post("/metadata", doc);
    if (stored.hash !== metadataHash) throw new Error(t("hashMismatch"));
    const relayed = await act(contract, "register", { ...full, uri: stored.uri }, (status) => say("", esc(status)));
    // (the relay decodes the called contract's events: the CoOwnership's names the asset in CoOwnersSet)
    const id = eventOf(relayed, shares.length ? "CoOwnersSet" : "AssetRegistered").args.assetId;
    const done = shares.length ? t("registeredCoOwned", { id }) : t("registered", { id, address: who.address });
    const [kind, sealed] = keys.length ? await sealRegistered(file, keys, contentHash, who.address, id) : ["ok", ""];
    say(kind, `<strong>${esc(done)}</strong>${sealed}
      <a class="button" href="/assets/${esc(id)}">${esc(t("open"))}</a>`);
    form.reset();
  } catch (error) {
    say("bad", refusal(error));
  } finally {
    button.disabled = false;
    progress.hidden = true;
  }
});

if (!getActive()) say("warn", `${esc(t("noKey"))} <a href="/keys">${esc(t("goKeys"))}</a>`);
