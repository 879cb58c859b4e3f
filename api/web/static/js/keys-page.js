// My key: create, import, export, choose and forget the keystores kept in this browser; connect a wallet.
// Keys and passwords stay in this page: nothing here talks to the server.
import {
  connectWallet, createKeystore, exportKeystore, forgetKeystore, getActive, hasWallet, importKeystore,
  keystores, lock, setActive,
} from "./keys.js";
import { esc, t } from "./messages.js";

const rows = document.getElementById("key-rows");
const table = document.getElementById("key-table");
const none = document.getElementById("no-keys");
const keysResult = document.getElementById("keys-result");

function say(element, kind, text) {
  element.className = `result ${kind}`;
  element.textContent = text;
}

function fail(element, error) {
  element.className = "result bad";
  element.innerHTML = `<strong>${esc(t("error"))}</strong> ${esc(error?.message || error)}`;
}

function button(label, action, extra = "") {
  return `<button type="button" data-action="${action}" ${extra}>${esc(label)}</button>`;
}

function render() {
  const list = keystores();
  const active = getActive();
  table.hidden = list.length === 0;
  none.hidden = list.length !== 0;
  rows.innerHTML = list.map((k) => {
    const inUse = active?.kind === "keystore" && active.address === k.address;
    return `<tr data-address="${esc(k.address)}">
      <td>${esc(k.name)} ${inUse ? `<span class="badge ok">${esc(t("active"))}</span>` : ""}</td>
      <td class="address">${esc(k.address)}</td>
      <td><div class="actions">
        ${inUse ? button(t("lock"), "lock") : button(t("use"), "use")}
        ${button(t("download"), "download")}
        ${button(t("forget"), "forget")}
      </div></td></tr>`;
  }).join("");
  if (active?.kind === "wallet") {
    rows.insertAdjacentHTML("beforeend", `<tr><td>${esc(t("walletAccount"))}
      <span class="badge ok">${esc(t("active"))}</span></td><td class="address">${esc(active.address)}</td>
      <td><div class="actions">${button(t("disconnect"), "disconnect")}</div></td></tr>`);
    table.hidden = false;
    none.hidden = true;
  }
}

/** Save the keystore as `<name>.json`: the file `ipledger account import` takes (named after it). */
function download(entry) {
  const url = URL.createObjectURL(new Blob([entry.json], { type: "application/json" }));
  const link = Object.assign(document.createElement("a"), { href: url, download: `${entry.name}.json` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

rows.addEventListener("click", (event) => {
  const target = event.target.closest("button[data-action]");
  if (!target) return;
  if (target.dataset.action === "disconnect") {
    setActive(null);
    say(keysResult, "ok", t("disconnected"));
    return render();
  }
  const row = target.closest("tr");
  const address = row.dataset.address;
  const entry = keystores().find((k) => k.address === address);
  if (!entry) return render();
  switch (target.dataset.action) {
    case "use":
      setActive({ kind: "keystore", address });
      say(keysResult, "ok", t("nowActive", { name: entry.name, address }));
      break;
    case "lock":
      lock();
      say(keysResult, "ok", t("locked"));
      break;
    case "download":
      download(exportKeystore(address));
      break;
    case "forget": {
      const cell = target.closest("td");
      if (cell.querySelector(".confirm")) return;
      cell.insertAdjacentHTML("beforeend", `<div class="confirm" role="alert"><p>${esc(t("forgetConfirm", { name: entry.name }))}</p>
        <div class="actions">${button(t("forgetYes"), "forget-yes", 'class="primary"')}${button(t("forgetNo"), "forget-no")}</div></div>`);
      cell.querySelector("[data-action=forget-no]").focus();
      return;
    }
    case "forget-yes":
      forgetKeystore(address);
      say(keysResult, "ok", t("forgotten", { name: entry.name }));
      break;
    case "forget-no":
      target.closest(".confirm").remove();
      return;
    default:
      return;
  }
  render();
});

function progressOf(element, out, key) {
  element.hidden = false;
  element.value = 0;
  return (fraction) => {
    element.value = fraction;
    out.className = "result";
    out.textContent = t(key, { percent: `${Math.floor(fraction * 100)}%` });
  };
}

async function busy(form, work) {
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  try {
    await work();
  } finally {
    submit.disabled = false;
    form.querySelectorAll("progress").forEach((p) => { p.hidden = true; });
  }
}

const createForm = document.getElementById("create-form");
const createResult = document.getElementById("create-result");
createForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const name = createForm.elements.name.value.trim();
  const password = createForm.elements.password.value;
  if (password !== createForm.elements.password2.value) return say(createResult, "bad", t("mismatch"));
  return busy(createForm, async () => {
    try {
      const address = await createKeystore(name, password,
        progressOf(document.getElementById("create-progress"), createResult, "encrypting"));
      createForm.reset();
      say(createResult, "ok", t("created", { name, address }));
    } catch (error) {
      fail(createResult, error);
    }
    render();
  });
});

const importForm = document.getElementById("import-form");
const importResult = document.getElementById("import-result");
const importFile = document.getElementById("import-file");
importFile.addEventListener("change", () => {
  const file = importFile.files[0];
  const nameInput = importForm.elements.name;
  if (file && !nameInput.value) nameInput.value = file.name.replace(/\.json$/i, "").replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 64);
});
importForm.addEventListener("submit", (event) => {
  event.preventDefault();
  return busy(importForm, async () => {
    try {
      const name = importForm.elements.name.value.trim();
      const text = await importFile.files[0].text();
      const address = await importKeystore(name, text, importForm.elements.password.value,
        progressOf(document.getElementById("import-progress"), importResult, "opening"));
      importForm.reset();
      say(importResult, "ok", t("imported", { name, address }));
    } catch (error) {
      importForm.elements.password.value = "";
      fail(importResult, error);
    }
    render();
  });
});

const connect = document.getElementById("connect-wallet");
const walletResult = document.getElementById("wallet-result");
connect.addEventListener("click", async () => {
  connect.disabled = true;
  try {
    if (!hasWallet()) throw new Error(t("noWallet"));
    const address = await connectWallet();
    say(walletResult, "ok", t("walletConnected", { address }));
  } catch (error) {
    fail(walletResult, error);
  } finally {
    connect.disabled = false;
    render();
  }
});
if (!hasWallet()) {
  say(walletResult, "warn", t("noWallet"));
}

window.addEventListener("ipledger:key", render);
window.addEventListener("storage", render);
render();
