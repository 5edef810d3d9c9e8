// Text-quote anchoring for inline feedback.
//
// A passage is stored as a W3C Web Annotation style selector over the
// *normalised text* of the article's content root:
//
//   {exact, prefix, suffix, start, end}
//
// `exact` is the passage as the reader saw it (whitespace collapsed), `prefix` and
// `suffix` are up to CONTEXT characters around it, and `start`/`end` are offsets
// into the normalised text. The normalised text is the root's visible text with
// Unicode composed (NFC), typographic quotes, dashes and ellipses folded to ASCII,
// invisible characters dropped and every run of whitespace (including block
// boundaries such as </p><p>) collapsed to one space. Folding happens before
// matching, so an editor turning "quotes" into “quotes” does not lose a passage.
//
// Public functions:
//   textIndex(root)            -> index {text, ...} over root's text nodes
//   normalise(string, {trim})  -> the same normalisation for a loose string
//   describe(index, range)     -> selector for a DOM Range (null if it holds no text)
//   locate(index, selector)    -> {start, end, method, score} or null (orphaned)
//   toRange(index, start, end) -> DOM Range over the original text nodes
//   offsetsOf(index, range)    -> {start, end} normalised offsets of a DOM Range
//
// locate() tries, in order: the exact quote, choosing among several occurrences by
// similarity of prefix/suffix and closeness to the old position; the old position,
// when the text there is still nearly the quote; an approximate search for the quote
// (Sellers' edit-distance search with Ukkonen's cut-off) scored by context; and
// last the context alone, taking the text between an approximately found prefix and
// suffix when it still resembles the quote. Anything weaker is an orphan.

export const CONTEXT = 32;

// Elements whose text a reader does not read as part of the article.
const SKIP = new Set([
  'script', 'style', 'noscript', 'template', 'textarea', 'select', 'button',
  'iframe', 'object', 'canvas', 'svg', 'math', 'input',
]);

// Elements that break a line: their edges count as whitespace even when the markup
// has none between them (<p>a</p><p>b</p> reads "a b", not "ab").
const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'caption', 'dd', 'details',
  'dialog', 'div', 'dl', 'dt', 'fieldset', 'figcaption', 'figure', 'footer', 'form',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hgroup', 'hr', 'img', 'li', 'main',
  'nav', 'ol', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'td', 'tfoot',
  'th', 'thead', 'tr', 'ul',
]);

const FOLD = new Map();
for (const c of '\u2018\u2019\u201A\u201B\u2032\u02BC\u2035') FOLD.set(c, "'");
for (const c of '\u201C\u201D\u201E\u201F\u2033\u00AB\u00BB\u2039\u203A\u301D\u301E') {
  FOLD.set(c, c === '\u2039' || c === '\u203A' ? "'" : '"');
}
for (const c of '\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\uFE58\uFE63\uFF0D') FOLD.set(c, '-');
FOLD.set('\u2026', '...');
// Soft hyphens, zero-width spaces and joiners, word joiner, BOM: never seen, often
// inserted by CMS typography filters.
const INVISIBLE = /[\u00AD\u200B-\u200D\u2060\uFEFF]/;
const SPACE = /\s/;
const CLUSTER = /\P{M}\p{M}*|\p{M}+/gu;

// Collects normalised characters, remembering for each where it came from.
class Builder {
  constructor(trim) {
    this.trim = trim;
    this.chars = [];
    this.node = []; // index of the source text node, -1 for a block boundary
    this.so = []; // source start offset in that node
    this.eo = []; // source end offset
    this.disp = []; // what the reader saw, on the first char of each source cluster
    this.pending = null; // [node, so, eo] of the whitespace waiting to be emitted
  }

  space(node, so, eo) {
    if (this.pending === null) this.pending = [node, so, eo];
  }

  flushSpace() {
    if (this.pending === null) return;
    if (this.chars.length > 0 || !this.trim) {
      const [n, s, e] = this.pending;
      this.emit(' ', ' ', n, s, e);
    }
    this.pending = null;
  }

  // One entry per UTF-16 unit, as the offsets into the joined text count them: an
  // emoji takes two, both mapping back to it.
  emit(ch, disp, node, so, eo) {
    for (let u = 0; u < ch.length; u++) {
      this.chars.push(ch[u]);
      this.node.push(node);
      this.so.push(so);
      this.eo.push(eo);
      this.disp.push(u === 0 ? disp : '');
    }
  }

