// A certificate carried in a link: `<public URL>/verify#cert=<base64url of the certificate JSON>`, the
// link a certificate's QR code holds (ledger/documents/certificate.py `verify_url`). The fragment never
// reaches the server; the verify page checks the certificate against the chain as if it were chosen.

const PREFIX = "cert=";

/** The base64url text (unpadded) as the UTF-8 string it encodes; throws on anything else. */
function fromBase64Url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** The `cert=` text in `url`'s fragment (default: this page's address), undecoded; null when there is none. */
export function certificateLink(url = globalThis.location?.href ?? "") {
  const hash = new URL(url, "http://localhost/").hash.replace(/^#/, "");
  const part = hash.split("&").find((p) => p.startsWith(PREFIX));
  return part === undefined ? null : part.slice(PREFIX.length);
}

/**
 * The certificate in `url`'s fragment (default: this page's address), or null when the link carries none.
 * A damaged one (cut off, not base64url, not a JSON object) throws an Error whose `code` is "damaged".
 */
export function certificateFromUrl(url = globalThis.location?.href ?? "") {
  const text = certificateLink(url);
  if (text === null) return null;
  try {
    const certificate = JSON.parse(fromBase64Url(text));
    if (certificate === null || typeof certificate !== "object" || Array.isArray(certificate)) {
      throw new Error("not a JSON object");
    }
    return certificate;
  } catch (error) {
    const damaged = new Error(`the certificate in this link is damaged: ${error.message}`);
    damaged.code = "damaged";
    throw damaged;
  }
}
