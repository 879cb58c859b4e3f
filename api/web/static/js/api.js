// The JSON API (/api/v1) from the browser: problems (RFC 9457) become ProblemError with a message in
// the page's language, a lost connection becomes one too; a page never shows a raw body or a stack.
// Every call states the page's language (Accept-Language), so the API words its refusals (`title`,
// `detail`: the ledger's reason with its numbers, addresses and amounts) in that language.
import { lang, t } from "./messages.js";

export const API = "/api/v1";

export class ProblemError extends Error {
  constructor(message, status = 0, problem = {}) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

const zh = lang.startsWith("zh");
const colon = zh ? "：" : ": ";
const aside = (text) => (zh ? `（${text}）` : ` (${text})`);

/** The headline a status means to the user, then the API's reason (already in the page's language). */
function explain(status, problem) {
  const detail = typeof problem.detail === "string" ? problem.detail : "";
  const ours = typeof problem.type === "string" && problem.type.startsWith("urn:ipledger:problem:");
  const said = (headline) => (detail ? `${headline}${colon}${detail}` : headline);
  const malformed = ours && problem.type.endsWith(":invalid-request");  // the body's shape, not a rule of the ledger
  if ((status === 409 || status === 403 || status === 422) && !malformed) return said(t("refused"));
  if (status === 503 || status === 504) return ours && detail ? t("unavailable") + aside(detail) : t("unavailable");
  if (status >= 500 && !ours) return t("unavailable");  // a proxy's page, not ours: its text means nothing here
  if (status === 400 || malformed || !ours || !problem.title) return said(t("badRequest"));
  return said(problem.title);  // 404, 413, 429, 502, 500: the API's own title, in the page's language
}

async function call(path, init) {
  let response;
  try {
    response = await fetch(API + path, {
      ...init, headers: { Accept: "application/json", "Accept-Language": lang, ...(init.headers || {}) },
    });
  } catch (error) {
    throw new ProblemError(t("network"), 0, { detail: String(error) });
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const problem = body && typeof body === "object" ? body : {};
    throw new ProblemError(explain(response.status, problem), response.status, problem);
  }
  if (body === null) throw new ProblemError(t("unavailable"), response.status, {});
  return body;
}

/** What to tell the user about a failed act: a ProblemError's message already says the ledger's reason in the
 *  page's language (the API translates it from the same catalog as every page); anything else its own message. */
export function reasonOf(error) {
  return error?.message || String(error);
}

export function get(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  return call(query.size ? `${path}?${query}` : path, { method: "GET" });
}

export function post(path, body) {
  return call(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

/** POST raw bytes (a Blob: a sealed file to /sealed) as application/octet-stream. */
export function postBytes(path, blob) {
  return call(path, { method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: blob });
}
