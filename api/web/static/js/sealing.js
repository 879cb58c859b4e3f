// Seal a file in the browser (docs/sealed-format.md, version 2), as `ipledger seal` does: one fresh 256-bit
// file key, the file encrypted in 64 KiB AES-256-GCM chunks (WebCrypto; STREAM nonces: 11-byte counter ||
// last-chunk flag; associated data the document id), the file key wrapped for each recipient's published
// X25519 key with HPKE base mode (@hpke/core: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM).
// The sealed bytes are a Blob, stored on the server as ciphertext only: no key and no plaintext leave here.
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "/vendor/hpke-core/mod.js";
import { get, postBytes } from "./api.js";

const KEM_X25519 = 0x0020;
const CHUNK_SIZE = 64 * 1024;
const WRAP_INFO = "ipledger-sealed v1 file key";  // the same label in version 2
const enc = new TextEncoder();
const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text) => Uint8Array.from(text.replace(/^0x/, "").match(/../g) || [], (h) => parseInt(h, 16));
const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));

/** Canonical JSON as the Python side writes it: sorted keys, no spaces (strings and integers only). */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The latest published key of each address (GET /keys/{address}); an Error naming the first without a usable one. */
export async function recipientKeys(addresses, messages) {
  const keys = [];
  for (const address of addresses) {
    let key;
    try {
      key = await get(`/keys/${address}`);
    } catch (error) {
      if (error.status === 404) throw new Error(messages.noKey(address));
      throw error;
    }
    if (key.revoked) throw new Error(messages.revoked(address, key.version));
    keys.push({ address: key.address, version: key.version, x25519: unhex(key.x25519) });
  }
  return keys;
}

function nonceOf(counter, last) {
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setUint32(3, Math.floor(counter / 2 ** 32));
  new DataView(iv.buffer).setUint32(7, counter >>> 0);
  iv[11] = last ? 1 : 0;
  return iv;
}

/** `file` (a File) sealed to `keys` (recipientKeys): the sealed file as a Blob. `sha256` is its 0x digest,
 * already computed (the content hash): the header names it, and the reader checks it. */
export async function sealFile(file, keys, { sha256, sealer = "", record = null, onProgress = () => {} }) {
  const header = {
    format: "ipledger-sealed", version: 2, aead: "AES-256-GCM", chunk_size: CHUNK_SIZE,
    plaintext_sha256: sha256.replace(/^0x/, "").toLowerCase(), plaintext_size: file.size, sealer,
    nonce: hex(crypto.getRandomValues(new Uint8Array(32))),
  };
  if (record) header.record = record;
  const headerBytes = enc.encode(canonical(header));
  const documentId = new Uint8Array(await crypto.subtle.digest("SHA-256", headerBytes));
  const fileKey = crypto.getRandomValues(new Uint8Array(32));
  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const info = new Uint8Array([...enc.encode(WRAP_INFO), ...documentId]);
  const entries = [];
  for (const key of keys) {
    const recipientPublicKey = await suite.kem.importKey("raw", key.x25519.buffer, true);
    const { ct, enc: encapsulated } = await suite.seal({ recipientPublicKey, info }, fileKey);
    entries.push({ address: key.address, kem: KEM_X25519, key_version: key.version, enc: b64(encapsulated),
                   wrapped_key: b64(ct) });
  }
  const recipientBytes = enc.encode(canonical(entries));
  const preamble = new Uint8Array(16 + headerBytes.length + recipientBytes.length);
  const view = new DataView(preamble.buffer);
  preamble.set(enc.encode("IPLSEAL1"), 0);
  view.setUint32(8, headerBytes.length);
  preamble.set(headerBytes, 12);
  view.setUint32(12 + headerBytes.length, recipientBytes.length);
  preamble.set(recipientBytes, 16 + headerBytes.length);
  const aesKey = await crypto.subtle.importKey("raw", fileKey, "AES-GCM", false, ["encrypt"]);
  const parts = [preamble];
  // one chunk read at a time; an empty file is one empty, last chunk
  for (let i = 0, offset = 0; offset < file.size || i === 0; i++, offset += CHUNK_SIZE) {
    const last = offset + CHUNK_SIZE >= file.size;
    const plain = new Uint8Array(await file.slice(offset, offset + CHUNK_SIZE).arrayBuffer());
    parts.push(new Uint8Array(await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonceOf(i, last), additionalData: documentId }, aesKey, plain)));
    onProgress(Math.min(file.size, offset + CHUNK_SIZE), file.size);
    if (last) break;
  }
  fileKey.fill(0);
  return { blob: new Blob(parts, { type: "application/octet-stream" }), documentId: "0x" + hex(documentId) };
}

/** Store a sealed Blob on the server (POST /sealed): its sealed id and recipients. */
export function storeSealed(blob) {
  return postBytes("/sealed", blob);
}