  text(data, nodeIdx) {
    for (const m of data.matchAll(CLUSTER)) {
      const cluster = m[0];
      const so = m.index;
      const eo = so + cluster.length;
      if (INVISIBLE.test(cluster)) continue;
      if (SPACE.test(cluster[0])) {
        this.space(nodeIdx, so, eo);
        continue;
      }
      this.flushSpace();
      const composed = cluster.normalize('NFC');
      let first = true;
      for (const c of composed) {
        const folded = FOLD.get(c) ?? c;
        for (const f of folded) {
          this.emit(f, first ? composed : '', nodeIdx, so, eo);
          first = false;
        }
      }
    }
  }

  finish() {
    if (!this.trim) this.flushSpace();
    return this.chars.join('');
  }
}

/** The normalised form of a loose string (a stored quote or its context). */
export function normalise(s, { trim = true } = {}) {
  const b = new Builder(trim);
  b.text(String(s ?? ''), -1);
  return b.finish();
}

function skipped(el) {
  return SKIP.has(el.localName) || el.hasAttribute('hidden') || el.hasAttribute('data-rostra-ui');
}

/** Builds the normalised text of `root` with a map back to its text nodes. */
export function textIndex(root) {
  const b = new Builder(true);
  const nodes = [];
  const walk = (parent) => {
    for (let n = parent.firstChild; n !== null; n = n.nextSibling) {
      if (n.nodeType === 3) {
        nodes.push(n);
        b.text(n.data, nodes.length - 1);
      } else if (n.nodeType === 1 && !skipped(n)) {
        const block = BLOCK.has(n.localName);
        if (block) b.space(-1, 0, 0);
        walk(n);
        if (block) b.space(-1, 0, 0);
      }
    }
  };
  walk(root);
  const text = b.finish();
  return { root, text, nodes, node: b.node, so: b.so, eo: b.eo, disp: b.disp };
}

/** Normalised offsets {start, end} of the text a DOM Range covers, or null. */
export function offsetsOf(index, range) {
  let sn = -1;
  let en = -1;
  for (let i = 0; i < index.nodes.length; i++) {
    if (range.intersectsNode(index.nodes[i])) {
      if (sn < 0) sn = i;
      en = i;
    }
  }
  if (sn < 0) return null;
  const sOff = index.nodes[sn] === range.startContainer ? range.startOffset : 0;
  const eOff = index.nodes[en] === range.endContainer ? range.endOffset : index.nodes[en].length;
  const { node, so, eo, text } = index;
  let start = -1;
  let end = -1;
  for (let i = 0; i < text.length; i++) {
    const n = node[i];
    if (n < 0) continue;
    if (start < 0 && (n > sn || (n === sn && eo[i] > sOff))) start = i;
    if (n < en || (n === en && so[i] < eOff)) end = i + 1;
  }
  if (start < 0 || end <= start) return null;
  while (start < end && text[start] === ' ') start++;
  while (end > start && text[end - 1] === ' ') end--;
  return end > start ? { start, end } : null;
}

function display(index, start, end) {
  return index.disp.slice(start, end).join('');
}

/** The selector describing a DOM Range inside the index's root, or null. */
export function describe(index, range) {
  const o = offsetsOf(index, range);
  if (o === null) return null;
  return selectorAt(index, o.start, o.end);
}

/** The selector for normalised offsets [start, end). */
export function selectorAt(index, start, end) {
  return {
    exact: display(index, start, end),
    prefix: display(index, Math.max(0, start - CONTEXT), start),
    suffix: display(index, end, Math.min(index.text.length, end + CONTEXT)),
    start,
    end,
  };
}

/** A DOM Range over normalised offsets [start, end) of the index's root. */
export function toRange(index, start, end) {
  const { node, so, eo, nodes } = index;
  let i = start;
  while (i < end && node[i] < 0) i++;
  let j = end - 1;
  while (j >= i && node[j] < 0) j--;
  const range = document.createRange();
  if (i > j) {
    range.selectNodeContents(index.root);
    range.collapse(true);
    return range;
  }
  range.setStart(nodes[node[i]], so[i]);
  range.setEnd(nodes[node[j]], eo[j]);
  return range;
}

// --- distances -------------------------------------------------------------

/** Levenshtein distance between two strings (two rows, O(|a|·|b|)). */
export function levenshtein(a, b) {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1] + (ca === b.charCodeAt(j - 1) ? 0 : 1);
      const del = prev[j] + 1;
      const ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : del < ins ? del : ins;
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

function similarity(a, b) {
  const n = Math.max(a.length, b.length);
  return n === 0 ? 1 : 1 - levenshtein(a, b) / n;
}

