// The page's translated strings: base.html and each page put them in <script type="application/json">
// elements (rendered from the gettext catalogs), so scripts never hold text of their own.
const merged = {};
for (const id of ["ipledger-messages", "page-messages", "sealed-messages"]) {
  const element = document.getElementById(id);
  if (element) Object.assign(merged, JSON.parse(element.textContent));
}

export const lang = document.documentElement.lang || "en";
const plurals = new Intl.PluralRules(lang);

/**
 * The translated string `key`, with `{name}` placeholders filled from `values`. A message with plural forms
 * (`plural_forms` in the template: `{"one": ..., "other": ...}`, the page language's categories) is read in
 * the form of `values.count`.
 */
export function t(key, values = {}) {
  let text = merged[key] ?? key;
  if (typeof text === "object" && text !== null) {
    text = text[plurals.select(Number(values.count))] ?? text.other ?? Object.values(text)[0] ?? key;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** Text made safe for innerHTML. */
export const esc = (value) => String(value ?? "").replace(/[&<>"']/g,
  (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
