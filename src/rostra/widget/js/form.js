// The comment form, used for new comments, inline replies and edits.
import { esc } from "./render.js";

let seq = 0; // ids unique inside one shadow root, for label/field pairs

/**
 * opts: {tr, kind: "top"|"reply"|"edit", label, text, author: {name, email},
 *        account?: {name, email} (signed in: no name or email to type),
 *        signOut?() (a sign-in the reader may end here), openAccount?() (its sessions),
 *        submit(values) -> Promise, preview(text) -> Promise<html>,
 *        cancel?(), input?(text)}
 * values: {name, email, text, ack: bool}; `ack` is true
 * when the author chose "Send anyway" after the server's nudge.
 * Returns the <form> element; its text is never cleared on error.
 */
export function createForm(opts) {
  const { tr, kind } = opts;
  const n = ++seq;
  const form = document.createElement("form");
  form.noValidate = true;
  const account = kind === "edit" ? null : opts.account;
  // Signed in: the server takes the account's name and address, so no field asks for them.
  const who = kind === "edit" ? "" : account ?
    `<p class="signed">${esc(tr.t("signedInAs", { name: account.name }))}` +
    (opts.signOut ? ` <button type="button" class="link" data-f="account" aria-expanded="false">${esc(tr.t("account"))}</button>` +
      ` <button type="button" class="link" data-f="signout">${esc(tr.t("signOut"))}</button>` : "") + "</p>" :
    `<div class="who"><div><label for="rn${n}">${esc(tr.t("name"))}</label>` +
    `<input id="rn${n}" name="name" dir="auto" autocomplete="name" maxlength="80" required></div>` +
    `<div><label for="re${n}">${esc(tr.t("email"))} <small>(${esc(tr.t("emailHint"))})</small></label>` +
    `<input id="re${n}" name="email" type="email" autocomplete="email" maxlength="254"></div></div>`;
  const submitLabel = kind === "edit" ? tr.t("save") : kind === "reply" ? tr.t("submitReply") : tr.t("submit");
  // The new-comment form leads with its text box; the rest unfolds once the reader
  // writes (focus) or asks (the .unf button). Replies and edits open unfolded.
  const top = kind === "top";
  // The label stays in sight (a placeholder goes as the reader types); folded, the
  // unfold button is shown on its line (styles.js), so the box stays short.
  form.innerHTML =
    `<label for="rt${n}">${esc(opts.label)}</label>` +
    `<textarea id="rt${n}" name="text" dir="auto" rows="4" required aria-describedby="rh${n} rc${n} rx${n}"` +
    (top ? ` placeholder="${esc(tr.t("formTitle"))}"></textarea>` +
      `<button type="button" class="link unf" data-f="unfold" aria-expanded="false" aria-controls="rf${n}">` +
      `${esc(account ? tr.t("signedInAs", { name: account.name }) : tr.t("identity"))}</button>` : "></textarea>") +
    `<p class="cnt" id="rc${n}" hidden></p>` +
    `<div class="pv body" id="rp${n}" role="region" aria-label="${esc(tr.t("preview"))}" hidden tabindex="0"></div>` +
    `<p class="err" id="rx${n}" role="alert"></p>` +
    `<div class="nudge" role="alert" hidden><p></p><div class="btns">` +
    `<button type="button" data-f="revise">${esc(tr.t("edit"))}</button>` +
    `<button type="button" data-f="anyway">${esc(tr.t("sendAnyway"))}</button></div></div>` +
    `<p class="ok" aria-live="polite"></p>` +
    `<div class="fo" id="rf${n}"><p class="hint" id="rh${n}">${esc(tr.t("markdown"))}</p>` + who +
    `<div class="btns"><button type="submit" class="primary">${esc(submitLabel)}</button>` +
    `<button type="button" data-f="preview" aria-controls="rp${n}">${esc(tr.t("preview"))}</button>` +
    (opts.cancel ? `<button type="button" data-f="cancel">${esc(tr.t("cancel"))}</button>` : "") +
    "</div></div>";
  const q = (sel) => form.querySelector(sel);
  const text = q("textarea");
  // the text box's label: hidden with it while previewing, so it never labels nothing
  const lab = form.firstChild;
  const pv = q(".pv");
  const err = q(".err");
  const submit = q("[type=submit]");
  const pvBtn = q('[data-f="preview"]');
  const nudge = q(".nudge");
  const ok = q(".ok");
  let ack = false; // "Send anyway" chosen: the next post acknowledges the nudge
  text.value = opts.text || "";
  if (kind !== "edit" && !account) {
    const author = opts.author || {};
    q('[name="name"]').value = author.name || "";
    q('[name="email"]').value = author.email || "";
  }
  const unf = q(".unf");
  /** Show the folded fields (once: the form never folds again). */
  const unfold = (form.unfold = () => {
    form.classList.remove("fold");
    if (unf) unf.setAttribute("aria-expanded", "true");
  });
  if (top && !text.value) form.classList.add("fold");
  text.addEventListener("focus", unfold);

  const cnt = q(".cnt");
  const limit = () => (opts.limit && opts.limit()) || 10000;
  /** How the text stands against the limit: shown from 90 % of it, in red past it. */
  const count = () => {
    const left = limit() - text.value.trim().length;
    cnt.hidden = left > limit() / 10;
    cnt.classList.toggle("over", left < 0);
    cnt.textContent = left < 0 ? tr.t("charsOver", { n: -left }) : tr.t("charsLeft", { n: left });
    return left;
  };
  count();

  /** A problem with one field, shown by that field (and announced); cleared on the next try. */
  const fieldError = (input, msg) => {
    unfold();
    const p = document.createElement("p");
    p.className = "err fe";
    p.id = input.id + "e";
    p.textContent = msg;
    input.after(p);
    input.setAttribute("aria-invalid", "true");
    // the error first, then what described the field before (the text's hint and count)
    input.setAttribute("aria-describedby", p.id + " " + (input.getAttribute("aria-describedby") || ""));
    input.focus();
  };
  const clearFieldErrors = () => {
    for (const p of form.querySelectorAll(".fe")) p.remove();
    for (const i of form.querySelectorAll("[aria-invalid]")) {
      i.removeAttribute("aria-invalid");
      if (i === text) text.setAttribute("aria-describedby", `rh${n} rc${n} rx${n}`);
      else i.removeAttribute("aria-describedby");
    }
  };

  const showWrite = () => {
    pv.hidden = true;
    text.hidden = lab.hidden = false;
    pvBtn.textContent = tr.t("preview");
  };

  form.setError = (msg) => {
    err.textContent = msg || "";
  };
  /** A quiet success line under the text (e.g. "check your email to confirm"). */
  form.setStatus = (msg) => {
    ok.textContent = msg || "";
  };
  form.values = () => ({
    name: account ? account.name : kind === "edit" ? undefined : q('[name="name"]').value.trim(),
    email: account ? account.email : kind === "edit" ? undefined : q('[name="email"]').value.trim(),
    text: text.value,
    ack,
  });
  form.focusText = () => text.focus();
  /** Buttons "Sign in with …" above the name field, and "Sign in by email" when the
   * site offers it; `signIn(name)` opens the provider's popup ("" the email form,
   * ":passkey" a passkey). */
  form.offerSignIn = (offer, signIn) => {
    form.signIn = signIn;
    const p = document.createElement("p");
    p.className = "si";
    p.innerHTML = offer.providers.map((pr) =>
      `<button type="button" data-f="signin" data-p="${esc(pr.name)}">${esc(tr.t("signInWith", { provider: pr.label }))}</button>`).join(" ") +
      (offer.email ? ` <button type="button" data-f="signin" data-p="" aria-expanded="false">${esc(tr.t("signInByEmail"))}</button>` : "") +
      (offer.passkeys && typeof PublicKeyCredential === "function" ? ` <button type="button" data-f="signin" data-p=":passkey">${esc(tr.t("signInWithPasskey"))}</button>` : "");
    q(".hint").after(p);
  };
  form.clearText = () => {
    text.value = "";
    count();
    showWrite();
  };

  text.addEventListener("input", () => {
    count();
    if (opts.input) opts.input(text.value);
  });
  text.addEventListener("keydown", (e) => {
    // Ctrl/Cmd+Enter posts, as in most comment boxes
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  // Escape closes a reply or edit form as Cancel does, the focus back on its opener
  form.addEventListener("keydown", (e) => {
    if (e.key == "Escape" && opts.cancel && !e.isComposing) opts.cancel();
  });
  form.addEventListener("click", async (e) => {
    const f = e.target.closest("[data-f]");
    if (!f) return;
    if (f.dataset.f === "unfold") return unfold(), form.querySelector(".fo input,.fo button").focus();
    if (f.dataset.f === "cancel") return opts.cancel();
    if (f.dataset.f === "signout") return opts.signOut();
    if (f.dataset.f === "account") return opts.openAccount();
    if (f.dataset.f === "signin") return form.signIn(f.dataset.p);
    if (f.dataset.f === "revise") return (nudge.hidden = true), showWrite(), text.focus();
    if (f.dataset.f === "anyway") {
      nudge.hidden = true;
      ack = true;
      return form.requestSubmit();
    }
    if (!pv.hidden) return showWrite(), text.focus();
    form.setError("");
    try {
      const html = text.value.trim() ? await opts.preview(text.value) : "";
      pv.innerHTML = html || `<p class="note">${esc(tr.t("emptyPreview"))}</p>`;
      pv.hidden = false;
      text.hidden = lab.hidden = true;
      pvBtn.textContent = tr.t("write");
      // the focus goes to the region named "Preview": it is announced, and "Write" follows it
      pv.focus();
    } catch (error) {
      form.setError(opts.message(error));
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (submit.ariaDisabled == "true") return;
    form.setError("");
    form.setStatus("");
    clearFieldErrors();
    nudge.hidden = true;
    // sites require a name by default (site setting require_name)
    const name = q('[name="name"]');
    if (name && !name.value.trim()) {
      form.setError(tr.t("nameRequired"));
      // the field itself says what is wrong with it when focused (cleared on the next try)
      name.setAttribute("aria-invalid", "true");
      name.setAttribute("aria-describedby", err.id);
      name.focus();
      return;
    }
    const values = form.values();
    if (!text.value.trim()) {
      form.setError(tr.t("textRequired"));
      showWrite();
      text.focus();
      return;
    }
    if (count() < 0) {
      form.setError(tr.t("error_too_long", { n: limit() }));
      showWrite();
      text.focus();
      return;
    }
    // aria-disabled, not disabled: a disabled button drops the keyboard focus to the page
    submit.ariaDisabled = true;
    const label = submit.textContent;
    submit.textContent = tr.t("posting");
    let wait = 0;
    try {
      await opts.submit(values);
    } catch (error) {
      // the draft stays in the textarea: nothing typed is ever lost
      if (error.code === "comment_refused" && error.reasons.includes("nudge")) {
        // the server asks once to reconsider: the author edits or sends it anyway
        nudge.firstChild.textContent = error.detail || tr.t("error_comment_refused");
        nudge.hidden = false;
        nudge.querySelector("button").focus();
      } else {
        const input = error.field && q(`[name="${error.field}"]:not([type=hidden])`);
        if (input && (error.code === "invalid_input" || error.code === "too_long")) {
          if (input === text) showWrite();
          fieldError(input, opts.message(error));
        } else form.setError(opts.message(error));
        if (error.code === "rate_limited") wait = error.retryAfter;
      }
    } finally {
      ack = false;
      submit.textContent = label;
      // honour Retry-After: sending again before then would only be refused again
      submit.ariaDisabled = wait > 0;
      if (wait > 0) setTimeout(() => (submit.ariaDisabled = false), wait * 1000);
    }
  });
  return form;
}