/**
 * Ends of the approximate occurrences of `pattern` in `text` with at most `k`
 * edits: one {end, d} per run of matching end positions, at the run's best end.
 * Sellers' algorithm with Ukkonen's cut-off: only rows that can still stay within
 * `k` are computed, so the cost is about O(k·n) on natural text.
 */
export function approximateEnds(text, pattern, k) {
  const m = pattern.length;
  const out = [];
  if (m === 0 || k >= m) return out;
  const C = new Int32Array(m + 1);
  for (let i = 0; i <= m; i++) C[i] = i;
  let lact = Math.min(k + 1, m);
  let run = null;
  for (let j = 0; j < text.length; j++) {
    const c = text.charCodeAt(j);
    let pC = 0;
    let nC = 0;
    for (let i = 1; i <= lact; i++) {
      if (pattern.charCodeAt(i - 1) === c) {
        nC = pC;
      } else {
        if (pC < nC) nC = pC;
        if (C[i] < nC) nC = C[i];
        nC++;
      }
      pC = C[i];
      C[i] = nC;
    }
    while (C[lact] > k) lact--;
    if (lact === m) {
      const d = C[m];
      if (run === null) run = { end: j + 1, d };
      else if (d < run.d) run = { end: j + 1, d };
    } else {
      if (run !== null) {
        out.push(run);
        run = null;
      }
      lact++;
    }
  }
  if (run !== null) out.push(run);
  return out;
}

/**
 * Start of the best alignment of the whole `pattern` ending at `end` in `text`:
 * the start whose distance is least, ties going to the length nearest the pattern's.
 */
function alignStart(text, pattern, end, k) {
  const m = pattern.length;
  const width = Math.min(end, m + k);
  // Rows are pattern characters read backwards, columns text characters read
  // backwards from `end`; column L holds the cost of aligning with text[end-L, end).
  let col = new Int32Array(m + 1);
  let next = new Int32Array(m + 1);
  for (let i = 0; i <= m; i++) col[i] = i;
  let best = col[m];
  let bestL = 0;
  for (let L = 1; L <= width; L++) {
    const c = text.charCodeAt(end - L);
    next[0] = L;
    for (let i = 1; i <= m; i++) {
      const sub = col[i - 1] + (pattern.charCodeAt(m - i) === c ? 0 : 1);
      const del = col[i] + 1;
      const ins = next[i - 1] + 1;
      next[i] = sub < del ? (sub < ins ? sub : ins) : del < ins ? del : ins;
    }
    [col, next] = [next, col];
    const d = col[m];
    if (d < best || (d === best && Math.abs(L - m) < Math.abs(bestL - m))) {
      best = d;
      bestL = L;
    }
  }
  return { start: end - bestL, d: best };
}

function reverse(s) {
  let r = '';
  for (let i = s.length - 1; i >= 0; i--) r += s[i];
  return r;
}

// --- locating --------------------------------------------------------------

function trimmed(text, start, end) {
  while (start < end && text[start] === ' ') start++;
  while (end > start && text[end - 1] === ' ') end--;
  return { start, end };
}

/**
 * Finds a selector's passage again in the index's text.
 * Returns {start, end, method, score} in normalised offsets, or null when the
 * passage cannot be found with confidence (an orphan).
 */
