// Signing in by email, and a signed-in reader's own account (where they are signed
// in, ending those sessions, claiming earlier comments, a copy of their data, erasing
// the account): loaded on first use.
import { esc } from "./render.js";
import { store } from "./storage.js";
import { create, get, supported } from "./passkey.js";

let seq = 0;

// English for the strings added after the first-render budget was spent: they live
// here, loaded with the panel, not in i18n/en.js (every other language has them).
const EN = {
  downloadData: "Download my data",
  dataDownloaded: "Your data is downloaded (rostra-account.json).",
  eraseAccount: "Erase my account",
  eraseWarning: "Erase this account with its comments, passkeys and sessions? This cannot be undone.",
  eraseConfirm: "Erase everything",
};
// What the server asks for, so that nothing else erases an account.
const ERASE = "erase my account";

/** The "Sign in by email" form, under the sign-in buttons of `form`. */
export function emailForm(el, form) {
  const { tr } = el;
  const toggle = form.querySelector('[data-f="signin"][data-p=""]');
  const open = form.querySelector(".em");
  if (open) {
    open.remove();
    toggle.setAttribute("aria-expanded", "false");
    return;
  }
  const n = ++seq;
  const box = document.createElement("div");
  box.className = "em";
  box.innerHTML =
    `<label for="rm${n}">${esc(tr.t("emailAddress"))}</label>` +
    `<input id="rm${n}" type="email" autocomplete="email" maxlength="254">` +
    `<button type="button" class="primary">${esc(tr.t("sendLink"))}</button>` +
    `<p class="ok" role="status"></p>`;
  form.querySelector(".si").after(box);
  toggle.setAttribute("aria-expanded", "true");
  const input = box.querySelector("input");
  const send = box.querySelector("button");
  const status = box.querySelector(".ok");
  input.value = (form.values().email || "").trim();
  input.focus();
  const submit = async () => {
    form.setError("");
    status.textContent = "";
    if (!input.value.trim()) return input.focus();
    if (send.ariaDisabled == "true") return;
    send.ariaDisabled = true; // not disabled: that drops the focus
    try {
      const name = form.values().name;
      await el.api.call("POST", "/auth/email", { body: {
        site: el.site, email: input.value.trim(), name: name || null, language: tr.lang,
        page: location.href.split("#")[0],
      } });
      // never the address itself: the message is the same for every address
      status.textContent = tr.t("linkSent");
    } catch (error) {
      form.setError(el.message(error));
    } finally {
      send.ariaDisabled = false;
    }
  };
  send.addEventListener("click", submit);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      submit();
    }
  });
}

/** Sign in with a passkey alone: the browser asks which one. */
export async function passkeySignIn(el, form) {
  form.setError("");
  try {
    const begun = await el.api.call("POST", "/auth/passkey/options", { body: { site: el.site } });
    const credential = await get(begun.options);
    const r = await el.api.call("POST", "/auth/passkey/session", { body: { site: el.site, handle: begun.handle, credential } });
    store.setSession(el.site, { token: r.session, name: r.name, email: r.email });
    el.start();
  } catch (error) {
    form.setError(error instanceof DOMException ? el.tr.t("passkeyCancelled") : el.message(error));
  }
}

