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

/**
 * Show the reader's own comments that this page does not: those waiting for moderation
 * (only they see them), and the statement of reasons for those a moderator removed (EU
 * DSA, dsa.js). Loaded after the first render, only where the reader wrote in the thread.
 */
export async function showOwn(el) {
  const gen = el.gen;
  // One the page shows now (approved by a moderator since) is in the thread's count.
  for (const [id, own] of Object.entries(store.own())) {
    if (own.unlisted && el.byId.has(Number(id))) store.setOwn(id, { unlisted: false });
  }
  const mine = Object.entries(store.own())
    .filter(([id, own]) => own.thread === el.threadKey && !el.byId.has(Number(id)))
    .sort((a, b) => (b[1].at || 0) - (a[1].at || 0)).slice(0, 10).reverse(); // a parent before its replies
  for (const [id, own] of mine) {
    let res;
    const headers = { "X-Rostra-Edit-Token": own.token };
    try {
      res = await el.api.call("GET", `/api/comments/${id}`, { headers });
    } catch (e) {
      if (e.code !== "not_found") continue;
      const sors = await el.api.call("GET", `/api/comments/${id}/statements`, { headers })
        .then((r) => r.statements, () => []);
      if (gen !== el.gen) return;
      if (sors.length && !sors[0].lifted_at) import("./dsa.js").then((m) => m.showStatements(el, id, own, sors));
      else store.setOwn(id, null);
      continue;
    }
    if (gen !== el.gen) return;
    const c = res.comment || res;
    const held = c.state === "pending";
    const unlisted = !held && !el.byId.has(c.id) && missing(el, c);
    // unlisted: counts.js adds it to this thread's count on other pages of the site
    store.setOwn(id, { pending: held, unlisted });
    if (el.byId.has(c.id) || (!held && !unlisted)) continue;
    const li = el.insertNew(c);
    if (!held) {
      if (el.info) el.info.total += 1; // the page's count leaves it out, as it does for everyone else
      el.updateMeta();
      continue;
    }
    // Held: the statement of reasons for the hold, under the comment (EU DSA).
    const sors = await el.api.call("GET", `/api/comments/${id}/statements`, { headers })
      .then((r) => r.statements, () => []);
    if (gen === el.gen && sors.length && !sors[0].lifted_at) {
      import("./dsa.js").then((m) => m.showStatements(el, id, own, sors, li));
    }
  }
}

/**
 * Whether own comment `c`, published as the server tells its author, is missing where
 * this page would show it: the whole thread is loaded, or the newest comments down to
 * an older one, or its parent's replies. Such a comment is its author's alone (held for
 * a shadow ban, docs/moderation.md), and they must see it as published. One merely on a
 * later page is not.
 */
function missing(el, c) {
  if (c.state !== "approved") return false;
  if (c.parent_id) return el.byId.has(c.parent_id);
  if (!el.cursor) return true;
  const last = el.list.lastElementChild;
  return el.sort === "newest" && !!last && c.created_at > last._c.created_at;
}

export { remove as delete };
