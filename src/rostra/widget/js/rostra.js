// <rostra-comments>: the discussion section under an article.
// Loaded by embed.js; everything it needs before the first render is in this
// folder (en strings, styles, render, form), other languages load on demand.
import { Api, accountOf } from "./api.js";
import { store } from "./storage.js";
import { loadStrings, pickLang, RTL } from "./i18n.js";
import { css } from "./styles.js";
import { pageIsDark, watchPage } from "./theme.js";
import { createForm } from "./form.js";
import { missedNews, offerFresh, showFresh, syncStream } from "./live.js";
import {
  makeTemplate, renderComment, setVote, setToggle, renderReplies, repliesList,
} from "./render.js";

// Replaced by build.py with "1" when the inline-feedback module is present.
const HAS_INLINE = "__ROSTRA_INLINE__" === "1";
const PAGE = 20; // top-level comments per page
const FIRST_CHUNK = 300; // comments rendered before the first paint
const CHUNK = 150; // comments per later task, so 2,000 never freeze the page
const SORTS = ["newest", "oldest", "votes"];
const offers = new Map(); // per site: the ways to sign in, asked once per page
let emailCode = null; // the one-time code an email sign-in link brought back

/**
 * Hooks run in order on every comment payload before it is posted; each may
 * change the payload or throw to stop the post. Each gets (payload, {api, element,
 * retry}); `retry` is true on the one repeat after the server refused a proof of work.
 */
export const beforePost = [];

// Refusal reasons after which one more try with a fresh proof of work can succeed.
const POW_REASONS = ["pow_required", "pow_invalid", "pow_expired", "pow_too_easy", "pow_replayed"];

/** Proof of work: solve the server's challenge when it asks for one (pow.js loads then). */
beforePost.push(async (payload, { api, element, retry }) => {
  let challenge;
  try {
    challenge = await api.call("GET", "/api/pow", { params: element.threadParams() });
  } catch (error) {
    if (retry) throw error;
    return; // the post itself will tell whether the server is reachable
  }
  if (!challenge.required && !retry) return;
  const { solveChallenge } = await import("./pow.js");
  payload.pow = await solveChallenge(challenge);
});

const config = { base: new URL("../../", import.meta.url).href, site: null };

// Wait for the next frame to be painted, so each chunk's style and layout work
// lands in its own frame instead of one long freeze at the end.
const nextTask = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));

/** The code in the address's fragment (#rostra-sign-in=…), taken once and removed
 * from the address so that it is neither bookmarked nor used twice. */
function takeEmailCode() {
  if (emailCode === null) {
    const m = /^#rostra-sign-in=([\w-]{10,100})$/.exec(location.hash);
    emailCode = m ? m[1] : "";
    if (m) history.replaceState(history.state, "", location.pathname + location.search);
  }
  const code = emailCode;
  emailCode = "";
  return code;
}

/** Start the widget on this page: called once by embed.js. */
export function boot(opts = {}) {
  Object.assign(config, opts);
  const script = opts.script;
  if (script && !config.site) config.site = script.dataset.site || null;
  // script-only embed: <script src=".../embed.js" data-thread="…"> and no element
  if (script && "thread" in script.dataset && !document.querySelector("rostra-comments")) {
    const el = document.createElement("rostra-comments");
    for (const k of ["site", "thread", "title", "lang", "theme"]) {
      if (script.dataset[k]) el.setAttribute(k, script.dataset[k]);
    }
    script.after(el);
  }
  if (!customElements.get("rostra-comments")) customElements.define("rostra-comments", RostraComments);
  if (document.querySelector("[data-rostra-count]")) {
    import("./counts.js").then((m) => m.showCounts(new Api(config.base), config.site));
  }
}

function pageUrl() {
  const link = document.querySelector('link[rel="canonical"]');
  const u = new URL(link ? link.href : location.href);
  u.hash = "";
  return u.href;
}

