"""Clean-ups shared by the sources: tweets carry markup that comments do not."""

from __future__ import annotations

import html
import re

_RT = re.compile(r"(?:^|(?<=\s)|(?<=[!.?]))RT\s+@\w+:?\s*")
_MENTION = re.compile(r"@\w{1,30}")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def clean_tweet(text: str, *, keep_urls: bool = False) -> str:
    """A tweet as a comment would read: entities decoded, retweet prefix and handles
    neutralised ("@user"), links dropped (a comment set's links would otherwise teach
    the model that links mean a tweet), whitespace collapsed."""
    text = html.unescape(html.unescape(text))
    text = _RT.sub("", text)
    text = _MENTION.sub("@user", text)
    if not keep_urls:
        text = _URL.sub("", text)
    return _SPACES.sub(" ", text).strip()


def collapse_mentions(text: str) -> str:
    """Several leading "@user" handles in a row become one: replies to many people."""
    return re.sub(r"^(?:@user\s+){2,}", "@user ", text)
