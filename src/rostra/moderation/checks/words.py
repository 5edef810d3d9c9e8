"""Word lists: the site's blocklist (refused, marked spam or held, as the site chose)
and its suspect words (held), matched as whole words after folding disguises."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action
from rostra.moderation.policy import ListAction
from rostra.moderation.textfold import WordList, fold_tokens

ACTIONS = {ListAction.REFUSE: Action.REFUSE, ListAction.SPAM: Action.SPAM,
           ListAction.HOLD: Action.HOLD}


@lru_cache(maxsize=256)
def word_list(entries: tuple[str, ...]) -> WordList:
    """Lists are folded once per distinct list, not once per comment."""
    return WordList(entries)


class WordCheck:
    name = "words"

    def run(self, item: Inspection) -> Iterable[Finding]:
        policy = item.policy
        if not policy.blocklist and not policy.suspect_words:
            return
        tokens = fold_tokens(item.draft.text)
        if item.draft.author_name:
            tokens_name = fold_tokens(item.draft.author_name)
        else:
            tokens_name = ()
        blocked = word_list(policy.blocklist).matches(tokens) + [
            w for w in word_list(policy.blocklist).matches(tokens_name)
        ]
        if blocked:
            yield finding(
                self.name, ACTIONS[policy.blocklist_action], "blocklist",
                f"blocked word(s): {', '.join(dict.fromkeys(blocked))}", float(len(blocked)),
                author_message="This comment contains words this site does not publish.",
            )
        suspect = word_list(policy.suspect_words).matches(tokens)
        if suspect:
            yield finding(
                self.name, Action.HOLD, "suspect_words",
                f"suspect word(s): {', '.join(suspect)}", float(len(suspect)),
            )