class RostraComments extends HTMLElement {
  static observedAttributes = ["theme", "thread", "site", "lang", "sso"];

  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this.gen = 0;
  }

  connectedCallback() {
    this.watch(true);
    if (this.started) return;
    this.started = true;
    this.start();
  }

  disconnectedCallback() {
    this.watch(false);
  }

  /**
   * Live updates: an EventSource on /api/events is open while the element is in
   * the viewport of a visible page, and closed when it leaves or is removed.
   */
  watch(on) {
    if (on && !this.io) {
      this.io = new IntersectionObserver((entries) => {
        this.visible = entries[entries.length - 1].isIntersecting;
        syncStream(this);
      });
      this.io.observe(this);
      this.onVisibility = () => syncStream(this);
      document.addEventListener("visibilitychange", this.onVisibility);
    } else if (!on && this.io) {
      this.io.disconnect();
      this.io = null;
      document.removeEventListener("visibilitychange", this.onVisibility);
      this.visible = false;
      syncStream(this);
    }
  }

  attributeChangedCallback(name, old, value) {
    if (!this.started || old === value) return;
    if (name === "theme") this.applyTheme();
    else this.start();
  }

  get threadKey() {
    return this.getAttribute("thread") || pageUrl();
  }

  /** Render the skeleton and the first page (again, when an attribute changed). */
  async start() {
    const gen = ++this.gen;
    this.site = this.getAttribute("site") || config.site;
    // Signed in by the host site (its payload) or with a provider (a session): the
    // proof goes with every call.
    const sso = this.getAttribute("sso") || "";
    const code = !sso && this.site && takeEmailCode();
    if (code) await this.tradeEmailCode(code);
    const session = !sso && this.site ? store.session(this.site) : null;
    this.account = sso ? accountOf(sso) : session ? { name: session.name, email: session.email, session: true } : null;
    this.api = new Api(config.base, sso ? { "X-Rostra-SSO": sso } : session ? { "X-Rostra-Session": session.token } : {});
    this.listenForSignIn();
    const langEl = this.closest("[lang]");
    this.limit = this.limit || 10000; // the site's, once the first page says it
    this.tr = await loadStrings(pickLang(this.getAttribute("lang"), langEl && langEl.lang, navigator.language));
    if (gen !== this.gen) return;
    this.tpl = makeTemplate(this.tr);
    this.sort = SORTS.includes(this.getAttribute("sort")) ? this.getAttribute("sort") : "newest";
    this.skeleton();
    this.applyTheme();
    await this.reload();
    if (!this.hashBound) {
      this.hashBound = true;
      addEventListener("hashchange", () => this.followHash());
    }
    await this.followHash();
    this.ready = true; // the first page is shown: live news can follow
    if (gen === this.gen) syncStream(this);
    if (HAS_INLINE) this.mountInline();
  }

  /** The sign-in popup reports here (only messages from the Rostra server count). */
  listenForSignIn() {
    if (this.signInBound) return;
    this.signInBound = true;
    addEventListener("message", (e) => {
      const data = e.data;
      if (e.origin !== new URL(config.base).origin || !data || typeof data !== "object") return;
      if (data.rostra === "signed-in" && data.site === this.site) {
        store.setSession(this.site, { token: data.session, name: data.name, email: data.email });
        this.start();
      } else if (data.rostra === "sign-in-failed" && this.form) {
        this.form.setError(this.message({ code: data.code }));
      }
    });
  }

  /** "Sign in with …": the site's providers, each in a popup of its own, and email links. */
  async offerSignIn(form) {
    if (this.account || !this.site) return;
    if (!offers.has(this.site)) {
      offers.set(this.site, this.api.call("GET", "/auth/providers", { params: [["site", this.site]] })
        .catch(() => ({ providers: [] })));
    }
    const offer = await offers.get(this.site);
    if (!offer.providers.length && !offer.email && !offer.passkeys) return;
    form.offerSignIn(offer, (name) => {
      if (name === "") return import("./account.js").then((m) => m.emailForm(this, form));
      if (name === ":passkey") return import("./account.js").then((m) => m.passkeySignIn(this, form));
      const url = new URL(`auth/${encodeURIComponent(name)}/start`, config.base);
      url.searchParams.set("site", this.site);
      url.searchParams.set("origin", location.origin);
      open(url.href, "rostra-sign-in", "popup,width=520,height=660");
    });
    if (this.signInError) form.setError(this.message(this.signInError));
    this.signInError = null;
  }

  /** Back from an email link: trade its one-time code for a session on this site. */
  async tradeEmailCode(code) {
    try {
      const r = await new Api(config.base).call("POST", "/auth/email/session", { body: { site: this.site, code } });
      store.setSession(this.site, { token: r.session, name: r.name, email: r.email });
    } catch (error) {
      this.signInError = error;
    }
  }

  /** Sign out: the server ends the session (it stays ended if this page is closed
   * first), then this browser forgets it. */
  async signOut() {
    try {
      await this.api.call("POST", "/api/account/sign-out", { params: [["site", this.site]] });
    } catch {
      // ended already, or the server is unreachable: forgetting it here still signs out
    }
    store.setSession(this.site, null);
    this.start();
  }

  /**
   * Passage comments in the article (inline/inline.js, when shipped): mounted
   * after the first render so it never delays it. The article is the element
   * named by the `content` attribute, else the first <article> outside us.
   */
  async mountInline() {
    const sel = this.getAttribute("content");
    const contentRoot = sel ? document.querySelector(sel)
      : [...document.querySelectorAll("article")].find((a) => !a.contains(this));
    if (!contentRoot || this.inline) return;
    const gen = this.gen;
    try {
      const [m, glue, data] = await Promise.all([
        import("./inline/inline.js"),
        import("./inline-glue.js"),
        this.api.call("GET", "/api/comments", { params: [...this.threadParams(), ["sort", "oldest"], ["limit", "all"]] }),
      ]);
      if (gen !== this.gen || this.inline) return;
      this.inline = m.mountInline({
        contentRoot, comments: data.comments, theme: this.root.dataset.theme, author: store.author(),
        ...glue.inlineOptions(this),
        postComment: (p) => this.postInline(p),
        onOpenComment: (id) => (location.hash = "#comment-" + id),
      });
    } catch {
      // passage comments are an extra: the discussion works without them
    }
  }

  async postInline({ text, name, email, anchor, parent_id }) {
    const payload = {
      thread: this.threadKey, title: this.getAttribute("title") || document.title, url: pageUrl(),
      parent_id: parent_id ?? null, name: name || null, email: email || null, website: null, text, anchor,
    };
    if (this.site) payload.site = this.site;
    let res;
    try {
      res = await this.postComment(payload);
    } catch (error) {
      throw new Error(this.message(error));
    }
    this.remember(res, text);
    this.showPosted({ ...res.comment, replies: [] });
    return res.comment;
  }

  /** A comment posted outside the form (a passage's panel): into list, tab and count. */
  showPosted(c) {
    if (this.byId.has(c.id)) return;
    if (this.sort === "inline") {
      this.index(c, true, false);
      if (!c.parent_id) this.list.prepend(renderComment(c, 0, this.ctx()));
    } else {
      this.insertNew(c);
    }
    if (c.state === "approved" && this.info) this.info.total += 1;
    if (!this.info) this.info = { total: c.state === "approved" ? 1 : 0, closed: false };
    this.updateMeta();
    if (this.sort === "inline") this.note.textContent = "";
    // a held one is said by the passage's panel, where the focus goes
    if (c.state === "approved") this.say(this.tr.t("posted"));
  }

  remember(res, text) {
    const c = res.comment;
    if (res.voter) store.setVoter(res.voter);
    store.setOwn(c.id, {
      token: res.edit_token, until: Date.parse(res.editable_until), thread: this.threadKey,
      text, pending: c.state === "pending", at: Date.now(),
    });
  }

  skeleton() {
    const { tr } = this;
    const root = document.createElement("div");
    root.className = "r";
    root.lang = tr.lang;
    root.dir = RTL.includes(tr.lang) ? "rtl" : "ltr";
    const tabs = SORTS.map((s) => [s, tr.t(s)]);
    if (HAS_INLINE) tabs.push(["inline", tr.t("inline")]);
    root.innerHTML =
      '<section aria-labelledby="rh"><h2 id="rh"></h2>' +
      '<div class="sr" role="status" aria-live="polite"></div><div class="fs"></div><div class="nbs"></div>' +
      `<div class="tabs" role="tablist"></div>` +
      '<div id="rpanel" role="tabpanel" tabindex="-1"><p class="err" role="alert"></p>' +
      '<div class="fresh" aria-live="polite"><button type="button" data-act="fresh" hidden></button></div>' +
      '<p class="note"></p><ol class="list"></ol>' +
      `<div class="more" hidden><button type="button" data-act="more"></button>` +
      `<button type="button" data-act="all"></button></div></div></section>`;
    const q = (s) => root.querySelector(s);
    this.heading = q("h2");
    this.live = q('[role="status"]');
    this.err = q(".err");
    this.note = q(".note");
    this.list = q(".list");
    this.more = q(".more");
    this.freshBtn = q('[data-act="fresh"]');
    this.more.children[0].textContent = tr.t("loadMore");
    this.more.children[1].textContent = tr.t("viewAll");
    this.tabs = q(".tabs");
    this.tabs.setAttribute("aria-label", tr.t("sort"));
    for (const [key, label] of tabs) {
      const b = document.createElement("button");
      b.type = "button";
      b.setAttribute("role", "tab");
      b.id = "tab-" + key;
      b.dataset.sort = key;
      b.setAttribute("aria-controls", "rpanel");
      b.textContent = label;
      this.tabs.append(b);
    }
    this.panel = q("#rpanel");
    this.markTab();
    const style = document.createElement("style");
    style.textContent = css;
    // started again (signed in or out, an attribute changed): a form the reader opened stays open
    const open = this.form && !this.form.matches(".fold");
    // and the focus in it (on "Sign out", say, which goes) stays in the new one, not the page's top
    const had = this.shadowRoot.activeElement;
    this.form = createForm({
      tr, kind: "top", label: tr.t("text"), text: store.draft(this.threadKey), author: store.author(),
      account: this.account, signOut: this.account && this.account.session ? () => this.signOut() : null,
      openAccount: () => import("./account.js").then((m) => m.openAccount(this, this.form)),
      submit: (v) => this.submitNew(v, null, this.form), limit: () => this.limit,
      preview: (text) => this.preview(text),
      message: (e) => this.message(e),
      input: (text) => store.setDraft(this.threadKey, text),
    });
    if (open) this.form.unfold();
    q(".fs").append(this.form);
    this.offerSignIn(this.form);
    this.notifyBar = null; // loaded once the first page says the site sends email
    root.addEventListener("click", (e) => this.onClick(e));
    this.tabs.addEventListener("keydown", (e) => this.onTabKey(e));
    this.root = root;
    this.shadowRoot.replaceChildren(style, root);
    if (had) this.form.focusText();
  }

  /** light, dark, or auto: the page's own background decides (see theme.js). */
  applyTheme() {
    const theme = this.getAttribute("theme") || "auto";
    if (theme === "auto" && !this.watching) {
      this.watching = true;
      watchPage(() => this.applyTheme());
    }
    const dark = theme === "dark" || (theme !== "light" && pageIsDark(this));
    if (!this.root) return;
    this.root.classList.toggle("dark", dark);
    this.root.dataset.theme = dark ? "dark" : "light";
    if (this.inline && this.inline.setTheme) this.inline.setTheme(this.root.dataset.theme);
  }

  /**
   * A read the browser blocked may be a page the site does not list (CORS hides the
   * answer): ask the one route every page may read, and tell the site owner what to do.
   */
  async originRefused() {
    let res;
    try {
      res = await this.api.call("GET", "/api/origin", { params: [["site", this.site]] });
    } catch {
      return false; // really unreachable
    }
    if (res.allowed) return false;
    console.error(`Rostra: pages of ${location.origin} may not show the discussions of site ` +
      `"${this.site || "?"}". Add the origin in the admin's site settings, or run: ` +
      `rostra site origin add ${this.site || "SITE"} ${location.origin}`);
    return true;
  }

  /** Forget what is shown and load the first page of the current sort. */
  async reload(all = false) {
    this.all = all;
    this.seen = new Set(); // top-level ids shown: a repeat from a later page is dropped
    this.byId = new Map(); // every comment loaded, replies included
    this.votes = {};
    this.cursor = null;
    // Comments posted after this time that arrive live are "new". By time, not id:
    // each posting process takes ids ahead in blocks, so a newer comment from another
    // worker or server can have the lower id.
    this.newestAt = "";
    this.freshBtn.hidden = true;
    this.list.replaceChildren();
    this.note.textContent = this.tr.t("loading");
    this.more.hidden = true;
    const voter = store.voter();
    // A signed-in reader's votes follow the account to every browser.
    const votes = voter || this.account
      ? this.api.call("GET", "/api/votes", { params: this.threadParams(), headers: voter ? { "X-Rostra-Voter": voter } : {} })
        .catch(() => null)
      : null;
    // Live updates count as new only what is newer than the newest comment now: with
    // another sort, the first page does not say which that is.
    const newest = this.sort === "newest" || all ? null : this.api.call("GET", "/api/comments", {
      params: [...this.threadParams(), ["sort", "newest"], ["limit", String(PAGE)]],
      onStale: () => missedNews(this),
    }).then((d) => d.comments.forEach((c) => this.index(c, false))).catch(() => null);
    const ok = await this.loadPage();
    await newest;
    if (!ok) return;
    const mine = votes && (await votes);
    if (mine && mine.votes) {
      this.votes = mine.votes;
      for (const [id, v] of Object.entries(mine.votes)) {
        const li = this.li(id);
        if (li) setVote(li, li._c, v);
      }
    }
    // The reader's own comments that this page does not show (own.js), where there are any.
    if (Object.values(store.own()).some((o) => o.thread === this.threadKey)) await import("./own.js").then((m) => m.showOwn(this));
  }

  threadParams() {
    return [["site", this.site], ["thread", this.threadKey]];
  }

  ctx() {
    const own = store.own(); // read once per render, not once per comment
    return {
      tpl: this.tpl, tr: this.tr, now: Date.now(), votes: this.votes, byId: new Map(),
      own: (id) => own[id], closed: !!(this.info && this.info.closed),
      signedIn: !!this.account,
    };
  }

  /** Fetch the next page (or everything) and render its new top-level comments. */
  async loadPage() {
    const gen = this.gen;
    const params = [...this.threadParams(), ["sort", this.sort], ["limit", this.all ? "all" : String(PAGE)],
      ["cursor", this.all ? null : this.cursor]];
    let data;
    try {
      data = await this.api.call("GET", "/api/comments", { params, onStale: () => missedNews(this) });
    } catch (e) {
      const refused = e.code === "network" && (await this.originRefused());
      if (gen === this.gen) {
        this.note.textContent = "";
        this.err.textContent = this.message(refused ? { code: "origin_not_allowed" } : e);
        if (refused) this.form.hidden = this.tabs.hidden = true;
      }
      return false;
    }
    if (gen !== this.gen) return false;
    this.err.textContent = "";
    this.info = data.thread;
    this.limit = data.max_comment_length || this.limit;
    this.emailOn = data.email_notifications !== false;
    // pinned comments first (the server's order), then editors' picks, then the sort
    if (!this.cursor) data.comments.sort((a, b) => !!b.pinned - !!a.pinned || !!b.featured - !!a.featured);
    this.cursor = data.next_cursor || null;
    const fresh = [];
    for (const c of data.comments) {
      if (this.seen.has(c.id)) continue;
      this.seen.add(c.id);
      this.index(c);
      fresh.push(c);
    }
    await this.renderTop(fresh, gen, false);
    if (gen !== this.gen) return false;
    this.updateMeta();
    return true;
  }

  /**
   * Remember `c` and its replies. `keep` false: only note the newest time; `loaded`
   * false (a comment just posted or shown live): do not move the newest time.
   */
  index(c, keep = true, loaded = true) {
    if (keep) this.byId.set(c.id, c);
    // ISO times in UTC with milliseconds ("…T12:00:00.000Z"): compared as strings.
    if (loaded && c.created_at > this.newestAt) this.newestAt = c.created_at;
    c.replies = c.replies || [];
    for (const r of c.replies) this.index(r, keep, loaded);
  }

  /** Append (or prepend) top-level comments in chunks; first chunk before paint. */
  async renderTop(comments, gen, prepend) {
    const ctx = this.ctx();
    let i = 0;
    let budget = FIRST_CHUNK;
    while (i < comments.length) {
      const frag = document.createDocumentFragment();
      while (i < comments.length && budget > 0) {
        const li = renderComment(comments[i++], 0, ctx);
        budget -= ctx.byId.size;
        ctx.byId.clear();
        frag.append(li);
      }
      if (prepend) this.list.prepend(frag);
      else this.list.append(frag);
      if (i < comments.length) {
        await nextTask();
        if (gen !== this.gen) return;
        budget = CHUNK;
      }
    }
  }

  updateMeta() {
    const { tr } = this;
    const total = this.info ? this.info.total : 0;
    this.heading.textContent = tr.t("comments", { n: total });
    const closed = !!(this.info && this.info.closed);
    this.form.hidden = closed;
    // the one "Notify of" control, only where the site can send the email
    if (this.notifyBar) this.notifyBar.hidden = closed;
    else if (this.emailOn && !closed) this.mountNotify();
    this.note.textContent = closed ? tr.t("closed") : this.list.children.length ? "" : tr.t("empty");
    this.more.hidden = !this.cursor || this.all;
  }

  /** The "Notify of" bar (notify.js), loaded only where the server sends email. */
  async mountNotify() {
    if (this.notifyBar !== null) return;
    this.notifyBar = false; // loading
    const root = this.root;
    const { createNotifyBar } = await import("./notify.js");
    if (root !== this.root) return; // started again meanwhile: that start mounts its own
    this.notifyBar = createNotifyBar(this, (this.account && this.account.email) || store.author().email);
    root.querySelector(".nbs").append(this.notifyBar);
  }

  li(id) {
    return this.shadowRoot.getElementById("comment-" + id);
  }

  /** The reader-language message for an ApiError's `code`. */
  message(error) {
    // a sign-in that ended: forget it, so the next try offers signing in again
    if (error && error.code === "session_expired" && this.site) store.setSession(this.site, null);
    // the site's own words for a refusal (its moderation policy's message)
    if (error && error.code === "comment_refused" && error.detail) return error.detail;
    const { tr } = this;
    const code = error && error.code;
    const field = (error && error.field) || "";
    const label = { name: tr.t("name"), email: tr.t("email"), text: tr.t("text") }[field] || field;
    if (code === "payload_too_large" || (code === "too_long" && (!field || field === "text"))) {
      return tr.t("error_too_long", { n: (error && error.limit) || this.limit });
    }
    if (code === "too_long") return tr.t("error_too_long_field", { field: label, n: error.limit });
    if (code === "invalid_input" && field) {
      if (field === "name" && /required/.test(error.detail)) return tr.t("nameRequired");
      // the text was written, but refused (a NUL character…): say why, not "write one"
      if (field === "text" && !/empty|required/i.test(error.detail)) {
        const reason = error.detail.replace(/^text[.:]\s*/, "").replace(/[.\s]+$/, "");
        return tr.t("error_text_refused", { reason });
      }
      const key = "error_invalid_" + field;
      return tr.t(key in tr.strings ? key : "error_invalid_field", { field: label });
    }
    const key = "error_" + code;
    return tr.t(key in tr.strings ? key : "error_generic");
  }

  say(text) {
    // re-set so that the same message twice is announced twice
    this.live.textContent = "";
    requestAnimationFrame(() => (this.live.textContent = text));
  }

  preview(text) {
    return this.api.call("POST", "/api/preview", { body: { text } }).then((r) => r.html);
  }

  /**
   * The one way a comment is posted: hooks first, then the API; once more with
   * the hooks told to retry when the server refused the proof of work.
   */
  async postComment(payload) {
    for (let retry = false; ; retry = true) {
      const body = { ...payload };
      for (const hook of beforePost) await hook(body, { api: this.api, element: this, retry });
      try {
        // one voter id per browser: the server ties every comment of this reader to it
        const voter = store.voter();
        return await this.api.call("POST", "/api/comments", { body, headers: voter ? { "X-Rostra-Voter": voter } : {} });
      } catch (error) {
        if (retry || error.code !== "comment_refused" || !error.reasons.some((r) => POW_REASONS.includes(r))) {
          throw error;
        }
      }
    }
  }

  async submitNew(values, parentId, form) {
    if (!this.account) store.setAuthor(values.name, values.email);
    const notifyEmail = this.notifyBar && this.notifyBar.elements.email;
    if (notifyEmail && !notifyEmail.value) notifyEmail.value = values.email || ""; // ready to subscribe
    const payload = {
      thread: this.threadKey, title: this.getAttribute("title") || document.title, url: pageUrl(),
      parent_id: parentId, name: values.name || null, email: values.email || null, website: null, text: values.text,
    };
    if (this.site) payload.site = this.site;
    if (values.ack) payload.nudge_acknowledged = true;
    const res = await this.postComment(payload);
    const c = res.comment;
    this.remember(res, values.text);
    if (!parentId) store.setDraft(this.threadKey, null);
    form.clearText();
    const li = this.insertNew(c);
    if (this.fresh) offerFresh(this, this.fresh.comments, this.fresh.thread);
    if (c.state === "approved" && this.info) this.info.total += 1;
    if (!this.info) this.info = { total: 1, closed: false };
    this.updateMeta();
    this.say(this.tr.t(c.state === "approved" ? "posted" : "postedPending"));
    return li;
  }

  /** Put a comment just posted (or own pending) where it belongs. */
  insertNew(c) {
    c.replies = c.replies || [];
    this.index(c, true, false);
    const ctx = this.ctx();
    const parentLi = c.parent_id && this.li(c.parent_id);
    if (parentLi) {
      this.expand(parentLi); // first: expanding renders the replies known so far
      for (let p = parentLi._c; p; p = this.byId.get(p.parent_id)) delete p._n;
      parentLi._c.replies.push(c);
      const li = renderComment(c, parentLi._depth + 1, ctx);
      repliesList(parentLi).append(li);
      setToggle(parentLi, true, this.tr);
      return li;
    }
    this.seen.add(c.id);
    const li = renderComment(c, 0, ctx);
    this.list.prepend(li);
    return li;
  }

  expand(li) {
    renderReplies(li, this.ctx());
    li.children[1].hidden = false;
    setToggle(li, true, this.tr);
  }

  markTab() {
    for (const b of this.tabs.children) {
      const on = b.dataset.sort === this.sort;
      b.setAttribute("aria-selected", String(on));
      b.tabIndex = on ? 0 : -1;
      if (on) this.panel.setAttribute("aria-labelledby", b.id);
    }
  }

  async setSort(sort) {
    if (sort === this.sort) return;
    this.sort = sort;
    this.markTab();
    if (sort === "inline") return this.showInline();
    this.gen++;
    await this.reload(this.all);
  }

  /** The "Inline Feedbacks" tab: every comment anchored to a passage. */
  async showInline() {
    this.gen++;
    this.sort = "newest";
    await this.reload(true);
    this.sort = "inline";
    const anchored = [...this.byId.values()].filter((c) => c.anchor && c.state !== "deleted");
    const ctx = this.ctx();
    this.list.replaceChildren(...anchored.map((c) => renderComment({ ...c, replies: [] }, 0, ctx)));
    this.note.textContent = anchored.length ? "" : this.tr.t("noInline");
    this.more.hidden = true;
    if (this.inline) this.inline.update([...this.byId.values()].filter((c) => !c.parent_id));
  }

  onTabKey(e) {
    const tabs = [...this.tabs.children];
    const i = tabs.indexOf(e.target);
    if (i < 0) return;
    // right to left, the next tab stands on the left
    const d = this.root.dir == "rtl" ? -1 : 1;
    const to = { ArrowRight: i + d, ArrowLeft: i - d, Home: 0, End: tabs.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const tab = tabs[(to + tabs.length) % tabs.length];
    tab.focus();
    this.setSort(tab.dataset.sort);
  }

  async onClick(e) {
    const tab = e.target.closest("[data-sort]");
    if (tab) return this.setSort(tab.dataset.sort);
    const btn = e.target.closest("[data-act]");
    if (!btn) return;
    const act = btn.dataset.act;
    if (act === "more") return this.loadMore(btn);
    if (act === "fresh") return showFresh(this);
    if (act === "all") {
      this.gen++;
      await this.reload(true);
      this.panel.focus();
      return;
    }
    const li = btn.closest("li.c");
    if (!li) return;
    if (act === "up" || act === "down") return import("./vote.js").then((m) => m.vote(this, li, act === "up" ? 1 : -1));
    if (act === "expand") {
      li._open = true;
      const body = btn.closest(".body");
      btn.parentElement.classList.remove("clip");
      btn.remove();
      // the button is gone: its focus goes on to the text it opened, not to the page
      body.tabIndex = -1;
      return body.focus();
    }
    if (act === "reply") return this.openReply(li, btn);
    if (act === "edit" || act === "delete") return import("./own.js").then((m) => m[act](this, li, btn));
    if (act === "report") return import("./report.js").then((m) => m.openReport(this, li, btn));
    if (act === "notes") return import("./notes.js").then((m) => m.openNotes(this, li, btn));
    if (act === "toggle") {
      const open = btn.getAttribute("aria-expanded") === "true";
      if (open) {
        li.children[1].hidden = true;
        setToggle(li, false, this.tr);
      } else this.expand(li);
    }
  }

  async loadMore(btn) {
    // busy, yet focused: a disabled button would drop the keyboard focus to the page
    if (btn.ariaDisabled == "true") return;
    btn.ariaDisabled = true;
    const before = this.list.children.length;
    await this.loadPage();
    btn.ariaDisabled = false;
    // keep keyboard users in place: focus the first comment that just arrived
    const first = this.list.children[before];
    if (this.more.hidden && first) {
      first.firstChild.tabIndex = -1;
      first.firstChild.focus();
    }
  }

  openReply(li, btn) {
    const slot = li.firstChild.lastChild;
    const open = [...slot.children].find((f) => f.focusText);
    if (open) return open.focusText();
    const c = li._c;
    const close = () => {
      slot.replaceChildren();
      btn.ariaExpanded = false;
      btn.focus();
    };
    const form = createForm({
      tr: this.tr, kind: "reply", author: store.author(), account: this.account,
      label: this.tr.t("replyText", { name: (c.author && c.author.name) || this.tr.t("anonymous") }),
      submit: async (v) => {
        const mine = await this.submitNew(v, c.id, form);
        slot.replaceChildren();
        btn.ariaExpanded = false;
        mine.firstChild.tabIndex = -1;
        mine.firstChild.focus();
      },
      preview: (text) => this.preview(text), message: (e) => this.message(e), cancel: close,
      limit: () => this.limit,
    });
    slot.append(form);
    btn.ariaExpanded = true;
    form.focusText();
  }

  /** #comment-<id>: load until that comment is shown, open its ancestors, highlight it. */
  async followHash() {
    const m = /^#comment-(\d+)$/.exec(location.hash);
    if (!m || this.sort === "inline") return;
    const id = Number(m[1]);
    const gen = this.gen;
    if (!this.byId.has(id)) {
      let rootId = id;
      try {
        const own = store.ownOne(id);
        const res = await this.api.call("GET", `/api/comments/${id}`, {
          headers: own ? { "X-Rostra-Edit-Token": own.token } : {},
        });
        rootId = res.root_id ?? (res.comment || res).root_id ?? id;
      } catch {
        return; // gone or hidden: nothing to show
      }
      // a few more pages, then everything: the root must come in one of them
      for (let i = 0; i < 2 && this.cursor && !this.seen.has(rootId) && gen === this.gen; i++) await this.loadPage();
      if (!this.seen.has(rootId) && this.cursor && gen === this.gen) await this.reload(true);
    }
    const path = [];
    for (let c = this.byId.get(id); c; c = this.byId.get(c.parent_id)) path.unshift(c);
    for (const c of path.slice(0, -1)) {
      const li = this.li(c.id);
      if (li && (!li.children[1] || li.children[1].hidden || !li.children[1]._done)) this.expand(li);
    }
    const li = this.li(id);
    if (!li) return;
    for (const old of this.shadowRoot.querySelectorAll(".hl")) old.classList.remove("hl");
    li.classList.add("hl");
    li.firstChild.tabIndex = -1;
    li.scrollIntoView({ block: "center" });
    li.firstChild.focus({ preventScroll: true });
    // comments above render their real height only once near the viewport
    // (content-visibility: auto), which moves the target: aim again
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    li.scrollIntoView({ block: "center" });
  }
}

export { RostraComments };
