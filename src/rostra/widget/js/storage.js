// What the widget remembers about the reader, in localStorage only (never
// cookies): name and email, the voter id, edit tokens of own comments, drafts, and a
// sign-in with a provider.

const PREFIX = "rostra:";
const DAY_MS = 86400 * 1000;
// An own comment's edit token proves authorship: for editing, and for the statement of
// reasons and appeal of a removed one (EU DSA: six months from the decision), so it is
// kept past any edit window and that; its text (the bulky part) only a month.
const OWN_KEEP_MS = 200 * DAY_MS;
const OWN_TEXT_MS = 30 * DAY_MS;
const OWN_MAX = 200; // the newest only: a prolific author's list stays small

function read(key, fallback) {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    return raw == null ? fallback : JSON.parse(raw);
  } catch {
    return fallback; // storage disabled (private mode, sandboxed frame) or corrupt
  }
}

function write(key, value) {
  try {
    if (value == null) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // full or disabled: the widget keeps working, it just forgets
  }
}

export const store = {
  author: () => read("author", { name: "", email: "" }),
  setAuthor: (name, email) => write("author", { name, email }),
  voter: () => read("voter", null),
  setVoter: (v) => write("voter", v),
  /** A sign-in with a provider, per site: {token, name, email}. */
  session: (site) => read("session:" + site, null),
  setSession: (site, value) => write("session:" + site, value),
  draft: (thread) => read("draft:" + thread, ""),
  setDraft: (thread, text) => write("draft:" + thread, text || null),

  /** Own comments: {id: {token, until (ms), thread, text?, pending, at (ms)}}; `text` is gone after 30 days. */
  own() {
    const now = Date.now();
    const all = Object.entries(read("own", {}));
    const own = Object.fromEntries(all.filter(([, o]) => o && now - o.at < OWN_KEEP_MS)
      .sort((a, b) => b[1].at - a[1].at).slice(0, OWN_MAX));
    let pruned = Object.keys(own).length < all.length;
    for (const o of Object.values(own)) if (now - o.at > OWN_TEXT_MS && o.text != null) pruned = delete o.text;
    if (pruned) write("own", own);
    return own;
  },
  ownOne: (id) => store.own()[id] || null,
  setOwn(id, entry) {
    const all = store.own();
    if (entry) all[id] = { ...(all[id] || {}), ...entry };
    else delete all[id];
    write("own", all);
  },
};
