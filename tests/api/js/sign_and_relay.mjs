// A wallet that is not ours: only ethers v6 and fetch. Prepare -> sign (EIP-712) -> relay.
//
//   node sign_and_relay.mjs API_URL PRIVATE_KEY PREPARE_BODY_JSON [honest|tamper]
//
// "tamper" signs the prepared message, then changes one byte of its calldata before posting it.
// Prints one JSON line: {"address", "prepared": {status, body}, "relayed": {status, body}}.
import { Wallet } from "ethers";

const [api, key, bodyJson, mode = "honest"] = process.argv.slice(2);
const wallet = new Wallet(key);
const body = JSON.parse(bodyJson);
body.from = wallet.address;

async function post(path, payload) {
  const response = await fetch(api + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
  return { status: response.status, body: await response.json() };
}

const prepared = await post("/api/v1/relay/prepare", body);
const out = { address: wallet.address, prepared };
if (prepared.status === 200) {
  const { domain, types, message } = prepared.body;
  const signature = await wallet.signTypedData(domain, types, message);
  const sent = { ...message, signature };
  if (mode === "tamper") {
    const at = 10 + 63; // the last hex digit of the first argument (e.g. register's contentHash)
    const digit = sent.data[at] === "0" ? "1" : "0";
    sent.data = sent.data.slice(0, at) + digit + sent.data.slice(at + 1);
  }
  out.relayed = await post("/api/v1/relay", sent);
}
console.log(JSON.stringify(out));
