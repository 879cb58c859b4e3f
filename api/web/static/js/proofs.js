// Timestamp proofs in the browser, exactly as ledger/timestamps/proofs.py computes them, so a
// certificate made here is the CLI's certificate byte for byte:
// - leaf  = keccak256(abi.encode(bytes32 digest, address author, bytes32 salt)), the salt random;
// - the tree is OpenZeppelin's StandardMerkleTree over the leaves (@openzeppelin/merkle-tree 1.0.8's
//   layout): node of a leaf keccak256(leaf), pairs hashed sorted, leaves placed sorted at the end of a
//   flat array; a single stamp is the tree of one leaf (root keccak256(leaf), empty proof).
import { AbiCoder, concat, getAddress, hexlify, keccak256 } from "/vendor/ethers.js";

const coder = AbiCoder.defaultAbiCoder();

export const SUFFIX = ".ipledger.json";
const NUMBERED = /\.ipledger\.([1-9][0-9]{0,8})\.json$/;

/** 32 random bytes from the browser's CSPRNG (a guessable salt would reveal the digest). */
export const newSalt = () => hexlify(crypto.getRandomValues(new Uint8Array(32)));

/** The commitment binding a file's SHA-256 to its author. */
export const commitment = (digest, author, salt) =>
  keccak256(coder.encode(["bytes32", "address", "bytes32"], [digest, getAddress(author), salt]));

/** The tree node of a commitment (OZ's double-hashed StandardMerkleTree leaf of (digest, author, salt)). */
export const leafHash = (leaf) => keccak256(leaf);

// Lower-case hex strings of one length sort as their bytes do.
const nodeHash = (a, b) => keccak256(a <= b ? concat([a, b]) : concat([b, a]));

/** proofs.py's MerkleTree: the same layout, so the same root and byte-identical proofs. */
export class MerkleTree {
  constructor(commitments) {
    const hashes = commitments.map((c) => leafHash(c).toLowerCase());
    if (!hashes.length) throw new Error("a Merkle tree needs at least one commitment");
    if (new Set(hashes).size !== hashes.length) throw new Error("duplicate commitment in batch");
    const n = hashes.length;
    const size = 2 * n - 1;
    this.tree = new Array(size);
    this.index = new Array(n);
    const order = [...hashes.keys()].sort((i, j) => (hashes[i] < hashes[j] ? -1 : hashes[i] > hashes[j] ? 1 : 0));
    order.forEach((valueIndex, sortedPos) => {
      const treeIndex = size - 1 - sortedPos;
      this.tree[treeIndex] = hashes[valueIndex];
      this.index[valueIndex] = treeIndex;
    });
    for (let i = size - 1 - n; i >= 0; i -= 1) this.tree[i] = nodeHash(this.tree[2 * i + 1], this.tree[2 * i + 2]);
  }

  get root() {
    return this.tree[0];
  }

  proof(valueIndex) {
    const path = [];
    for (let i = this.index[valueIndex]; i > 0; i = Math.floor((i - 1) / 2)) {
      path.push(i % 2 ? this.tree[i + 1] : this.tree[i - 1]);
    }
    return path;
  }
}

/** Whether a file name is a certificate's (`*.ipledger.json`, `*.ipledger.<n>.json`). */
export const isCertificateName = (name) => name.endsWith(SUFFIX) || NUMBERED.test(name);

/** The `number`-th certificate name of a file: `<file>.ipledger.json`, then `<file>.ipledger.<n>.json`. */
export const certificateName = (fileName, number = 1) =>
  (number === 1 ? `${fileName}${SUFFIX}` : `${fileName}.ipledger.${number}.json`);

/** The number of `certName` among `fileName`'s certificates (1 for the first), or null. */
export function certificateNumber(fileName, certName) {
  if (certName === fileName + SUFFIX) return 1;
  if (!certName.startsWith(`${fileName}.ipledger.`)) return null;
  const match = certName.slice(fileName.length).match(/^\.ipledger\.([1-9][0-9]{0,8})\.json$/);
  return match && Number(match[1]) >= 2 ? Number(match[1]) : null;
}

/** ISO 8601 UTC of Unix seconds, as Python's isoformat writes it (no fraction, `Z`). */
export const isoUtc = (seconds) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** A version-1 certificate in the CLI's field order. */
export function certificate(anchor, batch, item) {
  return {
    version: 1,
    chain_id: anchor.chain_id,
    contract: getAddress(anchor.contract),
    tx_hash: anchor.tx_hash.toLowerCase(),
    block_number: anchor.block_number,
    block_hash: anchor.block_hash.toLowerCase(),
    block_time: anchor.block_time,
    block_time_iso: isoUtc(anchor.block_time),
    file_name: item.file_name,
    digest: item.digest,
    author: getAddress(batch.author),
    salt: item.salt,
    leaf: item.leaf,
    proof: item.proof,
    root: batch.root,
    stamper: getAddress(anchor.stamper),
    batch_size: batch.batch_size,
    ...(item.authorship ? { authorship: item.authorship } : {}),  // a stamp service's: the author's signature
  };
}

/** The certificate file's text, byte for byte as Python's `json.dumps(..., indent=2) + "\n"` writes it. */
export const certificateText = (cert) => JSON.stringify(cert, null, 2)
  .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) + "\n";
