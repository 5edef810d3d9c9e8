/**
 * Proof of work for posting: solves ALTCHA challenges (ALTCHA's Proof-of-Work v2, as
 * the server makes them with the ALTCHA library) with Web Crypto. The derived key of a
 * counter n is SHA-256(salt + nonce + n as a big-endian uint32), hashed `cost` times
 * (SHA-256, SHA-384, SHA-512), or PBKDF2 of nonce + n over the salt with `cost`
 * iterations (PBKDF2/SHA-…); the answer is the first n whose key starts with
 * `keyPrefix`. It goes back in the comment's "pow" field as ALTCHA's payload: base64
 * of {challenge, solution: {counter, derivedKey, time}}.
 *
 * ALTCHA's own widget does this and much more, at about 35 KB gzipped (more than the
 * whole first render of this widget): this is our code, speaking its format. Argon2id
 * and scrypt, which need WebAssembly, are not spoken; the server never asks for them.
 *
 * Usage: const c = await (await fetch(`${base}/api/pow?site=${site}&thread=${t}`)).json();
 *        if (c.required) body.pow = await solveChallenge(c);
 */

const BATCH = 2000; // keys between yields, so the page stays responsive
const MAX_COUNTER = 0xffffffff;
const HASHES = ["SHA-256", "SHA-384", "SHA-512"];

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function toHex(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

const fromHex = (hex) => Uint8Array.from(String(hex).match(/../g) || [], (h) => parseInt(h, 16));

const yieldToLoop = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The key derivation of a challenge: counter -> Promise of its key's bytes (ArrayBuffer). */
function deriver(p) {
  const pbkdf2 = p.algorithm.startsWith("PBKDF2/");
  const hash = pbkdf2 ? p.algorithm.slice(7) : p.algorithm;
  if (!HASHES.includes(hash)) throw new Error(`unsupported algorithm ${p.algorithm}`);
  const salt = fromHex(p.salt);
  const nonce = fromHex(p.nonce);
  const cost = Math.max(1, p.cost);
  // nonce + counter, after the salt for SHA (Web Crypto copies the bytes on each call).
  const at = pbkdf2 ? 0 : salt.length;
  const block = new Uint8Array(at + nonce.length + 4);
  if (!pbkdf2) block.set(salt);
  block.set(nonce, at);
  const view = new DataView(block.buffer);
  const fill = (n) => (view.setUint32(at + nonce.length, n), block);
  if (pbkdf2) {
    const params = { name: "PBKDF2", hash, salt, iterations: cost };
    const bits = (p.keyLength || 32) * 8;
    return async (n) => {
      const key = await crypto.subtle.importKey("raw", fill(n), "PBKDF2", false, ["deriveBits"]);
      return crypto.subtle.deriveBits(params, key, bits);
    };
  }
  if (cost === 1) return (n) => crypto.subtle.digest(hash, fill(n));
  return async (n) => {
    let data = await crypto.subtle.digest(hash, fill(n));
    for (let i = 1; i < cost; i++) data = await crypto.subtle.digest(hash, data);
    return data;
  };
}

/**
 * Solve a challenge from GET /api/pow.
 * @param {{parameters: {algorithm: string, cost: number, keyLength?: number,
 *          keyPrefix: string, nonce: string, salt: string, data?: object},
 *          signature: string}} challenge
 * @param {{signal?: AbortSignal}} [options]
 * @returns {Promise<string>} the base64 payload
 */
export async function solveChallenge(challenge, options = {}) {
  const p = challenge.parameters;
  const derive = deriver(p);
  const prefix = String(p.keyPrefix).toLowerCase();
  if (!/^[0-9a-f]+$/.test(prefix)) throw new Error("bad key prefix");
  const prefixBytes = Math.ceil(prefix.length / 2);
  const length = p.keyLength || 32;
  // Rostra's challenges say how far the counter goes; ALTCHA's in general do not.
  const last = Number.isInteger(p.data && p.data.difficulty) ? p.data.difficulty : MAX_COUNTER;
  const started = performance.now();
  for (let start = 0; start <= last; start += BATCH) {
    if (options.signal && options.signal.aborted) throw new DOMException("aborted", "AbortError");
    const end = Math.min(start + BATCH - 1, last);
    const keys = [];
    for (let n = start; n <= end; n++) keys.push(derive(n));
    const done = await Promise.all(keys);
    for (let i = 0; i < done.length; i++) {
      const key = new Uint8Array(done[i], 0, Math.min(length, done[i].byteLength));
      if (toHex(key.subarray(0, prefixBytes)).startsWith(prefix)) {
        const solution = {
          counter: start + i, derivedKey: toHex(key), time: Math.round(performance.now() - started),
        };
        const json = JSON.stringify({ challenge: { parameters: p, signature: challenge.signature }, solution });
        return btoa(String.fromCharCode(...new TextEncoder().encode(json)));
      }
    }
    await yieldToLoop();
  }
  throw new Error("no solution found");
}
