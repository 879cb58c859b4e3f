// One act on the ledger from the browser: the API prepares the EIP-712 request
// (POST /api/v1/relay/prepare: the contract's refusal, if any, comes back before anyone signs), the
// active key signs it here, and POST /api/v1/relay sends it. Nothing is sent unless signed.
import { post } from "./api.js";
import { signer } from "./keys.js";
import { t } from "./messages.js";

/** Run `contract.fn(args)` as the active account; `onStatus(text)` narrates. Resolves to the relay's answer. */
export async function act(contract, fn, args, onStatus = () => {}) {
  const who = await signer();
  const prepared = await post("/relay/prepare", { from: who.address, contract, function: fn, args });
  onStatus(t("signing"));
  const signature = await who.signTypedData(prepared);
  onStatus(t("sending"));
  return post("/relay", { ...prepared.message, signature });
}

/** The first event named `name` in a relay answer (e.g. `AssetRegistered`), or undefined. */
export const eventOf = (relayed, name) => relayed.events.find((e) => e.name === name);
