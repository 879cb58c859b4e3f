// The header's key indicator: which account acts from this browser (keystore or wallet), if any.
import { getActive, keystores } from "./keys.js";
import { t } from "./messages.js";

function show() {
  const element = document.getElementById("key-status");
  if (!element) return;
  const active = getActive();
  if (!active) {
    element.textContent = "";
    return;
  }
  const name = active.kind === "wallet" ? t("wallet") : keystores().find((k) => k.address === active.address)?.name;
  element.textContent = `${name ?? ""} ${active.address.slice(0, 6)}…${active.address.slice(-4)}`.trim();
  element.title = active.address;
}
window.addEventListener("ipledger:key", show);
show();
