// Comment counts on index pages: every <… data-rostra-count="/path/"> on the
// page is filled from one request, whatever the number of links.
import { loadStrings, pickLang } from "./i18n.js";

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
  for (const el of els) {
    const n = data.counts[el.dataset.rostraCount || el.getAttribute("href")];
    if (n === undefined) continue;
    el.textContent = tr.t("comments", { n });
    el.dataset.rostraCountValue = String(n);
  }
}
