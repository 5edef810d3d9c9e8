// Inline feedback: comments on passages of the article.
//
// Wiring, once the widget has the thread's comments:
//
//   import { mountInline } from './inline/inline.js';
//   const inline = mountInline({
//     contentRoot,      // Element holding the article (<article>, or the widget's `content` selector)
//     comments,         // top-level comments as GET /api/comments returns them (with nested `replies`);
//                       // pass every anchored one ("limit=all"), or passages miss comments
//     postComment,      // async ({text, name, email, anchor, parent_id}) => the created comment (API shape);
//                       // throw an Error whose message the reader may see when posting fails
//     i18n,             // optional: (key, vars) => string, or {key: "text with {vars}"}; English by default
//     theme,            // optional: 'light' | 'dark' | 'auto' (default)
//     author,           // optional: {name, email} to prefill the forms
//     onOpenComment,    // optional: (id) => void; shows a "Show in the discussion" link per comment
//     onChange,         // optional: ({passages, orphans}) => void after each render, for the tab
//     look,             // optional: {css, className, date(Date), exactDate(Date)}: the host widget's
//                       // stylesheet and class for the panel's <section>, and its date formats
//   });
//   inline.setTheme(theme)   // 'light' | 'dark': follow the host widget's theme switch
//   inline.update(comments)  // new or reloaded comments
//   inline.passages()        // [{key, quote, question, anchor, comments, count, orphaned: false}]
//   inline.orphans()         // the same for passages that could not be found ("passage changed")
//   inline.reveal(id)        // scroll to the passage of comment `id` and open it; false if orphaned
//   inline.destroy()
//
// Editors ask questions with <rostra-ask question="Is this fair?" id="q1">passage</rostra-ask>
// in the article; answers are comments whose anchor carries that question_id.
//
// What it does to the host page: passages are highlighted with the CSS Custom
// Highlight API (no DOM change); each passage gets one small marker element after
// its last character (a text node is split for it and merged back on destroy); the
// open discussion is inserted under the passage's paragraph, so it reads in order
// for screen readers and needs no positioning on a phone. Everything we add carries
// data-rostra-ui and renders in a shadow root, so host styles leave it alone and
// the anchoring skips it.

import { describe, locate, selectorAt, textIndex, toRange, normalise } from './anchor.js';

const EN = {
  commentOnPassage: 'Comment on this passage',
  passage: 'Passage',
  question: 'Question from the editors',
  close: 'Close',
  yourComment: 'Your comment',
  yourAnswer: 'Your answer',
  name: 'Name',
  email: 'Email (optional, never shown)',
  post: 'Post',
  posting: 'Posting…',
  reply: 'Reply',
  cancelReply: 'Cancel reply',
  replyingTo: 'Replying to {name}',
  showInDiscussion: 'Show in the discussion',
  passageChanged: 'passage changed',
  pending: 'Thank you. Your comment will appear once a moderator approves it.',
  failed: 'Your comment was not posted: {message}',
  marker: '{count} comments on this passage',
  markerOne: '1 comment on this passage',
  markerQuestion: 'Question: {question} ({count} answers)',
  noComments: 'No comments on this passage yet.',
  textRequired: 'Please write a comment first.',
  anonymous: 'Anonymous',
  deleted: 'Comment deleted',
  discussion: 'Discussion of the passage',
};

const PAGE_CSS = `
::highlight(rostra-passage) { background-color: rgba(255, 196, 0, 0.28); }
::highlight(rostra-passage-open) { background-color: rgba(255, 160, 0, 0.55); }
`;

const MARKER_CSS = `
:host { all: initial; display: inline; }
button {
  font: 600 0.75em/1.4 system-ui, sans-serif; cursor: pointer; vertical-align: super;
  margin: 0 0.15em; padding: 0 0.45em; border-radius: 1em; border: 1px solid #b07800;
  background: #ffd34d; color: #3a2800;
}
button[aria-expanded="true"] { background: #b07800; color: #fff; }
button:focus-visible { outline: 2px solid #1a5fb4; outline-offset: 2px; }
`;

