// Passkeys in the browser: the server's WebAuthn options (base64url strings) made
// into what navigator.credentials takes, and its answer made back into JSON.
const bytes = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const text = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** Whether this browser can use passkeys at all. */
export const supported = () => typeof PublicKeyCredential === "function" && !!navigator.credentials;

/** Make a passkey with the server's creation options; the answer as JSON. */
export async function create(options) {
  const o = { ...options, challenge: bytes(options.challenge), user: { ...options.user, id: bytes(options.user.id) } };
  o.excludeCredentials = (options.excludeCredentials || []).map((c) => ({ ...c, id: bytes(c.id) }));
  return answer(await navigator.credentials.create({ publicKey: o }));
}

/** Sign the server's challenge with a passkey the reader picks; the answer as JSON. */
export async function get(options) {
  const o = { ...options, challenge: bytes(options.challenge) };
  o.allowCredentials = (options.allowCredentials || []).map((c) => ({ ...c, id: bytes(c.id) }));
  return answer(await navigator.credentials.get({ publicKey: o }));
}

function answer(c) {
  const r = c.response;
  const out = { id: c.id, rawId: text(c.rawId), type: c.type, response: { clientDataJSON: text(r.clientDataJSON) },
    clientExtensionResults: c.getClientExtensionResults(), authenticatorAttachment: c.authenticatorAttachment || undefined };
  if (r.attestationObject) {
    out.response.attestationObject = text(r.attestationObject);
    out.response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    out.response.authenticatorData = text(r.authenticatorData);
    out.response.signature = text(r.signature);
    if (r.userHandle) out.response.userHandle = text(r.userHandle);
  }
  return out;
}
