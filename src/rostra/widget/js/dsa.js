// EU Digital Services Act: a notice of illegal content (POST /api/comments/{id}/notices)
// from the report form, and the statement of reasons an author gets when their comment
// is removed, with its one appeal. Loaded only when one of them is needed.
import { esc } from "./render.js";
import { store } from "./storage.js";

let seq = 0;

function field(n, key, tag, extra, tr) {
  return `<p><label for="dn${n}${key}">${esc(tr.t(key))}</label>${tag === "textarea"
    ? `<textarea id="dn${n}${key}" name="${key}" maxlength="5000" ${extra}></textarea>`
    : `<input id="dn${n}${key}" name="${key}" ${extra}>`}</p>`;
}

/** Replace the report form `old` with the notice form for the comment of `li`. */
export async function openNotice(el, li, old, btn) {
  const { tr } = el;
  const n = ++seq;
  const form = document.createElement("form");
  form.className = "rf dsa";
  form.noValidate = true;
  let grounds = [];
  try {
    grounds = (await el.api.call("GET", "/api/dsa/grounds", { params: [["site", el.site]] })).grounds;
  } catch (error) {
    old.querySelector(".err").textContent = el.message(error);
    return;
  }
  const author = store.author();
  form.innerHTML =
    `<p><label for="dn${n}g">${esc(tr.t("dsaGround"))}</label><select id="dn${n}g" name="ground">` +
    `<option value=""></option>` +
    grounds.map((g) => `<option value="${esc(g.code)}">${esc(g.label)}</option>`).join("") + "</select></p>" +
    field(n, "dsaExplain", "textarea", "required", tr) +
    field(n, "dsaName", "input", `autocomplete="name" maxlength="200" value="${esc(author.name || "")}"`, tr) +
    field(n, "dsaEmail", "input", `type="email" autocomplete="email" maxlength="320" value="${esc(author.email || "")}"`, tr) +
    `<p><label><input type="checkbox" name="faith" id="dn${n}f"> ${esc(tr.t("dsaGoodFaith"))}</label></p>` +
    '<p class="err" role="alert"></p>' +
    `<div class="btns"><button type="submit" class="primary">${esc(tr.t("dsaSend"))}</button>` +
    `<button type="button" data-f="cancel">${esc(tr.t("cancel"))}</button></div>`;
  const err = form.querySelector(".err");
  const submit = form.querySelector("[type=submit]");
  form.querySelector('[data-f="cancel"]').addEventListener("click", () => {
    form.remove();
    btn.ariaExpanded = false;
    btn.focus();
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (submit.ariaDisabled == "true") return;
    const f = form.elements;
    const explanation = f.dsaExplain.value.trim();
    if (!f.ground.value || explanation.length < 10 || !f.faith.checked) {
      err.textContent = tr.t("dsaIncomplete");
      (!f.ground.value ? f.ground : explanation.length < 10 ? f.dsaExplain : f.faith).focus();
      return;
    }
    submit.ariaDisabled = true; // not disabled: that drops the focus
    err.textContent = "";
    const voter = store.voter();
    let res;
    try {
      res = await el.api.call("POST", `/api/comments/${li._c.id}/notices`, {
        body: { ground: f.ground.value, explanation, name: f.dsaName.value.trim() || null,
          email: f.dsaEmail.value.trim() || null, good_faith: true },
        headers: voter ? { "X-Rostra-Voter": voter } : {},
      });
    } catch (error) {
      err.textContent = el.message(error);
      submit.ariaDisabled = false;
      return;
    }
    li._reported = true;
    btn.hidden = true;
    const thanks = document.createElement("p");
    thanks.className = "ok";
    thanks.tabIndex = -1;
    thanks.textContent = tr.t("dsaReceived", {
      id: res.notice.id, date: tr.exact.format(new Date(res.notice.deadline_at)) });
    form.replaceWith(thanks);
    thanks.focus();
  });
  old.replaceWith(form);
  form.querySelector("select").focus();
}

/**
 * Show the author of comment `id` its statement of reasons: for a removed comment above
 * the list; for a held one (`li`, the comment shown to its author) folded under it.
 */
export function showStatements(el, id, own, statements, li = null) {
  const { tr } = el;
  let box = li && li.firstChild.lastChild;
  if (!box) {
    box = el.shadowRoot.querySelector(".sors");
    if (!box) {
      box = document.createElement("div");
      box.className = "sors";
      el.list.before(box);
    }
  }
  if (box.querySelector(`[data-id="${id}"]`)) return;
  const s = statements[0];
  const panel = document.createElement(li ? "details" : "section");
  panel.className = "sor";
  panel.dataset.id = id;
  panel.setAttribute("aria-label", tr.t("dsaStatement"));
  const appeal = s.appeal;
  panel.innerHTML = (li ? `<summary>${esc(tr.t("dsaStatement"))}</summary>`
    : `<p><strong>${esc(tr.t("dsaRemoved"))}</strong></p>` +
      (own.text ? `<blockquote class="quote">${esc(own.text)}</blockquote>` : "")) +
    `<p>${esc(s.facts)}</p><p>${esc(tr.t("dsaGroundIs", { ground: s.ground }))}</p>` +
    `<p>${esc(tr.t(s.automated_decision ? "dsaAuto" : "dsaHuman"))}</p>` +
    (s.redress ? `<p>${esc(s.redress)}</p>` : "") +
    (appeal ? `<p class="ok">${esc(tr.t(appeal.outcome ? "dsaUpheld" : "dsaAppealed"))}</p>` : "");
  if (s.appealable) {
    const n = ++seq;
    const form = document.createElement("form");
    form.noValidate = true;
    form.innerHTML = field(n, "dsaAppealWhy", "textarea", "required", tr) +
      `<p class="err" role="alert"></p><div class="btns"><button type="submit">${esc(tr.t("dsaAppeal"))}</button></div>`;
    const err = form.querySelector(".err");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const text = form.elements.dsaAppealWhy.value.trim();
      if (text.length < 10) {
        err.textContent = tr.t("dsaIncomplete");
        form.elements.dsaAppealWhy.focus();
        return;
      }
      try {
        await el.api.call("POST", `/api/comments/${id}/appeal`, {
          body: { statement_id: s.id, text }, headers: { "X-Rostra-Edit-Token": own.token } });
      } catch (error) {
        err.textContent = el.message(error);
        return;
      }
      const done = document.createElement("p");
      done.className = "ok";
      done.tabIndex = -1;
      done.textContent = tr.t("dsaAppealed");
      form.replaceWith(done);
      done.focus();
    });
    panel.append(form);
  }
  box.append(panel);
}
