// Keys in the browser. Two kinds of signer, one interface ({address, kind, signTypedData(prepared)}):
// - a keystore kept in this browser's localStorage, encrypted, in the same format as `ipledger account`
//   (Web3 Secret Storage v3, scrypt): import a CLI keystore, export it back; the password is asked
//   when signing and the decrypted key lives only in this page's memory;
// - an injected EIP-1193 wallet (MetaMask-style), asked with eth_signTypedData_v4.
import { Wallet, encryptKeystoreJson, getAddress, hexlify, randomBytes } from "/vendor/ethers.js";
import { t } from "./messages.js";

const STORE = "ipledger.keystores";
const ACTIVE = "ipledger.active";
const unlocked = new Map();  // address -> Wallet, for this page only

/** `ipledger account`'s rules: a name usable as `<data dir>/keystores/<name>.json`, a password of 8+ characters. */
export const NAME_RULE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 8;
/** scrypt cost of a key made here: eth-account's (the CLI's) own default, N = 2**18. */
const SCRYPT_N = 2 ** 18;

export class KeyError extends Error {}

export function keystores() {
  try {
    return JSON.parse(localStorage.getItem(STORE) || "[]");
  } catch {
    return [];
  }
}

function save(list) {
  localStorage.setItem(STORE, JSON.stringify(list));
}

/** The keystore JSON's address, checksummed, or a KeyError when it is not a keystore. */
export function keystoreAddress(json) {
  let parsed;
  try {
    parsed = typeof json === "string" ? JSON.parse(json) : json;
  } catch {
    throw new KeyError(t("notKeystore"));
  }
  if (!parsed || typeof parsed !== "object" || !parsed.address || !(parsed.crypto || parsed.Crypto)) {
    throw new KeyError(t("notKeystore"));
  }
  return getAddress("0x" + String(parsed.address).replace(/^0x/i, ""));
}

function checkName(name, address) {
  if (!NAME_RULE.test(name)) throw new KeyError(t("badName", { name }));
  if (keystores().some((k) => k.name === name && k.address !== address)) {
    throw new KeyError(t("nameTaken", { name }));
  }
}

/** Keep `json` (checked by decrypting it with `password`) under `name`; it becomes the active account.
 * Nothing is kept unless the password opens it. The text is kept as given, so an export is the same file. */
export async function importKeystore(name, json, password, onProgress) {
  const address = keystoreAddress(json);
  checkName(name, address);
  const wallet = await decrypt(json, password, onProgress);
  if (wallet.address !== address) throw new KeyError(t("notKeystore"));
  const text = typeof json === "string" ? json : JSON.stringify(json);
  save([...keystores().filter((k) => k.address !== address), { name, address, json: text }]);
  unlocked.set(address, wallet);
  setActive({ kind: "keystore", address });
  return address;
}

/** A new random key, encrypted with `password` exactly as `ipledger account new` writes it (Web3 Secret
 * Storage v3, scrypt N=2**18, lower-case `crypto`, no extra fields), kept under `name` and made active. */
export async function createKeystore(name, password, onProgress) {
  checkName(name, null);
  if (String(password).length < MIN_PASSWORD_LENGTH) {
    throw new KeyError(t("shortPassword", { min: MIN_PASSWORD_LENGTH }));
  }
  const wallet = new Wallet(hexlify(randomBytes(32)));
  const encrypted = JSON.parse(await encryptKeystoreJson(wallet, password, {
    scrypt: { N: SCRYPT_N }, progressCallback: onProgress,
  }));
  const json = JSON.stringify({ address: encrypted.address, crypto: encrypted.Crypto ?? encrypted.crypto,
                                id: encrypted.id, version: encrypted.version });
  save([...keystores(), { name, address: wallet.address, json }]);
  unlocked.set(wallet.address, wallet);
  setActive({ kind: "keystore", address: wallet.address });
  return wallet.address;
}

/** The kept keystore of `address`: {name, address, json}; `json` is the file `ipledger account import` takes
 * (`ipledger account export` writes one this page imports). */
export function exportKeystore(address) {
  const entry = keystores().find((k) => k.address === address);
  if (!entry) throw new KeyError(t("noKey"));
  return entry;
}

export function forgetKeystore(address) {
  save(keystores().filter((k) => k.address !== address));
  unlocked.delete(address);
  const active = getActive();
  if (active && active.kind === "keystore" && active.address === address) setActive(null);
}

async function decrypt(json, password, onProgress) {
  try {
    return await Wallet.fromEncryptedJson(typeof json === "string" ? json : JSON.stringify(json), password, onProgress);
  } catch {
    throw new KeyError(t("wrongPassword"));
  }
}

export function getActive() {
  try {
    return JSON.parse(localStorage.getItem(ACTIVE) || "null");
  } catch {
    return null;
  }
}

export function setActive(active) {
  if (active) localStorage.setItem(ACTIVE, JSON.stringify(active));
  else localStorage.removeItem(ACTIVE);
  window.dispatchEvent(new CustomEvent("ipledger:key", { detail: active }));
}

export const hasWallet = () => typeof window.ethereum?.request === "function";

