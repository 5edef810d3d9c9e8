// Reporting a comment to the moderators (POST /api/comments/{id}/flag), loaded
// the first time a reader opens "Report".
import { esc } from "./render.js";
import { store } from "./storage.js";

const REASONS = [["spam", "reason_spam"], ["abuse", "reason_abuse"],
  ["off-topic", "reason_off_topic"], ["other", "reason_other"]];

let seq = 0;

/** Open the report form in the comment's slot; `btn` is the comment's Report button. */
export function openReport(el, li, btn) {
  const { tr } = el;
  const slot = li.firstChild.lastChild;
  if (slot.querySelector(".rf")) return slot.querySelector("input").focus();
  const n = ++seq;
  const form = document.createElement("form");
  form.className = "rf";
  form.noValidate = true;
  form.innerHTML =
    // the reasons are described by the error under them ("Please choose a reason.")
    `<fieldset aria-describedby="rr${n}e"><legend>${esc(tr.t("reportWhy"))}</legend>` +
    REASONS.map(([value, key]) =>
      `<label><input type="radio" name="reason" value="${value}" id="rr${n}${value}"> ${esc(tr.t(key))}</label>`,
    ).join("") + "</fieldset>" +
    `<p class="err" id="rr${n}e" role="alert"></p>` +
    `<div class="btns"><button type="submit" class="primary">${esc(tr.t("sendReport"))}</button>` +
    `<button type="button" data-f="cancel">${esc(tr.t("cancel"))}</button>` +
    `<button type="button" data-f="dsa">${esc(tr.t("dsaReport"))}</button></div>`;
  const err = form.querySelector(".err");
  const submit = form.querySelector("[type=submit]");
  const close = () => {
    form.remove();
    btn.ariaExpanded = false;
    btn.focus();
  };
  form.querySelector('[data-f="cancel"]').addEventListener("click", close);
  // Escape closes it too, as in reply and edit forms
  form.addEventListener("keydown", (e) => e.key == "Escape" && close());
  form.querySelector('[data-f="dsa"]').addEventListener("click", () =>
    import("./dsa.js").then((m) => m.openNotice(el, li, form, btn)));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (submit.ariaDisabled == "true") return;
    const reason = form.elements.reason.value;
    if (!reason) {
      err.textContent = tr.t("reasonRequired");
      form.querySelector("input").focus();
      return;
    }
    submit.ariaDisabled = true; // not disabled: that drops the focus
    err.textContent = "";
    const voter = store.voter();
    try {
      await el.api.call("POST", `/api/comments/${li._c.id}/flag`, {
        body: { reason }, headers: voter ? { "X-Rostra-Voter": voter } : {},
      });
    } catch (error) {
      err.textContent = el.message(error);
      submit.ariaDisabled = false;
      return;
    }
    li._reported = true;
    btn.hidden = true;
    btn.ariaExpanded = false;
    const thanks = document.createElement("p");
    thanks.className = "ok";
    thanks.tabIndex = -1;
    thanks.textContent = tr.t("reported");
    form.replaceWith(thanks);
    thanks.focus();
  });
  slot.append(form);
  btn.ariaExpanded = true;
  form.querySelector("input").focus();
}
