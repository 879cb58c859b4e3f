// SHA-256 of a file of any size in the browser, streamed in chunks with progress (hash-wasm, pinned
// in package.json and served from /vendor): the file is read here and never uploaded.
//
// Reading a File is an IPC from the browser process, hashing is WebAssembly on this thread: the next
// chunks are read while the current one is hashed (READ_AHEAD reads in flight), so a large file costs
// about the slower of the two rather than their sum. Memory stays bounded (CHUNK x (READ_AHEAD + 1)).
// Small files, in a secure context, go to WebCrypto in one piece (native code, no streaming needed).
import { createSHA256 } from "/vendor/hash-wasm.js";

const CHUNK = 8 * 1024 * 1024;
const READ_AHEAD = 3;
const WHOLE = 32 * 1024 * 1024;

const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");

/** "0x" + the file's SHA-256; `onProgress(done, total)` after each chunk. */
export async function sha256File(file, onProgress = () => {}) {
  onProgress(0, file.size);
  if (file.size <= WHOLE && globalThis.crypto?.subtle) {
    const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    onProgress(file.size, file.size);
    return "0x" + hex(digest);
  }
  const hasher = await createSHA256();
  hasher.init();
  const reads = [];
  let next = 0;
  const readMore = () => {
    while (reads.length < READ_AHEAD && next < file.size) {
      reads.push(file.slice(next, next + CHUNK).arrayBuffer());
      next += CHUNK;
    }
  };
  readMore();
  for (let done = 0; done < file.size;) {
    const chunk = new Uint8Array(await reads.shift());
    readMore();
    hasher.update(chunk);
    done += chunk.length;
    onProgress(done, file.size);
  }
  return "0x" + hasher.digest("hex");
}