/** Connect the injected wallet: its first account becomes the active one. */
export async function connectWallet() {
  if (!hasWallet()) throw new KeyError(t("noWallet"));
  let accounts;
  try {
    accounts = await window.ethereum.request({ method: "eth_requestAccounts" });
  } catch (error) {
    throw new KeyError(error?.code === 4001 ? t("userRejected") : String(error?.message || error));
  }
  if (!accounts?.length) throw new KeyError(t("noKey"));
  const address = getAddress(accounts[0]);
  setActive({ kind: "wallet", address });
  followWallet();
  return address;
}

let following = false;
/** While the wallet is the active signer, follow its account switches (EIP-1193 `accountsChanged`). */
function followWallet() {
  if (following || typeof window.ethereum?.on !== "function") return;
  following = true;
  window.ethereum.on("accountsChanged", (accounts) => {
    const active = getActive();
    if (active?.kind !== "wallet") return;
    setActive(accounts?.length ? { kind: "wallet", address: getAddress(accounts[0]) } : null);
  });
}
if (getActive()?.kind === "wallet" && hasWallet()) followWallet();

/** Ask for the keystore's password in a modal dialog (keyboard-accessible); resolves to the text or null.
 *  `notice` (the last attempt's failure) is shown in the dialog, announced, and the field described by it. */
function askPassword(entry, notice = "") {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.className = "password-dialog";
    dialog.innerHTML = `<form method="dialog">
      <h2></h2><label for="ipledger-password"></label>
      <input id="ipledger-password" type="password" autocomplete="current-password" required
             aria-describedby="ipledger-password-status">
      <p class="status" id="ipledger-password-status" role="status"></p>
      <div class="actions"><button value="ok" class="primary"></button><button value="cancel" formnovalidate></button></div>
    </form>`;
    dialog.querySelector("h2").textContent = t("unlockTitle");
    dialog.querySelector("label").textContent = t("passwordFor", { name: entry.name, address: entry.address });
    const [ok, cancel] = dialog.querySelectorAll("button");
    ok.textContent = t("unlock");
    cancel.textContent = t("cancel");
    if (notice) {
      const status = dialog.querySelector(".status");
      status.textContent = notice;
      status.classList.add("bad");
      dialog.querySelector("input").setAttribute("aria-invalid", "true");
    }
    document.body.append(dialog);
    dialog.addEventListener("close", () => {
      const value = dialog.returnValue === "ok" ? dialog.querySelector("input").value : null;
      dialog.remove();
      resolve(value);
    });
    dialog.showModal();
  });
}

async function unlockActive(active) {
  if (unlocked.has(active.address)) return unlocked.get(active.address);
  const entry = keystores().find((k) => k.address === active.address);
  if (!entry) throw new KeyError(t("noKey"));
  let notice = "";
  for (;;) {
    const password = await askPassword(entry, notice);
    if (password === null) throw new KeyError(t("userRejected"));
    try {
      alertStatus(t("signing"));  // scrypt takes a few seconds
      const wallet = await decrypt(entry.json, password);
      unlocked.set(entry.address, wallet);
      window.dispatchEvent(new CustomEvent("ipledger:key", { detail: active }));  // the header shows the key again
      return wallet;
    } catch (error) {
      notice = error.message;  // asked again, with the reason in the dialog; nothing is signed or sent meanwhile
    }
  }
}

/** A word in the header's key indicator while a slow step (scrypt) runs. */
function alertStatus(message) {
  const status = document.getElementById("key-status");
  if (status) status.textContent = message;
}

/** The active signer, or a KeyError saying how to get one. */
export async function signer() {
  const active = getActive();
  if (!active) throw new KeyError(t("noKey"));
  if (active.kind === "wallet") {
    if (!hasWallet()) throw new KeyError(t("noWallet"));
    return {
      address: active.address, kind: "wallet",
      async signTypedData(prepared) {
        try {
          return await window.ethereum.request({
            method: "eth_signTypedData_v4", params: [active.address, JSON.stringify(prepared.typed_data)],
          });
        } catch (error) {
          throw new KeyError(error?.code === 4001 ? t("userRejected") : String(error?.message || error));
        }
      },
    };
  }
  return {
    address: active.address, kind: "keystore",
    async signTypedData(prepared) {
      const wallet = await unlockActive(active);
      return wallet.signTypedData(prepared.domain, prepared.types, prepared.message);
    },
  };
}

/** The active keystore's private key (32 bytes), unlocked with its password, for what a signature cannot do:
 *  deriving the account's encryption keys to open sealed documents (docs/sealed-format.md). A wallet does not
 *  expose its key: a KeyError says so. */
export async function accountKey() {
  const active = getActive();
  if (!active) throw new KeyError(t("noKey"));
  if (active.kind === "wallet") throw new KeyError(t("walletNoKey"));
  const wallet = await unlockActive(active);
  const hex = wallet.privateKey.slice(2);
  return Uint8Array.from(hex.match(/../g), (byte) => parseInt(byte, 16));
}

/** Lock the active keystore in this page (forget the decrypted key). */
export function lock() {
  unlocked.clear();
}
