// Turning comment data into DOM: one <template> per widget, cloned per comment,
// because cloning a prepared tree is far cheaper than building it node by node.

const MAX_INDENT = 4; // deeper replies stop indenting so text stays readable on phones
const DEEP = 3; // replies from this depth on wait behind "N more replies"
const LONG = 1500; // characters of HTML after which a comment shows "Read more"

/** Replies hidden at first: deep threads, and big subtrees below the top level. */
export function startsCollapsed(c, depth) {
  const n = descendants(c);
  return depth >= DEEP - 1 || (depth === 0 ? n > 25 : n > 4);
}

/** One or two initials of a name, for its avatar. */
function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const first = (w) => (w ? [...w][0] : "");
  return (first(words[0]) + (words.length > 1 ? first(words[words.length - 1]) : "")).toUpperCase() || "?";
}

/** How many comments hang below `c` (memoised on the object). */
export function descendants(c) {
  if (c._n === undefined) {
    let n = 0;
    for (const r of c.replies || []) n += 1 + descendants(r);
    c._n = n;
  }
  return c._n;
}

export function makeTemplate(tr) {
  const t = document.createElement("template");
  const b = (act, label, extra = "") =>
    `<button type="button" class="link" data-act="${act}"${extra}>${label}</button>`;
  t.innerHTML =
    '<li class="c"><article><div class="meta"><span class="av" aria-hidden="true"></span><span class="au" dir="auto"></span>' +
    `<a class="pl"><time></time></a><span class="ed"></span><span class="badge"></span><span class="ab"></span></div>` +
    '<div class="body" dir="auto"></div><div class="acts">' +
    `<span class="votes" role="group" aria-label="${esc(tr.t("score"))}">` +
    `<button type="button" data-act="up" aria-label="${esc(tr.t("up"))}" aria-pressed="false">▲</button>` +
    '<span class="sc"></span>' +
    `<button type="button" data-act="down" aria-label="${esc(tr.t("down"))}" aria-pressed="false">▼</button></span>` +
    // reply and report open a form below: their aria-expanded says whether it is open
    b("reply", esc(tr.t("reply")), ' aria-expanded="false"') + b("edit", esc(tr.t("edit")), " hidden") +
    b("delete", esc(tr.t("delete")), " hidden") + b("report", esc(tr.t("report")), ' hidden aria-expanded="false"') +
    b("toggle", "", ' hidden aria-expanded="true"') + b("notes", esc(tr.t("noteAction")), " hidden") +
    '</div><div class="slot"></div></article></li>';
  return t.content.firstChild;
}

export function esc(s) {
  return String(s).replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]);
}

/**
 * Build the <li> of comment `c` (and of the replies that start expanded).
 * ctx: {tpl, tr, now, votes: {id: value}, own: (id) => entry|null, closed, byId: Map}
 */
export function renderComment(c, depth, ctx) {
  const li = ctx.tpl.cloneNode(true);
  li.id = "comment-" + c.id;
  li._c = c;
  li._depth = depth;
  if (depth >= MAX_INDENT) li.classList.add("d4");
  ctx.byId.set(c.id, c);
  fillComment(li, c, ctx);
  const replies = c.replies || [];
  if (replies.length) {
    const collapsed = startsCollapsed(c, depth);
    setToggle(li, !collapsed, ctx.tr);
    if (!collapsed) renderReplies(li, ctx);
  }
  return li;
}

