/**
 * Proof of work for posting (ALTCHA-style): find the number n in 0..maxnumber with
 * SHA-256(salt + n) == challenge, and return the solution the server expects in the
 * comment's "pow" field: base64 of {algorithm, challenge, number, salt, signature}.
 *
 * Usage: const c = await (await fetch(`${base}/api/pow?site=${site}&thread=${t}`)).json();
 *        if (c.required) body.pow = await solveChallenge(c);
 */

const BATCH = 2000; // hashes between yields, so the page stays responsive

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function toHex(buffer) {
  const bytes = new Uint8Array(buffer);
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

const yieldToLoop = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Solve a challenge from GET /api/pow.
 * @param {{algorithm: string, challenge: string, maxnumber: number, salt: string,
 *          signature: string}} challenge
 * @param {{signal?: AbortSignal}} [options]
 * @returns {Promise<string>} the base64 solution
 */
export async function solveChallenge(challenge, options = {}) {
  if (challenge.algorithm !== "SHA-256") throw new Error("unsupported algorithm");
  const encoder = new TextEncoder();
  const target = challenge.challenge;
  for (let start = 0; start <= challenge.maxnumber; start += BATCH) {
    if (options.signal && options.signal.aborted) throw new DOMException("aborted", "AbortError");
    const end = Math.min(start + BATCH - 1, challenge.maxnumber);
    const hashes = [];
    for (let n = start; n <= end; n++) {
      hashes.push(crypto.subtle.digest("SHA-256", encoder.encode(challenge.salt + n)));
    }
    const done = await Promise.all(hashes);
    for (let i = 0; i < done.length; i++) {
      if (toHex(done[i]) === target) {
        const payload = {
          algorithm: challenge.algorithm, challenge: target, number: start + i,
          salt: challenge.salt, signature: challenge.signature,
        };
        return btoa(JSON.stringify(payload));
      }
    }
    await yieldToLoop();
  }
  throw new Error("no solution found");
}
