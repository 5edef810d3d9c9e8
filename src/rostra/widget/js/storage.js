// What the widget remembers about the reader, in localStorage only (never
// cookies): name and email, the voter id, edit tokens of own comments, drafts, and a
// sign-in with a provider.

const PREFIX = "rostra:";
const OWN_KEEP_MS = 30 * 86400 * 1000; // keep tokens this long to show own pending comments

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

  /** Own comments: {id: {token, until (ms), thread, text, pending, at (ms)}}. */
  own() {
    const all = read("own", {});
    const now = Date.now();
    let pruned = false;
    for (const [id, o] of Object.entries(all)) {
      if (!o || now - (o.at || 0) > OWN_KEEP_MS) {
        delete all[id];
        pruned = true;
      }
    }
    if (pruned) write("own", all);
    return all;
  },
  ownOne: (id) => store.own()[id] || null,
  setOwn(id, entry) {
    const all = store.own();
    if (entry) all[id] = { ...(all[id] || {}), ...entry };
    else delete all[id];
    write("own", all);
  },
};