/** The account panel under "Signed in as …": sessions, sign out everywhere, claim. */
export async function openAccount(el, form) {
  const { tr: lang } = el;
  const tr = { t: (key, vars) => (key in lang.strings || !(key in EN) ? lang.t(key, vars) : EN[key]), ago: (d) => lang.ago(d) };
  const toggle = form.querySelector('[data-f="account"]');
  const old = form.querySelector(".acct");
  if (old) {
    old.remove();
    toggle.setAttribute("aria-expanded", "false");
    return;
  }
  const panel = document.createElement("div");
  panel.className = "acct";
  panel.setAttribute("role", "region");
  panel.setAttribute("aria-label", tr.t("account"));
  form.querySelector(".signed").after(panel);
  toggle.setAttribute("aria-expanded", "true");
  const params = [["site", el.site]];
  const fail = (error) => {
    form.setError(el.message(error));
    if (error.code === "session_expired") el.start();
  };
  const show = async (said = "") => {
    let me;
    try {
      me = await el.api.call("GET", "/api/account", { params });
    } catch (error) {
      return fail(error);
    }
    panel.innerHTML =
      `<h3>${esc(tr.t("sessionsTitle"))}</h3><ul class="ss sessions">` +
      me.sessions.map((s) =>
        `<li><span>${esc(s.device || tr.t("unknownDevice"))}</span> <small>${esc(tr.t("method_" + s.method))} · ` +
        `${esc(tr.ago(new Date(s.seen_at)))}</small> ` +
        (s.current ? `<strong>${esc(tr.t("thisBrowser"))}</strong>`
          : `<button type="button" class="link" data-end="${s.id}">${esc(tr.t("endSession"))}</button>`) + "</li>",
      ).join("") + "</ul>" +
      `<h3>${esc(tr.t("passkeysTitle"))}</h3><ul class="ss keys">` +
      (me.passkeys.length ? me.passkeys.map((k) =>
        `<li><span>${esc(k.name)}</span> <button type="button" class="link" data-key="${k.id}">${esc(tr.t("removePasskey"))}</button></li>`,
      ).join("") : `<li>${esc(tr.t("noPasskeys"))}</li>`) + "</ul>" +
      '<div class="btns">' +
      (supported() ? `<button type="button" data-a="addkey">${esc(tr.t("addPasskey"))}</button>` : "") +
      (me.claimable ? `<button type="button" data-a="claim">${esc(tr.t("claim", { n: me.claimable }))}</button>` : "") +
      `<button type="button" data-a="everywhere">${esc(tr.t("signOutEverywhere"))}</button>` +
      `<button type="button" data-a="data">${esc(tr.t("downloadData"))}</button>` +
      `<button type="button" data-a="erase" aria-expanded="false">${esc(tr.t("eraseAccount"))}</button></div>` +
      `<p class="ok" role="status">${esc(said)}</p>`;
  };
  panel.addEventListener("click", async (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    form.setError("");
    try {
      if (b.dataset.end) {
        await el.api.call("DELETE", `/api/account/sessions/${b.dataset.end}`, { params });
        return show(tr.t("sessionEnded"));
      }
      if (b.dataset.key) {
        await el.api.call("DELETE", `/api/account/passkeys/${b.dataset.key}`, { params });
        return show(tr.t("passkeyRemoved"));
      }
      if (b.dataset.a === "addkey") {
        const begun = await el.api.call("POST", "/api/account/passkeys/options", { params });
        let credential;
        try {
          credential = await create(begun.options);
        } catch {
          return show(tr.t("passkeyCancelled"));
        }
        await el.api.call("POST", "/api/account/passkeys", { params, body: { handle: begun.handle, credential } });
        return show(tr.t("passkeyAdded"));
      }
      if (b.dataset.a === "claim") {
        const r = await el.api.call("POST", "/api/account/claim", { params });
        return show(tr.t("claimed", { n: r.claimed }));
      }
      if (b.dataset.a === "data") {
        const data = await el.api.call("GET", "/api/account/data", { params });
        const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
        const a = document.createElement("a");
        a.href = url;
        a.download = "rostra-account.json";
        a.click();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
        return (panel.querySelector(".ok").textContent = tr.t("dataDownloaded"));
      }
      if (b.dataset.a === "erase" || b.dataset.a === "erase-no") {
        // A second, explicit step: the warning and the one button that erases.
        const toggle = panel.querySelector('[data-a="erase"]');
        const open = panel.querySelector(".erase");
        toggle.setAttribute("aria-expanded", String(!open));
        if (open) {
          open.remove();
          return toggle.focus();
        }
        const box = document.createElement("div");
        box.className = "erase";
        box.setAttribute("role", "alert");
        box.innerHTML = `<p>${esc(tr.t("eraseWarning"))}</p><div class="btns">` +
          `<button type="button" class="primary" data-a="erase-yes">${esc(tr.t("eraseConfirm"))}</button>` +
          `<button type="button" data-a="erase-no">${esc(tr.t("cancel"))}</button></div>`;
        panel.querySelector(".btns").after(box);
        return box.querySelector("button").focus();
      }
      if (b.dataset.a === "erase-yes") {
        await el.api.call("POST", "/api/account/erase", { params, body: { confirm: ERASE } });
        store.setSession(el.site, null);
        return el.start();
      }
      if (b.dataset.a === "everywhere") {
        await el.api.call("POST", "/api/account/sign-out", { params, body: { everywhere: true } });
        store.setSession(el.site, null);
        return el.start();
      }
    } catch (error) {
      fail(error);
    }
  });
  await show();
}
