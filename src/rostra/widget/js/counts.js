// Comment counts on index pages: every <… data-rostra-count="/path/"> on the
// page is filled from one request, whatever the number of links.
import { loadStrings, pickLang } from "./i18n.js";
import { store } from "./storage.js";

const GET_LIMIT = 40; // beyond this many threads the query string gets long: POST instead

export async function showCounts(api, site) {
  const els = [...document.querySelectorAll("[data-rostra-count]")];
  const keys = [...new Set(els.map((el) => el.dataset.rostraCount || el.getAttribute("href")).filter(Boolean))];
  if (!keys.length) return;
  const [tr, data] = await Promise.all([
    loadStrings(pickLang(document.documentElement.lang, navigator.language)),
    keys.length > GET_LIMIT
      ? api.call("POST", "/api/counts", { body: { site: site || undefined, threads: keys } })
      : api.call("GET", "/api/counts", { params: [["site", site], ...keys.map((k) => ["thread", k])] }),
  ]).catch(() => [null, null]);
  if (!data) return; // counts are decoration: leave the page's own text
  const hidden = ownUnlisted();
  for (const el of els) {
    const key = el.dataset.rostraCount || el.getAttribute("href");
    let n = data.counts[key];
    if (n === undefined) continue;
    n += hidden.get(keyOf(key)) || 0;
    el.textContent = tr.t("comments", { n });
    el.dataset.rostraCountValue = String(n);
  }
}

/**
 * The reader's own comments that the public counts leave out though they are shown to
 * their author as published (held for a shadow ban, docs/moderation.md: own.js marks
 * them `unlisted` when their thread's page misses them), by thread key. Added in this
 * reader's browser only, as the thread's own heading adds them; the counts stay shared.
 */
function ownUnlisted() {
  const by = new Map();
  for (const own of Object.values(store.own())) {
    if (own.unlisted && own.thread) by.set(keyOf(own.thread), (by.get(keyOf(own.thread)) || 0) + 1);
  }
  return by;
}

/** A thread's key as the server stores it (core/thread_keys.py), near enough: a URL or
 * path by its path and query, with no trailing slash; any other id as written. */
function keyOf(ident) {
  const s = String(ident).trim();
  if (!/^(https?:\/\/|\/)/i.test(s)) return s;
  try {
    const u = new URL(s, "http://x");
    return (u.pathname.replace(/\/+$/, "") || "/") + u.search;
  } catch {
    return s;
  }
}
