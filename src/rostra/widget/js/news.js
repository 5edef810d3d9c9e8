// News of comments already on the page, from the live stream (live.js): those a
// moderator took down leave it (and come back if put back), edits and context notes show
// the comment as it now reads, votes their new counts, comments an editor pins or
// features their mark, a discussion an editor closed loses its form, all in place and
// without fetching anything. Loaded with the first such news.
import { offerFresh } from "./live.js";
import { fillComment, setVote } from "./render.js";

export function apply(el, data) {
  if (typeof data.closed === "boolean") close(el, data.closed);
  for (const p of data.pins || []) {
    // marked in place (the page keeps its order: a reload puts pinned ones first)
    const c = el.byId.get(p.id);
    if (!c) continue;
    Object.assign(c, { pinned: p.kind === "pinned", featured: p.kind === "featured" });
    const li = el.li(p.id);
    if (li) fillComment(li, c, el.ctx());
  }
  if (data.removed) takeDown(el, data.removed);
  if (data.edited) edited(el, data.edited);
  for (const v of data.votes || []) {
    const c = el.byId.get(v.id);
    if (!c) continue;
    Object.assign(c, { score: v.score, upvotes: v.upvotes, downvotes: v.downvotes });
    const li = el.li(v.id);
    if (li) setVote(li, c, el.votes[v.id] || 0);
  }
}

/**
 * Comments taken out of readers' view (rejected, deleted, spam, held again): shown as
 * removed where the page has them, dropped from those offered. Their authors' own pages
 * keep them as they are, until a reload shows what became of them.
 */
function takeDown(el, ids) {
  const gone = (el.gone = el.gone || new Set());
  const ctx = el.ctx();
  let fewer = 0;
  for (const id of ids) {
    const c = el.byId.get(id);
    if (gone.has(id) || !c || c.state === "deleted" || ctx.own(id)) continue;
    gone.add(id); // the same news may come twice (this server, then the change bus)
    // in place: a reply not shown yet (behind "N more replies") is drawn later from its
    // parent's list, which holds this same object
    Object.assign(c, { state: "deleted", author: null, html: "", edited_at: null, anchor: null });
    const li = el.li(id);
    if (li) fillComment(li, c, ctx);
    fewer += 1;
  }
  if (el.fresh) {
    const keep = (list) => list.filter((c) => !ids.includes(c.id))
      .map((c) => (c.replies ? { ...c, replies: keep(c.replies) } : c));
    offerFresh(el, keep(el.fresh.comments), el.fresh.thread);
  }
  if (fewer && el.info) {
    el.info.total = Math.max(0, el.info.total - fewer);
    el.updateMeta();
  }
}

/** A comment shown as removed that a moderator put back (an undo, an approval): shown
 * again as it now reads, its replies where they were. */
export function restore(el, shown, c) {
  el.gone?.delete(c.id);
  const { replies, ...now } = c;
  Object.assign(shown, now);
  const li = el.li(c.id);
  if (li) fillComment(li, shown, el.ctx());
  if (el.info) {
    el.info.total += 1;
    el.updateMeta();
  }
}

/** The discussion closed to new comments by an editor (or opened again): the form and
 * the Reply buttons go (or come back) at once; what a reader was writing stays in the
 * form's draft. */
function close(el, closed) {
  if (!el.info) el.info = { total: 0, closed };
  if (!!el.info.closed === closed) return;
  el.info.closed = closed;
  el.updateMeta();
  const ctx = el.ctx();
  for (const [id, c] of el.byId) {
    const li = el.li(id);
    if (li) fillComment(li, c, ctx);
  }
  if (closed) el.say(el.tr.t("closed")); // opened again: the form is back, that says it
}

/** A comment's new text (its author's or a moderator's edit) or context notes, unless
 * the page has a later text already: the author's own page shows theirs from editing it. */
function edited(el, e) {
  const c = el.byId.get(e.id);
  const ctx = el.ctx();
  if (!c || c.state === "deleted" || ctx.own(e.id) || (c.edited_at || "") > e.edited_at) return;
  Object.assign(c, { html: e.html, edited_at: e.edited_at, notes: e.notes }); // notes: as they now stand
  const li = el.li(e.id);
  if (li) fillComment(li, c, ctx);
}