const PANEL_CSS = `
:host { all: initial; display: block; margin: 0.75em 0; color-scheme: light dark; }
:host([theme="light"]) { color-scheme: light; }
:host([theme="dark"]) { color-scheme: dark; }
section {
  font: 15px/1.5 system-ui, sans-serif; background: Canvas; color: CanvasText;
  border: 1px solid #b07800; border-inline-start-width: 4px; border-radius: 6px;
  padding: 0.75em 1em; max-width: 40em; box-sizing: border-box;
}
header { display: flex; gap: 0.5em; align-items: flex-start; justify-content: space-between; }
h2 { font-size: 1em; margin: 0; }
blockquote { margin: 0.5em 0; padding: 0; padding-inline-start: 0.75em; border-inline-start: 3px solid #b07800; font-style: italic; }
ul { list-style: none; margin: 0.5em 0; padding: 0; }
ul ul { margin-inline-start: 1.25em; }
li > article { padding: 0.4em 0; border-top: 1px solid color-mix(in srgb, CanvasText 15%, transparent); }
.who { font-weight: 600; }
.body :first-child { margin-top: 0.2em; } .body :last-child { margin-bottom: 0.2em; }
.actions { display: flex; gap: 0.75em; font-size: 0.875em; }
button, input, textarea { font: inherit; }
button.link { background: none; border: 0; padding: 0; color: LinkText; text-decoration: underline; cursor: pointer; }
button.close { background: none; border: 0; font-size: 1.25em; line-height: 1; cursor: pointer; color: inherit; }
form { display: grid; gap: 0.4em; margin-top: 0.5em; }
label { display: grid; gap: 0.1em; font-size: 0.875em; }
textarea { min-height: 4.5em; resize: vertical; }
input, textarea { width: 100%; box-sizing: border-box; padding: 0.3em; }
.row { display: grid; grid-template-columns: 1fr 1fr; gap: 0.5em; }
@media (max-width: 30em) { .row { grid-template-columns: 1fr; } }
button[type="submit"] { justify-self: start; padding: 0.3em 1em; }
[role="status"]:empty, [role="alert"]:empty { display: none; }
[role="alert"] { color: #c01c28; }
[aria-disabled="true"] { opacity: 0.6; cursor: default; }
:focus-visible { outline: 2px solid #1a5fb4; outline-offset: 2px; }
`;

const BUTTON_CSS = `
:host { all: initial; position: absolute; z-index: 2147483000; }
button {
  font: 600 14px/1.3 system-ui, sans-serif; padding: 0.4em 0.8em; border-radius: 6px;
  border: 0; background: #1c1c1c; color: #fff; cursor: pointer; box-shadow: 0 2px 8px rgba(0,0,0,.3);
}
button:focus-visible { outline: 2px solid #1a5fb4; outline-offset: 2px; }
`;

const BLOCKS = 'p, li, blockquote, h1, h2, h3, h4, h5, h6, figcaption, dd, dt, td, th, pre, div';

function translator(i18n) {
  return (key, vars = {}) => {
    let s = typeof i18n === 'function' ? i18n(key, vars) : i18n?.[key];
    if (typeof s !== 'string' || s === key) s = EN[key] ?? key;
    return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  };
}

/** At most `n` UTF-16 units of `text` and an ellipsis, never half of an emoji. */
function shorten(text, n) {
  if (text.length <= n) return text;
  const code = text.charCodeAt(n - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n) + '…';
}

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c);
  return el;
}

function shadowHost(tag, css) {
  const host = document.createElement(tag);
  host.setAttribute('data-rostra-ui', '');
  const root = host.attachShadow({ mode: 'open' });
  root.append(h('style', { text: css }));
  return { host, root };
}

// A stable id for an editor question with no id attribute: a hash of its text.
function questionId(el) {
  if (el.id) return el.id.slice(0, 64).replace(/[^A-Za-z0-9_.:-]/g, '-').replace(/^[^A-Za-z0-9]/, 'q');
  let x = 0x811c9dc5;
  for (const c of normalise(el.getAttribute('question') ?? '')) {
    x = Math.imul(x ^ c.codePointAt(0), 0x01000193) >>> 0;
  }
  return 'q-' + x.toString(16).padStart(8, '0');
}