export function locate(index, selector) {
  const T = index.text;
  const q = normalise(selector.exact);
  if (q.length === 0 || T.length === 0) return null;
  const p = normalise(selector.prefix ?? '', { trim: false }).slice(-2 * CONTEXT);
  const s = normalise(selector.suffix ?? '', { trim: false }).slice(0, 2 * CONTEXT);
  const hint = Number.isInteger(selector.start) ? selector.start : null;

  // How well the text around [i, j) agrees with the stored context, 0..1. A side
  // stored empty (the passage opened or closed the article) agrees with an edge.
  const side = (ctx, got, atEdge) => {
    if (ctx.trim().length === 0) return atEdge ? 1 : 0.5;
    return similarity(ctx, got);
  };
  const context = (i, j) =>
    (side(p, T.slice(Math.max(0, i - p.length), i), i === 0) +
      side(s, T.slice(j, j + s.length), j === T.length)) /
    2;
  const closeness = (i) =>
    hint === null ? 0.5 : 1 - Math.min(1, Math.abs(i - hint) / Math.max(T.length, 200));

  // 1. The exact quote.
  {
    let best = null;
    let count = 0;
    for (let i = T.indexOf(q); i >= 0 && count < 1000; i = T.indexOf(q, i + 1)) {
      count++;
      const ctx = context(i, i + q.length);
      const score = 0.8 * ctx + 0.2 * closeness(i);
      if (best === null || score > best.score) best = { start: i, end: i + q.length, ctx, score };
    }
    if (best !== null && (q.length >= 16 || best.ctx >= 0.4 || (count === 1 && best.ctx >= 0.25))) {
      return { start: best.start, end: best.end, method: 'exact', score: best.score };
    }
  }

  // 2. The old position, if the text there is still nearly the quote.
  if (hint !== null && hint < T.length) {
    const o = trimmed(T, hint, Math.min(T.length, hint + q.length));
    const got = T.slice(o.start, o.end);
    if (got.length > 0 && similarity(q, got) >= 0.85 && context(o.start, o.end) >= 0.5) {
      return { start: o.start, end: o.end, method: 'position', score: similarity(q, got) };
    }
  }

  // 3. The quote with edits, scored with its context and position.
  if (q.length >= 4) {
    // The cost grows with k; past 64 edits, step 4 (context) is the better tool anyway.
    const k = Math.min(Math.floor(q.length / 4), 64);
    const ends = approximateEnds(T, q, k).sort((a, b) => a.d - b.d).slice(0, 24);
    let best = null;
    for (const { end } of ends) {
      const a = alignStart(T, q, end, k);
      const o = trimmed(T, a.start, end);
      if (o.end <= o.start) continue;
      const qs = 1 - a.d / q.length;
      const ctx = context(o.start, o.end);
      const score = 0.5 * qs + 0.35 * ctx + 0.15 * closeness(o.start);
      if (best === null || score > best.score) best = { ...o, qs, ctx, score };
    }
    if (best !== null && best.qs >= 0.75 && (best.ctx >= 0.35 || (q.length >= 24 && best.ctx >= 0.2))) {
      return { start: best.start, end: best.end, method: 'fuzzy', score: best.score };
    }
  }

  // 4. The context alone: what now lies between the prefix and the suffix.
  const found = bracket(T, p, s, q, closeness);
  if (found !== null) return found;
  return null;
}

function bracket(T, p, s, q, closeness) {
  const pt = p.trim();
  const st = s.trim();
  if (pt.length < 8 && st.length < 8) return null;
  // Prefix ends: where the passage may start. An empty prefix means the text start.
  let starts;
  if (pt.length === 0) starts = [{ at: 0, d: 0, n: 1 }];
  else if (pt.length < 8) return null;
  else {
    starts = approximateEnds(T, pt, Math.floor(pt.length / 4)).map((r) => ({
      at: r.end,
      d: r.d,
      n: pt.length,
    }));
  }
  let ends;
  if (st.length === 0) ends = [{ at: T.length, d: 0, n: 1 }];
  else if (st.length < 8) return null;
  else {
    const R = reverse(T);
    ends = approximateEnds(R, reverse(st), Math.floor(st.length / 4)).map((r) => ({
      at: T.length - r.end,
      d: r.d,
      n: st.length,
    }));
  }
  if (starts.length * ends.length > 10000) return null;
  const maxGap = 3 * q.length + 64;
  let best = null;
  for (const a of starts) {
    for (const b of ends) {
      if (b.at < a.at || b.at - a.at > maxGap) continue;
      const o = trimmed(T, a.at, b.at);
      const cost = a.d / a.n + b.d / b.n;
      if (best === null || cost < best.cost || (cost === best.cost && closeness(o.start) > best.close)) {
        best = { ...o, cost, close: closeness(o.start) };
      }
    }
  }
  if (best === null || best.end <= best.start) return null;
  const gap = T.slice(best.start, best.end);
  const d = levenshtein(q, gap);
  const qs = 1 - d / Math.max(q.length, gap.length);
  // With a context that fits well, words added inside the passage do not make it a
  // different passage: forgive the edits the longer text needs anyway.
  const kept = 1 - (d - Math.max(0, gap.length - q.length)) / q.length;
  if (qs < 0.5 && !(best.cost <= 0.25 && kept >= 0.7)) return null;
  return { start: best.start, end: best.end, method: 'context', score: Math.max(qs, kept) * (1 - best.cost / 2) };
}

/** Convenience: index `root` and locate `selector`; returns {range, ...} or null. */
export function anchor(root, selector, index = textIndex(root)) {
  const hit = locate(index, selector);
  if (hit === null) return null;
  return { ...hit, range: toRange(index, hit.start, hit.end) };
}
