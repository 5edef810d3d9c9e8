// "Notify of": email subscriptions to a thread, from the one bar of the discussion,
// shown only where the server sends email (POST /api/subscriptions; double opt-in).
import { esc } from "./render.js";
import { store } from "./storage.js";

/**
 * Subscribe `email` to the element's thread. kind: "thread" (new follow-up comments)
 * or "replies" (replies to my comments); with `own` ({id, token}) the reply
 * subscription also follows that comment. Resolves with the server's answer:
 * {status: "subscribed"} (active now) or {status: "accepted"} (confirm by email).
 */
export function subscribe(el, { email, kind, own = null }) {
  const body = { thread: el.threadKey, email, kind, language: el.tr.lang };
  if (el.site) body.site = el.site;
  if (own && kind === "replies") body.comment_id = own.id;
  // the voter id: comments this browser posts later, even without an email, are never
  // announced to this subscription
  const voter = store.voter();
  const headers = voter ? { "X-Rostra-Voter": voter } : {};
  if (own && kind === "replies") headers["X-Rostra-Edit-Token"] = own.token;
  return el.api.call("POST", "/api/subscriptions", { body, headers }).then((res) => {
    // a browser that had none gets one, as a post's answer gives it
    if (res && res.voter) store.setVoter(res.voter);
    return res;
  });
}

let seq = 0;

/** The bar above the thread: choose what to hear about, give an email, subscribe. */
export function createNotifyBar(el, email) {
  const { tr } = el;
  const n = ++seq;
  const form = document.createElement("form");
  form.className = "nb";
  form.noValidate = true;
  form.setAttribute("aria-label", tr.t("notifyBar"));
  form.innerHTML =
    `<label for="nk${n}">${esc(tr.t("notifyOf"))}</label>` +
    `<select id="nk${n}" name="kind"><option value="thread">${esc(tr.t("notifyThread"))}</option>` +
    `<option value="replies">${esc(tr.t("notifyReplies"))}</option></select>` +
    `<label for="ne${n}">${esc(tr.t("email"))}</label>` +
    `<input id="ne${n}" name="email" type="email" autocomplete="email" maxlength="254" required>` +
    `<button type="submit">${esc(tr.t("subscribe"))}</button>` +
    `<p class="ok" aria-live="polite"></p><p class="err" id="ne${n}e" role="alert"></p>`;
  const [ok, err] = form.querySelectorAll("p");
  const input = form.querySelector("input");
  const button = form.querySelector("button");
  input.value = email || "";
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (button.ariaDisabled == "true") return;
    ok.textContent = err.textContent = "";
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
    const address = input.value.trim();
    if (!address || !input.checkValidity()) {
      err.textContent = tr.t("notifyEmailRequired");
      // said by the field when focused, not only once by the alert
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", err.id);
      input.focus();
      return;
    }
    button.ariaDisabled = true; // not disabled: that drops the focus
    try {
      // "replies" also follows the reader's newest comment here, proven by its edit token
      const [id, own] = Object.entries(store.own()).filter(([, o]) => o.thread === el.threadKey)
        .sort((a, b) => b[1].at - a[1].at)[0] || [];
      const res = await subscribe(el, { email: address, kind: form.elements.kind.value, own: own ? { id: +id, token: own.token } : null });
      // "subscribed": a signed-in reader's verified address, active now; else an email asks first
      ok.textContent = tr.t(res && res.status === "subscribed" ? "notifySubscribed" : "notifyCheck");
    } catch (error) {
      err.textContent = el.message(error);
    } finally {
      button.ariaDisabled = false;
    }
  });
  return form;
}