// The server keeps quotes of up to 2,000 characters.
const MAX_QUOTE = 2000;

// Where a quote starting at `start` ends: at `end`, or for a longer selection at the
// last word break that keeps it within MAX_QUOTE, so the passage is anchored by its start.
function quoteEnd(text, start, end) {
  if (end - start <= MAX_QUOTE) return end;
  const cut = text.lastIndexOf(' ', start + MAX_QUOTE);
  if (cut > start) return cut;
  const high = text.charCodeAt(start + MAX_QUOTE - 1);
  return start + MAX_QUOTE - (high >= 0xd800 && high < 0xdc00 ? 1 : 0); // not inside an emoji
}

function countVisible(comments) {
  let n = 0;
  for (const c of comments) {
    if (c.state !== 'deleted') n++;
    n += countVisible(c.replies ?? []);
  }
  return n;
}

function findIn(comments, id) {
  for (const c of comments) {
    if (c.id === id) return c;
    const r = findIn(c.replies ?? [], id);
    if (r) return r;
  }
  return null;
}

/** Mounts inline feedback on `contentRoot`; see the top of this file. */
export function mountInline({
  contentRoot,
  comments = [],
  postComment,
  i18n,
  theme = 'auto',
  author = {},
  onOpenComment,
  onChange,
  look = {},
}) {
  if (!contentRoot) throw new TypeError('mountInline: contentRoot is required');
  const t = translator(i18n);
  const doc = contentRoot.ownerDocument;
  const highlights = typeof CSS !== 'undefined' && CSS.highlights ? CSS.highlights : null;
  let model = [...comments];
  let groups = []; // anchored passages, in article order
  let orphaned = [];
  let markers = []; // {host, split: Text|null}
  let open = null; // {key, selector, panel, replyTo}
  let draft = null; // a new passage from the reader's selection: {key, selector, range}
  let pending = null; // selection waiting for the button: selector
  const authorInfo = { name: author.name ?? '', email: author.email ?? '' };

  const pageStyle = h('style', { 'data-rostra-ui': '', text: PAGE_CSS });
  doc.head.append(pageStyle);
  const { host: buttonHost, root: buttonRoot } = shadowHost('rostra-inline-button', BUTTON_CSS);
  const selectButton = h('button', { type: 'button', text: t('commentOnPassage') });
  buttonRoot.append(selectButton);
  buttonHost.style.display = 'none';
  doc.documentElement.append(buttonHost);
  const buttonFocused = () => doc.activeElement === buttonHost;

  // --- anchoring -------------------------------------------------------------

  function clearMarkers() {
    for (const m of markers) {
      const prev = m.host.previousSibling;
      const next = m.host.nextSibling;
      m.host.remove();
      // Undo our split so the host's text nodes are as they were.
      if (m.split && prev?.nodeType === 3 && next === m.split) {
        prev.appendData(next.data);
        next.remove();
      }
    }
    markers = [];
  }

  function build() {
    clearMarkers();
    const index = textIndex(contentRoot);
    const byKey = new Map();
    orphaned = [];
    const asks = new Map();
    for (const el of contentRoot.querySelectorAll('rostra-ask')) {
      const qid = questionId(el);
      const range = doc.createRange();
      range.selectNodeContents(el);
      const sel = describe(index, range);
      if (sel === null) continue;
      const g = {
        key: 'q:' + qid, question: el.getAttribute('question') ?? '', ask: el,
        selector: { ...sel, question_id: qid }, start: sel.start, range, comments: [],
      };
      asks.set(qid, g);
      byKey.set(g.key, g);
    }
    for (const c of model) {
      const a = c.anchor;
      if (!a || typeof a.exact !== 'string') continue;
      const asked = a.question_id ? asks.get(a.question_id) : undefined;
      if (asked) {
        asked.comments.push(c);
        continue;
      }
      const hit = locate(index, a);
      if (hit === null) {
        const key = 'o:' + JSON.stringify([a.exact, a.prefix ?? '', a.suffix ?? '', a.question_id ?? '']);
        let g = orphaned.find((o) => o.key === key);
        if (!g) {
          g = { key, question: null, selector: a, comments: [] };
          orphaned.push(g);
        }
        g.comments.push(c);
        continue;
      }
      const key = `t:${hit.start}:${hit.end}`;
      let g = byKey.get(key);
      if (!g) {
        g = {
          key, question: null, selector: a, start: hit.start,
          range: toRange(index, hit.start, hit.end), comments: [],
        };
        byKey.set(key, g);
      }
      g.comments.push(c);
    }
    groups = [...byKey.values()].sort((x, y) => x.start - y.start);
    // Markers go in last: inserting them splits text nodes, which live Ranges follow
    // but the index above does not.
    for (const g of groups) g.marker = addMarker(g);
    paint();
    onChange?.({ passages: api.passages(), orphans: api.orphans() });
  }

  function addMarker(g) {
    const { host, root } = shadowHost('rostra-marker', MARKER_CSS);
    const count = countVisible(g.comments);
    const label = g.question
      ? t('markerQuestion', { question: g.question, count })
      : count === 1 ? t('markerOne') : t('marker', { count });
    const button = h('button', {
      type: 'button', 'aria-label': label, title: label, 'aria-expanded': 'false',
      onclick: () => (open?.key === g.key ? closePanel() : openPanel(g)),
    }, g.question ? `? ${count}` : String(count));
    root.append(button);
    let split = null;
    if (g.ask) {
      g.ask.after(host);
    } else {
      const node = g.range.endContainer;
      const offset = g.range.endOffset;
      if (node.nodeType === 3) {
        if (offset < node.length) split = node.splitText(offset);
        node.after(host);
      } else {
        node.insertBefore(host, node.childNodes[offset] ?? null);
      }
    }
    markers.push({ host, split });
    return button;
  }

  function paint() {
    if (!highlights) return;
    const all = groups.filter((g) => g.key !== open?.key).map((g) => g.range);
    highlights.set('rostra-passage', new Highlight(...all));
    const active = open ? (groups.find((g) => g.key === open.key)?.range ?? draft?.range) : null;
    if (active) highlights.set('rostra-passage-open', new Highlight(active));
    else highlights.delete('rostra-passage-open');
  }

  // --- the discussion panel ---------------------------------------------------

  function closePanel({ focus = true, keepDraft = false } = {}) {
    if (!open) return;
    const g = groups.find((x) => x.key === open.key);
    open.panel.remove();
    open = null;
    if (!keepDraft) draft = null;
    if (g?.marker) {
      g.marker.setAttribute('aria-expanded', 'false');
      if (focus) g.marker.focus();
    }
    paint();
  }

  function openPanel(g, { focus = 'heading' } = {}) {
    // Re-rendering the same passage keeps what the reader was doing.
    const same = open?.key === g.key;
    const replyTo = same ? open.replyTo : null;
    const typed = same ? open.typed : '';
    if (open) closePanel({ focus: false, keepDraft: true });
    draft = g.key === 'draft' ? g : null;
    const { host, root } = shadowHost('rostra-inline-panel', PANEL_CSS + (look.css ?? ''));
    if (theme !== 'auto') host.setAttribute('theme', theme);
    if (look.dir) host.dir = look.dir;
    open = { key: g.key, selector: g.selector, panel: host, replyTo, typed, root };
    renderPanel(g);
    // Another passage's comments: the button of a selection still made would float over them.
    pending = null;
    buttonHost.style.display = 'none';
    // Under the passage's paragraph: in reading order, and as wide as the text.
    const end = g.ask ?? g.range.endContainer;
    const el = end.nodeType === 1 ? end : end.parentElement;
    const block = el.closest(BLOCKS);
    const at = block && contentRoot.contains(block) && block !== contentRoot ? block : el;
    if (at === contentRoot) contentRoot.append(host);
    else at.after(host);
    g.marker?.setAttribute('aria-expanded', 'true');
    paint();
    if (focus === 'heading') root.querySelector('h2').focus();
    else if (focus === 'form') root.querySelector('textarea').focus();
  }

  function renderComment(c) {
    const deleted = c.state === 'deleted';
    const who = deleted ? t('deleted') : (c.author?.name || t('anonymous'));
    const body = h('div', { class: 'body', dir: 'auto' });
    if (!deleted) body.innerHTML = c.html ?? ''; // sanitised by the server
    const actions = h('div', { class: 'actions' },
      deleted ? null : h('button', {
        type: 'button', class: 'link', text: t('reply'),
        onclick: () => { open.replyTo = { id: c.id, name: who }; rerender({ focus: 'form' }); },
      }),
      onOpenComment ? h('button', {
        type: 'button', class: 'link', text: t('showInDiscussion'),
        onclick: () => onOpenComment(c.id),
      }) : null,
    );
    const when = c.created_at ? new Date(c.created_at) : null;
    const time = when
      ? h('time', {
        datetime: c.created_at, title: look.exactDate?.(when),
        text: look.date ? look.date(when) : when.toLocaleDateString(doc.documentElement.lang || undefined),
      })
      : null;
    const replies = (c.replies ?? []).length
      ? h('ul', {}, c.replies.map((r) => h('li', {}, renderComment(r))))
      : null;
    return h('div', {}, h('article', { 'data-comment-id': String(c.id) },
      h('div', {}, h('span', { class: 'who', dir: 'auto', text: who }), time ? ' · ' : null, time),
      body, actions), replies);
  }

  function rerender(opts) {
    const g = groups.find((x) => x.key === open?.key) ?? (draft?.key === open?.key ? draft : null);
    if (g) openPanel(g, opts);
  }

  function renderPanel(g) {
    const root = open.root;
    const replyTo = open.replyTo;
    // focusable: after a post the panel is drawn anew, and a held comment's news takes the focus
    const status = h('p', { role: 'status', tabindex: '-1' });
    const alert = h('p', { role: 'alert', id: 'ia' });
    // the text box is described by the error under it: said again whenever it is focused
    const text = h('textarea', {
      name: 'text', dir: 'auto', required: true, 'aria-describedby': 'ia', oninput: () => { open.typed = text.value; },
    });
    text.value = open.typed;
    const name = h('input', { name: 'name', autocomplete: 'name', value: authorInfo.name });
    const email = h('input', { name: 'email', type: 'email', autocomplete: 'email', value: authorInfo.email });
    const submit = h('button', { type: 'submit', class: 'primary', text: t('post') });
    // novalidate: the browser's bubble for an empty box speaks the browser's language and
    // fades; the panel's own alert speaks the widget's and stays, tied to the text box
    const form = h('form', {
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        // aria-disabled, not disabled: a disabled button drops the keyboard focus to the page
        if (submit.getAttribute('aria-disabled') === 'true') return;
        text.removeAttribute('aria-invalid');
        alert.textContent = '';
        if (!text.value.trim()) {
          // a post that does nothing must say why
          text.setAttribute('aria-invalid', 'true');
          alert.textContent = t('textRequired');
          text.focus();
          return;
        }
        submit.setAttribute('aria-disabled', 'true');
        submit.textContent = t('posting');
        authorInfo.name = name.value;
        authorInfo.email = email.value;
        try {
          const created = await postComment({
            text: text.value, name: name.value || null, email: email.value || null,
            anchor: replyTo ? null : open.selector, parent_id: replyTo ? replyTo.id : null,
          });
          addComment(created, replyTo ? replyTo.id : null);
          if (open) {
            open.replyTo = null;
            open.typed = '';
          }
          build();
          const home = groups.find((x) => x.comments.some((c) => findIn([c], created.id)));
          if (home) openPanel(home, { focus: 'none' });
          if (open && created.state === 'pending') open.root.querySelector('[role="status"]').textContent = t('pending');
          (open?.root.querySelector('[role="status"]:not(:empty)') ?? open?.root.querySelector('textarea'))?.focus?.();
        } catch (err) {
          submit.removeAttribute('aria-disabled');
          submit.textContent = t('post');
          alert.textContent = t('failed', { message: err?.message ?? String(err) });
        }
      },
    },
    replyTo ? h('p', {}, t('replyingTo', { name: replyTo.name }), ' ',
      h('button', { type: 'button', class: 'link', text: t('cancelReply'),
        onclick: () => { open.replyTo = null; rerender({ focus: 'form' }); } })) : null,
    h('label', {}, g.question ? t('yourAnswer') : t('yourComment'), text),
    h('div', { class: 'row' }, h('label', {}, t('name'), name), h('label', {}, t('email'), email)),
    submit, alert);
    const list = g.comments.length
      ? h('ul', {}, g.comments.map((c) => h('li', {}, renderComment(c))))
      : h('p', { text: t('noComments') });
    const quote = g.selector.exact;
    const cls = [look.className, theme === 'dark' ? 'dark' : ''].filter(Boolean).join(' ');
    root.append(h('section', { role: 'region', 'aria-label': t('discussion'), class: cls || null },
      h('header', {},
        h('h2', { tabindex: '-1', text: g.question ? `${t('question')}: ${g.question}` : t('passage') }),
        h('button', { type: 'button', class: 'close', 'aria-label': t('close'), title: t('close'),
          onclick: () => closePanel(), text: '×' })),
      h('blockquote', { dir: 'auto', text: shorten(quote, 300) }),
      list, status, form));
    root.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') closePanel();
    });
  }

  function addComment(c, parentId) {
    if (parentId === null || parentId === undefined) {
      if (!model.some((x) => x.id === c.id)) model.push({ ...c, replies: c.replies ?? [] });
      return;
    }
    const parent = findIn(model, parentId);
    if (parent && !(parent.replies ?? []).some((x) => x.id === c.id)) {
      parent.replies = [...(parent.replies ?? []), { ...c, replies: c.replies ?? [] }];
    }
  }

  // --- selecting a passage ------------------------------------------------------

  function currentSelection() {
    const sel = doc.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    const ours = (n) => (n.nodeType === 1 ? n : n.parentElement)?.closest('[data-rostra-ui]');
    if (!contentRoot.contains(range.startContainer) || !contentRoot.contains(range.endContainer)) return null;
    if (ours(range.startContainer) || ours(range.endContainer)) return null;
    return range;
  }

  /** The selector of the reader's selection in the article, if it is worth a comment. */
  function selected() {
    const range = currentSelection();
    const selector = range ? describe(textIndex(contentRoot), range) : null;
    return selector && selector.exact.length >= 3 ? selector : null;
  }

  let frame = 0;
  function onSelectionChange() {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      // Focused, the button stays where it is for its Enter (moving it would blur it).
      if (buttonFocused()) return;
      const selector = selected();
      if (!selector) {
        pending = null;
        buttonHost.style.display = 'none';
        return;
      }
      pending = selector;
      placeButton(currentSelection());
    });
  }

  // The button goes into the article right after the selection, so that the next Tab
  // from a passage selected with the keyboard (or a screen reader) reaches it; it is
  // positioned out of the flow, under the selection's last line, so the text stays put.
  function placeButton(range) {
    const node = range.endContainer;
    // never inside a link or a button of the article: after it
    const control = (node.nodeType === 1 ? node : node.parentElement).closest('a, button, label, summary');
    if (control && contentRoot.contains(control)) control.after(buttonHost);
    else if (node.nodeType === 3) node.after(buttonHost);
    else node.insertBefore(buttonHost, node.childNodes[range.endOffset] ?? null);
    const rects = range.getClientRects();
    const last = rects[rects.length - 1] ?? range.getBoundingClientRect();
    // Offsets count from whatever box contains it: measure where 0, 0 lands.
    buttonHost.style.left = buttonHost.style.top = '0px';
    buttonHost.style.display = '';
    const origin = buttonHost.getBoundingClientRect();
    // Centred on where the selection ends: its right edge, or its left one in a
    // right-to-left line (Arabic, Hebrew).
    const rtl = getComputedStyle(node.nodeType === 1 ? node : node.parentElement).direction === 'rtl';
    const page = doc.documentElement.clientWidth;
    const width = Math.min(origin.width, page - 16);
    const left = Math.max(8, Math.min((rtl ? last.left : last.right) - width / 2, page - width - 8));
    buttonHost.style.left = `${left - origin.left}px`;
    buttonHost.style.top = `${last.bottom + 8 - origin.top}px`;
  }

  function startDraft(ev) {
    ev.preventDefault();
    pending = selected() ?? pending; // keys typed faster than a frame: the selection now
    if (!pending) return;
    const index = textIndex(contentRoot);
    // The reader may select text that already has a discussion: join it.
    const same = groups.find((g) => !g.ask && locate(index, g.selector)?.start === pending.start
      && locate(index, g.selector)?.end === pending.end);
    const selector = selectorAt(index, pending.start, quoteEnd(index.text, pending.start, pending.end));
    pending = null;
    buttonHost.style.display = 'none';
    doc.getSelection()?.removeAllRanges();
    if (same) {
      openPanel(same, { focus: 'form' });
      return;
    }
    draft = { key: 'draft', question: null, selector, range: toRange(index, selector.start, selector.end), comments: [] };
    openPanel(draft, { focus: 'form' });
  }

  // Clicking highlighted text opens its discussion, as the marker does.
  function onContentClick(ev) {
    if (!doc.getSelection()?.isCollapsed || ev.target.closest?.('[data-rostra-ui], a, button, input, textarea')) return;
    const pos = doc.caretPositionFromPoint?.(ev.clientX, ev.clientY);
    const node = pos ? pos.offsetNode : doc.caretRangeFromPoint?.(ev.clientX, ev.clientY)?.startContainer;
    const offset = pos ? pos.offset : doc.caretRangeFromPoint?.(ev.clientX, ev.clientY)?.startOffset;
    if (!node) return;
    const hits = groups.filter((g) => {
      try { return g.range.isPointInRange(node, offset) && !g.range.collapsed; } catch { return false; }
    });
    if (hits.length === 0) return;
    hits.sort((a, b) => a.range.toString().length - b.range.toString().length);
    openPanel(hits[0]);
  }

  selectButton.addEventListener('pointerdown', (ev) => ev.preventDefault());
  selectButton.addEventListener('mousedown', (ev) => ev.preventDefault());
  selectButton.addEventListener('click', startDraft);
  selectButton.addEventListener('blur', onSelectionChange); // gone with the selection
  doc.addEventListener('selectionchange', onSelectionChange);
  contentRoot.addEventListener('click', onContentClick);

  const summary = (g, isOrphan) => ({
    key: g.key,
    quote: g.selector.exact,
    question: g.question ?? null,
    anchor: g.selector,
    comments: g.comments,
    count: countVisible(g.comments),
    orphaned: isOrphan,
  });

  const api = {
    update(next) {
      model = [...next];
      build();
      if (open && open.key !== 'draft') {
        const g = groups.find((x) => x.key === open.key);
        if (g) openPanel(g, { focus: 'none' });
        else closePanel({ focus: false });
      }
    },
    setTheme(next) {
      theme = next;
      if (!open) return;
      open.panel.setAttribute('theme', next);
      open.root.querySelector('section')?.classList.toggle('dark', next === 'dark');
    },
    passages: () => groups.map((g) => summary(g, false)),
    orphans: () => orphaned.map((g) => summary(g, true)),
    reveal(id) {
      const g = groups.find((x) => x.comments.some((c) => findIn([c], id)));
      if (!g) return false;
      if (open?.key !== g.key) openPanel(g);
      open.panel.scrollIntoView({ block: 'nearest' });
      g.marker.scrollIntoView({ block: 'center' });
      return true;
    },
    destroy() {
      closePanel({ focus: false });
      clearMarkers();
      if (frame) cancelAnimationFrame(frame);
      doc.removeEventListener('selectionchange', onSelectionChange);
      contentRoot.removeEventListener('click', onContentClick);
      buttonHost.remove();
      pageStyle.remove();
      highlights?.delete('rostra-passage');
      highlights?.delete('rostra-passage-open');
    },
  };

  build();
  return api;
}
