// Live updates: a Server-Sent Events stream (GET /api/events) says the thread
// changed. A new comment comes in the event itself and is offered at once; comments a
// moderator took down, edits and votes come in it too, and show in place (news.js).
// For other news the element fetches the newest page, at a moment of its own so that
// the pages open on a busy thread do not all ask at once.
import { descendants } from "./render.js";

const PAGE = 20; // as many as the first page of the newest sort
const DELAY_MS = 800; // gather a burst of "changed" events into one fetch
const SPREAD_MS = 4000; // and spread the fetches of many pages over a few seconds
const REOPEN_MS = 5000; // a stream the browser gave up on: try again after 5-10 s,
const REOPEN_MAX_MS = 60000; // twice as long each time it fails, up to 1-2 minutes

/** Open, keep or close the stream to match what the reader sees. */
export function syncStream(el) {
  const want = el.visible && el.ready && document.visibilityState === "visible" &&
    typeof EventSource === "function";
  const url = want ? el.api.url("/api/events", el.threadParams()) : null;
  if (el.events && el.events.url === url) return;
  if (el.events) {
    el.events.close();
    el.missed = true; // news while it is closed (a hidden tab, scrolled away) is not heard
  }
  el.events = null;
  clearTimeout(el.changeTimer);
  el.changeTimer = null;
  clearTimeout(el.reopenTimer);
  el.reopenTimer = null;
  if (!url) return;
  const events = new EventSource(url);
  let opened = false;
  events.addEventListener("changed", (e) => onChanged(el, e.data));
  // a reopened stream (or one the browser reconnected, or one opened after a page
  // served from just before a write) may have missed news
  events.addEventListener("open", () => {
    if (opened || el.streamFailures || el.missed) onChanged(el);
    opened = true;
    el.missed = false;
    el.streamFailures = 0;
  });
  // The browser reconnects a stream that ends or drops by itself, but gives up for good
  // on an error answer (a proxy's 502 while the server restarts): open it again later.
  events.addEventListener("error", () => {
    if (events.readyState !== EventSource.CLOSED || el.events !== events) return;
    el.events = null;
    const failures = (el.streamFailures || 0) + 1;
    el.streamFailures = failures;
    const wait = Math.min(REOPEN_MAX_MS, REOPEN_MS * 2 ** (failures - 1));
    el.reopenTimer = setTimeout(() => {
      el.reopenTimer = null;
      syncStream(el);
    }, wait * (1 + Math.random()));
  });
  el.events = events;
}

/**
 * A page was served from just before a write (X-Rostra-Stale-Ms): the write's news may
 * have gone out before this page listened. Fetch it once the stream is open.
 */
export function missedNews(el) {
  if (el.events && el.events.readyState === EventSource.OPEN) onChanged(el);
  else el.missed = true;
}

function onChanged(el, raw) {
  let data = null;
  try {
    data = raw ? JSON.parse(raw) : null;
  } catch {
    data = null;
  }
  // in the order they came, also while news.js loads
  el.inOrder = (el.inOrder || Promise.resolve()).then(() => take(el, data)).catch(() => {});
}

function take(el, data) {
  if (data && data.comment) return takeLive(el, data.comment);
  // news of comments on the page (taken down, edited, voted on): loaded when one comes
  if (data && (data.removed || data.edited || data.votes || data.pins || typeof data.closed === "boolean")) return import("./news.js").then((m) => m.apply(el, data));
  if (el.changeTimer) return; // a fetch is due already
  el.changeTimer = setTimeout(() => {
    el.changeTimer = null;
    checkNew(el);
  }, DELAY_MS + Math.random() * SPREAD_MS);
}

/** A comment that came in the event: offer it, as if the newest page had brought it. */
function takeLive(el, c) {
  if (el.sort === "inline" || c.state !== "approved") return;
  const shown = el.byId.get(c.id);
  // shown already (as removed, if a moderator took it down and then put it back)
  if (shown) return shown.state === "deleted" && import("./news.js").then((m) => m.restore(el, shown, c));
  if (c.created_at < el.newestAt) return; // older than the page
  const comments = el.fresh ? [...el.fresh.comments] : [];
  if (findIn(comments, c.id)) return; // offered already
  if (c.parent_id && !el.li(c.parent_id)) {
    // a reply to a comment offered but not shown yet goes with it; others are elsewhere
    const parent = findIn(comments, c.parent_id);
    if (!parent) return;
    parent.replies = [...(parent.replies || []), c];
    delete parent._n;
  } else {
    comments.push(c);
  }
  offerFresh(el, comments, null); // no totals in the event: showFresh counts what it adds
}

function findIn(comments, id) {
  for (const c of comments) {
    if (c.id === id) return c;
    const found = findIn(c.replies || [], id);
    if (found) return found;
  }
  return null;
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
    } else if (c.created_at >= el.newestAt && c.state !== "deleted" && parentKnown) {
      fresh.push(c); // its replies come with it
    }
  };
  for (const c of data.comments) walk(c, true);
  // comments the stream brought since this page was read stay offered (and counted on
  // showing: the page's totals predate them)
  const later = (el.fresh ? el.fresh.comments : []).filter((c) => !findIn(data.comments, c.id));
  offerFresh(el, [...fresh, ...later], later.length ? null : data.thread);
}

/** Show (or hide) the button for the comments not shown yet. */
export function offerFresh(el, comments, thread) {
  // one just posted from this page may have raced its own news: it is shown already
  comments = comments.filter((c) => !el.byId.has(c.id));
  el.fresh = { comments, thread };
  const n = comments.reduce((sum, c) => sum + 1 + descendants(c), 0);
  const btn = el.freshBtn;
  const text = el.tr.t("newComments", { n });
  // in a live region: any write, even of the same words, may have them said again
  if (btn.hidden != !n) btn.hidden = !n;
  if (btn.textContent != text) btn.textContent = text;
}

/** The "N new comments — show" button: put them in place and focus the first. */
export function showFresh(el) {
  const { comments, thread } = el.fresh || { comments: [] };
  el.freshBtn.hidden = true;
  el.fresh = null;
  let first = null;
  let added = 0;
  for (const c of comments.sort((a, b) => a.id - b.id)) {
    if (el.byId.has(c.id) || (c.parent_id && !el.li(c.parent_id))) continue;
    const li = el.insertNew(c);
    added += 1 + descendants(c);
    if (!c.parent_id || !first) first = li;
  }
  if (thread) el.info = thread;
  else if (el.info) el.info.total += added;
  else el.info = { total: added, closed: false };
  el.updateMeta();
  // None added (another way brought them meanwhile, as "Load more"): the focus, on the
  // button just hidden, goes to where the first of them is, or the list, not the page.
  first = first || comments.map((c) => el.li(c.id)).find(Boolean);
  const to = first ? first.firstChild : el.panel;
  to.tabIndex = -1;
  to.focus();
}
