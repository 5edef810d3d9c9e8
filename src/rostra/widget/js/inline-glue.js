// What the widget hands to inline feedback (inline/inline.js): its language, its look
// and its date formats, so a passage's discussion reads like the one under the article.
import { css } from "./styles.js";

// inline.js's keys that the widget already has under another name
const SAME = {
  name: "name", post: "submit", posting: "posting", reply: "reply", anonymous: "anonymous",
  deleted: "deleted", cancelReply: "cancel", pending: "postedPending", yourComment: "text",
  replyingTo: "replyText", textRequired: "textRequired",
};

// The panel's own parts in the widget's look (its CSS: .r sets fonts, colours, buttons).
const ADAPT = `
:host{all:initial;display:block;margin:.75em 0}
section.r{max-width:40em;border:1px solid var(--bd);border-inline-start:4px solid var(--a);padding:.75em 1em}
header{display:flex;gap:.5em;align-items:flex-start;justify-content:space-between}
h2{font-size:1em;margin:0}
blockquote{margin:.5em 0;padding:0;padding-inline-start:.75em;border:0;border-inline-start:3px solid var(--a);font-style:italic;color:var(--mut)}
ul{list-style:none;margin:.5em 0;padding:0}
ul ul{margin-left:0;margin-inline-start:1.25em}
li>div>article{padding:.5em 0;border-top:1px solid var(--bd)}
.who{font-weight:700}
time{color:var(--mut);font-size:.9em}
button.link{border:0;background:none;padding:.2em .3em;color:var(--mut);font-size:.9em;text-decoration:none}
button.link:hover{color:var(--a);text-decoration:underline}
button.close{border:0;background:none;font-size:1.25em;line-height:1;color:var(--mut)}
label{display:grid;gap:.2em;font-size:.9em;font-weight:600}
button[type=submit]{justify-self:start}
[role=alert]{color:var(--rostra-error,#b3261e)}
.dark [role=alert]{color:var(--rostra-error-dark,#ffb4ab)}
`;

/**
 * `onChange` for mountInline: the comments on passages no longer in the article say
 * "passage changed" above their quote, in the Inline Feedbacks tab and in the list.
 * The list re-renders (sorting, more pages, live updates), so the marks follow it.
 */
function markGone(el) {
  let gone = new Set();
  let watching = false;
  const mark = () => {
    for (const q of el.root.querySelectorAll("li.c .quote")) {
      const li = q.closest("li.c");
      const had = q.previousElementSibling && q.previousElementSibling.classList.contains("gone");
      const is = gone.has(Number(li.id.slice("comment-".length)));
      if (is && !had) {
        const note = document.createElement("p");
        note.className = "gone";
        note.textContent = el.tr.t("inl_passageChanged");
        Object.assign(note.style, { margin: "0", fontSize: ".85em", color: "var(--mut)" });
        q.before(note);
      } else if (!is && had) q.previousElementSibling.remove();
    }
  };
  return ({ orphans }) => {
    gone = new Set(orphans.flatMap((o) => o.comments.map((c) => c.id)));
    if (gone.size && !watching) {
      watching = true;
      new MutationObserver(mark).observe(el.root, { childList: true, subtree: true });
    }
    mark();
  };
}

/** The `i18n`, `look` and `onChange` options of mountInline for the widget element `el`. */
export function inlineOptions(el) {
  const { tr } = el;
  const i18n = (key, vars = {}) => {
    if (key === "failed") return vars.message; // the widget's message says it all
    if (key === "email") return `${tr.t("email")} (${tr.t("emailHint")})`;
    if (key === "markerOne" || key === "marker") return tr.t("inl_marker", { n: key === "markerOne" ? 1 : vars.count });
    return tr.t(SAME[key] || "inl_" + key, { n: vars.count, ...vars });
  };
  const look = {
    css: css + ADAPT, className: "r", dir: el.root.dir,
    date: (d) => tr.ago(d), exactDate: (d) => tr.exact.format(d),
  };
  return { i18n, look, onChange: markGone(el) };
}
