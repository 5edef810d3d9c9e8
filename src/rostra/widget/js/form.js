// The comment form, used for new comments, inline replies and edits.
import { esc } from "./render.js";

let seq = 0; // ids unique inside one shadow root, for label/field pairs

/**
 * opts: {tr, kind: "top"|"reply"|"edit", label, text, author: {name, email},
 *        submit(values) -> Promise, preview(text) -> Promise<html>,
 *        cancel?(), input?(text)}
 * Returns the <form> element; its text is never cleared on error.
 */
export function createForm(opts) {
  const { tr, kind } = opts;
  const n = ++seq;
  const form = document.createElement("form");
  form.noValidate = true;
  const who = kind === "edit" ? "" :
    `<div class="who"><div><label for="rn${n}">${esc(tr.t("name"))}</label>` +
    `<input id="rn${n}" name="name" autocomplete="name" maxlength="80" required></div>` +
    `<div><label for="re${n}">${esc(tr.t("email"))} <small>(${esc(tr.t("emailHint"))})</small></label>` +
    `<input id="re${n}" name="email" type="email" autocomplete="email" maxlength="254"></div></div>`;
  const submitLabel = kind === "edit" ? tr.t("save") : kind === "reply" ? tr.t("submitReply") : tr.t("submit");
  form.innerHTML = who +
    `<label for="rt${n}">${esc(opts.label)}</label>` +
    `<textarea id="rt${n}" name="text" rows="4" required aria-describedby="rh${n} rx${n}"></textarea>` +
    `<div class="pv body" id="rp${n}" hidden tabindex="-1"></div>` +
    `<p class="hint" id="rh${n}">${esc(tr.t("markdown"))}</p>` +
    `<p class="err" id="rx${n}" role="alert"></p>` +
    `<div class="btns"><button type="submit" class="primary">${esc(submitLabel)}</button>` +
    `<button type="button" data-f="preview" aria-controls="rp${n}">${esc(tr.t("preview"))}</button>` +
    (opts.cancel ? `<button type="button" data-f="cancel">${esc(tr.t("cancel"))}</button>` : "") +
    "</div>";
  const q = (sel) => form.querySelector(sel);
  const text = q("textarea");
  const pv = q(".pv");
  const err = q(".err");
  const submit = q("[type=submit]");
  const pvBtn = q('[data-f="preview"]');
  text.value = opts.text || "";
  if (kind !== "edit") {
    q('[name="name"]').value = (opts.author && opts.author.name) || "";
    q('[name="email"]').value = (opts.author && opts.author.email) || "";
  }

  const showWrite = () => {
    pv.hidden = true;
    text.hidden = false;
    pvBtn.textContent = tr.t("preview");
  };

  form.setError = (msg) => {
    err.textContent = msg || "";
  };
  form.values = () => ({
    name: kind === "edit" ? undefined : q('[name="name"]').value.trim(),
    email: kind === "edit" ? undefined : q('[name="email"]').value.trim(),
    text: text.value,
  });
  form.focusText = () => text.focus();
  form.clearText = () => {
    text.value = "";
    showWrite();
  };

  text.addEventListener("input", () => opts.input && opts.input(text.value));
  text.addEventListener("keydown", (e) => {
    // Ctrl/Cmd+Enter posts, as in most comment boxes
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("click", async (e) => {
    const f = e.target.closest("[data-f]");
    if (!f) return;
    if (f.dataset.f === "cancel") return opts.cancel();
    if (!pv.hidden) return showWrite(), text.focus();
    form.setError("");
    try {
      const html = text.value.trim() ? await opts.preview(text.value) : "";
      pv.innerHTML = html || `<p class="note">${esc(tr.t("emptyPreview"))}</p>`;
      pv.hidden = false;
      text.hidden = true;
      pvBtn.textContent = tr.t("write");
    } catch (error) {
      form.setError(opts.message(error));
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    form.setError("");
    // sites require a name by default (site setting require_name)
    const name = kind !== "edit" && q('[name="name"]');
    if (name && !name.value.trim()) {
      form.setError(tr.t("nameRequired"));
      name.focus();
      return;
    }
    if (!text.value.trim()) {
      form.setError(tr.t("textRequired"));
      showWrite();
      text.focus();
      return;
    }
    submit.disabled = true;
    const label = submit.textContent;
    submit.textContent = tr.t("posting");
    try {
      await opts.submit(form.values());
    } catch (error) {
      // the draft stays in the textarea: nothing typed is ever lost
      form.setError(opts.message(error));
    } finally {
      submit.disabled = false;
      submit.textContent = label;
    }
  });
  return form;
}