/** An author's website if it is an http(s) address (the server checks too), else null. */
function webAddress(value) {
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** (Re)fill the parts of `li` that change: text, votes, badges, own actions. */
export function fillComment(li, c, ctx) {
  const { tr } = ctx;
  const [art] = li.children;
  const [meta, body, acts] = art.children;
  const [av, au, pl, ed, badge, ab] = meta.children;
  const deleted = c.state === "deleted";
  li.classList.toggle("tomb", deleted);
  const name = deleted ? "" : (c.author && c.author.name) || tr.t("anonymous");
  const site = !deleted && c.author && webAddress(c.author.website);
  if (site) {
    const a = document.createElement("a");
    a.href = site;
    a.rel = "nofollow ugc noopener";
    a.target = "_blank";
    a.textContent = name;
    au.replaceChildren(a);
  } else {
    au.textContent = name;
  }
  au.hidden = av.hidden = deleted; // a tombstone has no author: no empty slot for one
  if (!deleted) {
    const key = (c.author && c.author.avatar) || "0";
    av.textContent = initials(name);
    av.style.setProperty("--h", String(parseInt(key, 16) % 360));
  }
  // "Staff": the server says so (a staff member's account, or the site's sign-on)
  const st = !deleted && !!c.staff;
  ab.textContent = st ? tr.t("staff") : !deleted && c.author && c.author.signed_in ? tr.t("signedIn") : "";
  ab.title = st ? tr.t("staffTitle") : "";
  ab.classList.toggle("st", st);
  const when = new Date(c.created_at);
  const time = pl.firstChild;
  time.dateTime = c.created_at;
  time.textContent = tr.ago(when, ctx.now);
  time.title = tr.exact.format(when);
  pl.href = "#comment-" + c.id;
  pl.title = tr.t("permalink");
  ed.textContent = c.edited_at && !deleted ? "· " + tr.t("edited") : "";
  badge.textContent = c.state === "pending" ? tr.t("pending")
    : c.pinned ? tr.t("pinned") : c.featured ? tr.t("featured")
    : c.regular ? tr.t("regular") : "";
  li.classList.toggle("picked", !!(c.pinned || c.featured));
  if (deleted) {
    body.textContent = tr.t("deleted");
  } else {
    body.innerHTML = c.html; // sanitised by the server (nh3) before it was stored
    // long comments fold (their text only: a context note below stays in view); the
    // length of the HTML decides, so no layout is measured
    if (c.html.length > LONG && !li._open) {
      const clip = document.createElement("div");
      clip.className = "clip";
      const more = document.createElement("button");
      more.type = "button";
      more.className = "link rm";
      more.dataset.act = "expand";
      more.textContent = tr.t("readMore");
      clip.append(...body.childNodes, more);
      body.append(clip);
    }
    if (c.anchor && c.anchor.exact) {
      const q = document.createElement("blockquote");
      q.className = "quote";
      q.dir = "auto";
      q.textContent = c.anchor.exact;
      body.prepend(q);
    }
    for (const note of c.notes || []) body.append(renderNote(note, tr));
  }
  const [votes, reply, edit, del, report] = acts.children;
  const own = !deleted && ctx.own(c.id);
  votes.hidden = deleted || c.state === "pending";
  // no arrows on one's own comment (the server would refuse the vote): the score only
  votes.firstChild.hidden = votes.lastChild.hidden = !!own;
  if (!votes.hidden) setVote(li, c, ctx.votes[c.id] || 0);
  reply.hidden = deleted || ctx.closed || c.state === "pending";
  const editable = !!own && own.until > Date.now();
  edit.hidden = !editable;
  del.hidden = !editable;
  report.hidden = deleted || !!own || c.state === "pending" || !!li._reported;
  // Signed-in readers propose and rate context notes (not on their own comments).
  acts.lastChild.hidden = !ctx.signedIn || deleted || !!own || c.state === "pending";
}

/** A context note under a comment: its text, who vouches for it, and its sources. */
export function renderNote(note, tr) {
  const aside = document.createElement("aside");
  aside.className = "note";
  aside.setAttribute("aria-label", tr.t("note"));
  const head = document.createElement("div");
  head.className = "note-h";
  const label = document.createElement("strong");
  label.textContent = tr.t("note");
  const by = document.createElement("span");
  by.textContent = tr.t(note.by === "staff" ? "noteStaff" : "noteReaders");
  head.append(label, " · ", by);
  const text = document.createElement("div");
  text.className = "note-b";
  text.innerHTML = note.html; // sanitised by the server, as comments are
  aside.append(head, text);
  const links = (note.sources || []).map(webAddress).filter(Boolean);
  if (links.length) {
    const list = document.createElement("ul");
    list.className = "note-src";
    list.setAttribute("aria-label", tr.t("noteSources"));
    for (const href of links) {
      const a = document.createElement("a");
      a.href = href;
      a.rel = "nofollow ugc noopener";
      a.target = "_blank";
      a.textContent = new URL(href).host;
      const item = document.createElement("li");
      item.append(a);
      list.append(item);
    }
    aside.append(list);
  }
  return aside;
}

export function setVote(li, c, value) {
  const votes = li.children[0].children[2].children[0];
  const [up, sc, down] = votes.children;
  up.setAttribute("aria-pressed", String(value === 1));
  down.setAttribute("aria-pressed", String(value === -1));
  sc.textContent = String(c.score ?? 0);
  // n, z or p: a zero score is muted, one below zero in the error colour
  sc.dataset.s = "nzp"[Math.sign(c.score ?? 0) + 1];
  li._vote = value;
}

export function setToggle(li, expanded, tr) {
  const btn = li.querySelector(':scope>article>.acts>[data-act="toggle"]');
  btn.hidden = false;
  btn.setAttribute("aria-expanded", String(expanded));
  const n = descendants(li._c);
  btn.textContent = expanded ? tr.t("hideReplies") : tr.t(li._depth >= DEEP - 1 ? "moreReplies" : "showReplies", { n });
}

/** The <ol> of replies under `li`, created on first use. */
export function repliesList(li) {
  let ol = li.children[1];
  if (!ol) {
    ol = document.createElement("ol");
    ol.className = "rp";
    li.append(ol);
  }
  return ol;
}

export function renderReplies(li, ctx) {
  const ol = repliesList(li);
  if (ol._done) return;
  const frag = document.createDocumentFragment();
  for (const r of li._c.replies || []) frag.append(renderComment(r, li._depth + 1, ctx));
  ol.append(frag);
  ol._done = true;
}
