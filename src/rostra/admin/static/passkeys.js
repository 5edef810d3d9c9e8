// Staff passkeys: "Sign in with a passkey" on the sign-in page, "Add a passkey" on the
// account page. The server's WebAuthn options are JSON with base64url strings.
"use strict";
(function () {
  const bytes = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const text = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  function answer(c) {
    const r = c.response;
    const out = { id: c.id, rawId: text(c.rawId), type: c.type, response: { clientDataJSON: text(r.clientDataJSON) },
      clientExtensionResults: c.getClientExtensionResults() };
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

  async function call(url, csrf, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify({ csrf, ...body }),
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrf },
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || "failed (" + response.status + ")");
    return data;
  }

  function say(box, message) {
    box.textContent = message;
    box.hidden = false;
  }

  const signIn = document.getElementById("passkey-sign-in");
  if (signIn && window.PublicKeyCredential) {
    signIn.hidden = false;
    signIn.addEventListener("click", async () => {
      const box = document.getElementById("passkey-status");
      try {
        const begun = await call("/admin/login/passkey/options", signIn.dataset.csrf, {});
        const o = { ...begun.options, challenge: bytes(begun.options.challenge), allowCredentials: [] };
        const credential = answer(await navigator.credentials.get({ publicKey: o }));
        const done = await call("/admin/login/passkey", signIn.dataset.csrf,
          { handle: begun.handle, credential, next: signIn.dataset.next });
        location.assign(done.next);
      } catch (err) {
        say(box, "The passkey could not be used: " + err.message);
      }
    });
  }

  const add = document.getElementById("passkey-add");
  if (add && window.PublicKeyCredential) {
    add.hidden = false;
    add.addEventListener("click", async () => {
      const box = document.getElementById("passkey-status");
      try {
        const begun = await call("/admin/account/passkeys/options", add.dataset.csrf, {});
        const o = begun.options;
        const options = { ...o, challenge: bytes(o.challenge), user: { ...o.user, id: bytes(o.user.id) },
          excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: bytes(c.id) })) };
        const credential = answer(await navigator.credentials.create({ publicKey: options }));
        const name = document.getElementById("passkey-name").value;
        await call("/admin/account/passkeys", add.dataset.csrf, { handle: begun.handle, credential, name });
        location.assign("/admin/account?done=passkey");
      } catch (err) {
        say(box, "The passkey was not added: " + err.message);
      }
    });
  }
})();
