// The page's translated strings: base.html and each page put them in <script type="application/json">
// elements (rendered from the gettext catalogs), so scripts never hold text of their own.
const merged = {};
for (const id of ["ipledger-messages", "page-messages", "sealed-messages"]) {
  const element = document.getElementById(id);
  if (element) Object.assign(merged, JSON.parse(element.textContent));
}

/** The translated string `key`, with `{name}` placeholders filled from `values`. */
export function t(key, values = {}) {
  const text = merged[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** Text made safe for innerHTML. */
export const esc = (value) => String(value ?? "").replace(/[&<>"']/g,
  (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

export const lang = document.documentElement.lang || "en";
