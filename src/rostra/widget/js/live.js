// Live updates: a Server-Sent Events stream (GET /api/events) says the thread
// changed; the element then fetches the newest page and offers what is new.
import { descendants } from "./render.js";

const PAGE = 20; // as many as the first page of the newest sort
const DELAY_MS = 800; // gather a burst of "changed" events into one fetch

/** Open, keep or close the stream to match what the reader sees. */
export function syncStream(el) {
  const want = el.visible && el.ready && document.visibilityState === "visible" &&
    typeof EventSource === "function";
  const url = want ? el.api.url("/api/events", el.threadParams()) : null;
  if (el.events && el.events.url === url) return;
  if (el.events) el.events.close();
  el.events = null;
  clearTimeout(el.changeTimer);
  if (!url) return;
  const events = new EventSource(url);
  let opened = false;
  events.addEventListener("changed", () => onChanged(el));
  // a reopened stream (or one the browser reconnected) may have missed news
  events.addEventListener("open", () => (opened ? onChanged(el) : (opened = true)));
  el.events = events;
}

function onChanged(el) {
  clearTimeout(el.changeTimer);
  el.changeTimer = setTimeout(() => checkNew(el), DELAY_MS);
}

/**
 * Fetch the newest page and offer what the reader has not seen behind a polite
 * "N new comments — show" button, instead of moving the page under them.
 */
async function checkNew(el) {
  const gen = el.gen;
  if (el.sort === "inline") return;
  let data;
  try {
    data = await el.api.call("GET", "/api/comments", {
      params: [...el.threadParams(), ["sort", "newest"], ["limit", String(PAGE)]],
    });
  } catch {
    return; // the next change tries again
  }
  if (gen !== el.gen) return;
  const fresh = [];
  const walk = (c, parentKnown) => {
    if (el.byId.has(c.id)) {
      for (const r of c.replies || []) walk(r, !!el.li(c.id));
    } else if (c.id > el.newestId && c.state !== "deleted" && parentKnown) {
      fresh.push(c); // its replies come with it
    }
  };
  for (const c of data.comments) walk(c, true);
  offerFresh(el, fresh, data.thread);
}

/** Show (or hide) the button for the comments not shown yet. */
export function offerFresh(el, comments, thread) {
  // one just posted from this page may have raced its own news: it is shown already
  comments = comments.filter((c) => !el.byId.has(c.id));
  el.fresh = { comments, thread };
  const n = comments.reduce((sum, c) => sum + 1 + descendants(c), 0);
  el.freshBtn.hidden = !n;
  el.freshBtn.textContent = el.tr.t("newComments", { n });
}

/** The "N new comments — show" button: put them in place and focus the first. */
export function showFresh(el) {
  const { comments, thread } = el.fresh || { comments: [] };
  el.freshBtn.hidden = true;
  el.fresh = null;
  let first = null;
  for (const c of comments.sort((a, b) => a.id - b.id)) {
    if (el.byId.has(c.id) || (c.parent_id && !el.li(c.parent_id))) continue;
    const li = el.insertNew(c);
    if (!c.parent_id || !first) first = li;
  }
  if (thread) el.info = thread;
  el.updateMeta();
  if (first) {
    first.firstChild.tabIndex = -1;
    first.firstChild.focus();
  }
}
