// Comments a moderator took down while the page was open: the live stream names them
// (live.js), and they leave the page at once.
import { offerFresh } from "./live.js";
import { fillComment } from "./render.js";

/**
 * Comments taken out of readers' view (rejected, deleted, spam, held again): shown as
 * removed where the page has them, dropped from those offered. Their authors' own pages
 * keep them as they are, until a reload shows what became of them.
 */
export function takeDown(el, ids) {
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
