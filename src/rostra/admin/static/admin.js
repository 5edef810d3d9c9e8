// Progressive enhancement for the workspace: keyboard shortcuts on the queue and
// actions without a page load. Every action also works as a plain form without this.
"use strict";
(function () {
  const main = document.getElementById("main");
  const csrf = main ? main.dataset.csrf : "";
  const items = () => Array.from(document.querySelectorAll("article.item[data-id]"));
  let current = -1;

  function focusItem(i) {
    const all = items();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((el, n) => el.classList.toggle("current", n === current));
    all[current].focus();
    all[current].scrollIntoView({ block: "nearest" });
  }

  function notice(text, undoable) {
    const box = document.getElementById("notice");
    if (!box) return;
    document.getElementById("notice-text").textContent = text;
    box.hidden = false;
    const undo = document.getElementById("undo-form");
    if (undo) undo.hidden = !undoable;
  }

  async function post(url, fields) {
    const body = new URLSearchParams({ csrf, ...fields });
    const response = await fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrf },
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || "the action failed (" + response.status + ")");
    return data;
  }

  const LABELS = { approve: "Approved", reject: "Rejected", spam: "Marked as spam",
                   delete: "Deleted", featured: "Featured", pinned: "Pinned", unpin: "Unpinned" };

  async function act(item, action) {
    if (!item || item.classList.contains("done")) return;
    try {
      // With the state the page shows: one another moderator decided since is left as
      // it is, and the answer says who decided it.
      await post("/admin/act?only=" + encodeURIComponent(item.dataset.id),
                 { action, ["seen." + item.dataset.id]: item.dataset.state });
    } catch (err) {
      notice("Comment " + item.dataset.id + ": " + err.message, false);
      return;
    }
    item.classList.add("done");
    item.dataset.done = action;
    const status = item.querySelector(".done-status");
    status.textContent = LABELS[action] + ".";
    status.hidden = false;
    item.querySelectorAll(".actions button").forEach((b) => { b.disabled = true; });
    notice(LABELS[action] + " comment " + item.dataset.id + ".", true);
    // The cursor stays where it is: the moderator's next "j" goes to the next comment.
    // (Moving on by itself made that "j" skip one, and the next key act on the wrong one.)
  }

  async function undo() {
    let data;
    try {
      data = await post("/admin/undo", {});
    } catch (err) {
      notice(err.message, false);
      return;
    }
    // Reload the list as the server now has it, saying what was undone.
    const url = new URL(window.location.href);
    url.searchParams.set("done", "undo");
    url.searchParams.set("what", data.undone || "");
    url.searchParams.set("sig", data.sig || "");  // the page shows "what" only if signed
    url.searchParams.delete("n");
    window.location.assign(url.toString());
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = (event.target.tagName || "").toLowerCase();
    if (["input", "textarea", "select"].includes(tag) || event.target.isContentEditable) return;
    if (!items().length && event.key !== "u") return;
    const item = items()[current];
    const keys = { a: "approve", r: "reject", s: "spam" };
    if (event.key === "j") focusItem(current + 1);
    else if (event.key === "k") focusItem(current < 0 ? 0 : current - 1);
    else if (event.key === "x" && item) {
      const box = item.querySelector("input[type=checkbox]");
      box.checked = !box.checked;
    } else if (keys[event.key] && item) act(item, keys[event.key]);
    else if (event.key === "u" && !document.getElementById("undo-form")?.hidden) undo();
    else return;
    event.preventDefault();
  });

  // Buttons on one item: act in place instead of reloading the page.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("article.item .actions button[name=action]");
    if (!button) return;
    event.preventDefault();
    const item = button.closest("article.item");
    focusItem(items().indexOf(item));
    act(item, button.value);
  });

  const undoForm = document.getElementById("undo-form");
  if (undoForm) undoForm.addEventListener("submit", (event) => { event.preventDefault(); undo(); });

  const all = document.getElementById("select-all");
  if (all) all.addEventListener("change", () => {
    document.querySelectorAll("#bulk article.item input[type=checkbox]")
      .forEach((box) => { box.checked = all.checked; });
  });
})();
