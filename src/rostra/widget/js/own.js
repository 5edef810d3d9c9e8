// The reader's own comments: edit and delete (loaded on the first click of either),
// proven by the edit token this browser got when it posted.
import { createForm } from "./form.js";
import { fillComment } from "./render.js";
import { store } from "./storage.js";

/** Edit one of the reader's own comments in place, with its edit token. */
export function edit(el, li, btn) {
  const slot = li.firstChild.lastChild;
  const c = li._c;
  const own = store.ownOne(c.id);
  if (!own) return;
  const body = li.firstChild.children[1];
  const close = () => {
    slot.replaceChildren();
    body.hidden = false;
    btn.focus();
  };
  const form = createForm({
    tr: el.tr, kind: "edit", label: el.tr.t("editText"), text: c.text ?? own.text ?? "",
    submit: async (v) => {
      const res = await el.api.call("PATCH", `/api/comments/${c.id}`, {
        body: { text: v.text }, headers: { "X-Rostra-Edit-Token": own.token },
      });
      Object.assign(c, res.comment || res);
      store.setOwn(c.id, { text: v.text });
      fillComment(li, c, el.ctx());
      close();
      el.say(el.tr.t("saved"));
    },
    preview: (text) => el.preview(text), message: (e) => el.message(e), cancel: close,
    limit: () => el.limit,
  });
  body.hidden = true;
  slot.replaceChildren(form);
  form.focusText();
}

/** Delete one of the reader's own comments: two clicks, so a stray one deletes nothing. */
async function remove(el, li, btn) {
  if (!btn.dataset.confirm) {
    btn.dataset.confirm = "1";
    btn.textContent = el.tr.t("confirmDelete");
    // said aloud too: screen readers do not always read a focused button's new name
    el.say(btn.textContent);
    return;
  }
  const c = li._c;
  const own = store.ownOne(c.id);
  try {
    await el.api.call("DELETE", `/api/comments/${c.id}`, { headers: { "X-Rostra-Edit-Token": own && own.token } });
  } catch (error) {
    el.err.textContent = el.message(error);
    el.say(el.message(error));
    return;
  }
  store.setOwn(c.id, null);
  if (el.info && c.state === "approved") el.info.total = Math.max(0, el.info.total - 1);
  if (c.replies.length) {
    Object.assign(c, { state: "deleted", author: null, html: "" });
    fillComment(li, c, el.ctx());
    li.firstChild.tabIndex = -1;
    li.firstChild.focus();
  } else {
    el.seen.delete(c.id);
    el.byId.delete(c.id);
    const parent = el.byId.get(c.parent_id);
    if (parent) parent.replies = parent.replies.filter((r) => r !== c);
    li.remove();
    el.panel.focus();
  }
  el.updateMeta();
  el.say(el.tr.t("removed"));
}

export { remove as delete };
