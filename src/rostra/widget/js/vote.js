// A reader's vote: loaded with the first one, so the first render does not carry it.
// The pressed state is the button's own to announce; the new score is said once, in the
// widget's polite status region, and a failure once, as an alert in the comment itself
// (the vote buttons are described by it), not at the top of the list.
import { store } from "./storage.js";
import { setVote } from "./render.js";

/** Vote `value` (1 or -1) on the comment of `li`; the same vote again takes it back. */
export async function vote(el, li, value) {
  const c = li._c;
  const next = li._vote === value ? 0 : value;
  const voter = store.voter();
  const own = store.ownOne(c.id); // the server refuses own votes: prove it is ours
  const headers = voter ? { "X-Rostra-Voter": voter } : {};
  if (own) headers["X-Rostra-Edit-Token"] = own.token;
  const art = li.firstChild;
  const buttons = art.querySelectorAll(":scope>.acts>.votes>button");
  // a new try replaces the old message, so that the same error is announced again
  const old = art.querySelector(":scope>.verr");
  if (old) old.remove();
  for (const b of buttons) b.removeAttribute("aria-describedby");
  try {
    const res = await el.api.call("POST", `/api/comments/${c.id}/vote`, { body: { value: next }, headers });
    if (res.voter) store.setVoter(res.voter);
    Object.assign(c, { score: res.score, upvotes: res.upvotes, downvotes: res.downvotes });
    el.votes[c.id] = res.vote;
    setVote(li, c, res.vote);
    el.say(el.tr.t("scoreNow", { n: c.score ?? 0 }));
  } catch (error) {
    const p = document.createElement("p");
    p.className = "err verr";
    p.id = "ve" + c.id;
    p.setAttribute("role", "alert");
    p.textContent = el.message(error);
    art.insertBefore(p, art.lastChild); // after the actions, before the slot for forms
    for (const b of buttons) b.setAttribute("aria-describedby", p.id);
  }
}
