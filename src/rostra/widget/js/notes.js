// Context notes for signed-in readers: rate the notes others proposed under a comment
// (GET /api/comments/{id}/notes, POST /api/notes/{id}/rating) and propose one
// (POST /api/comments/{id}/notes). Loaded the first time a reader opens "Context".
import { esc } from "./render.js";

let seq = 0;

/** Open the notes panel in the comment's slot; `btn` is the comment's Context button. */
export async function openNotes(el, li, btn) {
  const { tr } = el;
  const slot = li.firstChild.lastChild;
  const open = slot.querySelector(".nf");
  if (open) return open.querySelector("textarea").focus();
  const n = ++seq;
  const panel = document.createElement("section");
  panel.className = "nf";
  panel.setAttribute("aria-label", tr.t("noteAction"));
  panel.innerHTML =
    `<h3>${esc(tr.t("noteWaiting"))}</h3><ul class="nq" aria-live="polite"></ul>` +
    `<form novalidate><label for="nt${n}">${esc(tr.t("noteWrite"))}</label>` +
    `<textarea id="nt${n}" rows="3" maxlength="2000" required></textarea>` +
    `<label for="ns${n}">${esc(tr.t("noteSourcesHint"))}</label>` +
    `<textarea id="ns${n}" rows="2"></textarea>` +
    '<p class="err" role="alert"></p>' +
    `<div class="btns"><button type="submit" class="primary">${esc(tr.t("noteSend"))}</button>` +
    `<button type="button" data-f="cancel">${esc(tr.t("cancel"))}</button></div></form>`;
  const list = panel.querySelector(".nq");
  const form = panel.querySelector("form");
  const [text, sources] = form.querySelectorAll("textarea");
  const err = form.querySelector(".err");
  const submit = form.querySelector("[type=submit]");
  const close = () => {
    panel.remove();
    btn.focus();
  };
  form.querySelector('[data-f="cancel"]').addEventListener("click", close);
  slot.append(panel);
  text.focus();
  try {
    const data = await el.api.call("GET", `/api/comments/${li._c.id}/notes`);
    showWaiting(el, list, data.proposed || []);
  } catch (error) {
    list.replaceChildren(item(el.message(error)));
  }
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (submit.ariaDisabled == "true") return;
    if (!text.value.trim()) {
      err.textContent = tr.t("noteRequired");
      return text.focus();
    }
    submit.ariaDisabled = true; // not disabled: that drops the focus
    err.textContent = "";
    try {
      await el.api.call("POST", `/api/comments/${li._c.id}/notes`, {
        body: { text: text.value, sources: sources.value.split(/\s+/).filter(Boolean) },
      });
    } catch (error) {
      err.textContent = el.message(error);
      submit.ariaDisabled = false;
      return;
    }
    const thanks = document.createElement("p");
    thanks.className = "ok";
    thanks.tabIndex = -1;
    thanks.textContent = tr.t("noteSent");
    form.replaceWith(thanks);
    thanks.focus();
  });
}

function item(textContent) {
  const li = document.createElement("li");
  li.textContent = textContent;
  return li;
}

/** The proposed notes, each with Helpful / Not helpful (pressed: the reader's rating). */
function showWaiting(el, list, notes) {
  const { tr } = el;
  if (!notes.length) return list.replaceChildren(item(tr.t("noteNone")));
  list.replaceChildren(...notes.map((note) => {
    const li = document.createElement("li");
    const body = document.createElement("div");
    body.className = "note-b";
    body.innerHTML = note.html; // sanitised by the server
    const group = document.createElement("div");
    group.className = "btns";
    group.setAttribute("role", "group");
    const buttons = [[true, "noteHelpful"], [false, "noteNotHelpful"]].map(([helpful, key]) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = tr.t(key);
      b.setAttribute("aria-pressed", String(note.your_rating === helpful));
      b.addEventListener("click", async () => {
        try {
          const res = await el.api.call("POST", `/api/notes/${note.id}/rating`, { body: { helpful } });
          for (const [other, value] of buttons) other.setAttribute("aria-pressed", String(res.note.your_rating === value));
        } catch (error) {
          el.say(el.message(error));
        }
      });
      return [b, helpful];
    });
    group.append(...buttons.map(([b]) => b));
    li.append(body, group);
    return li;
  }));
}
