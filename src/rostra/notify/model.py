"""Values shared by the notification modules."""

from __future__ import annotations

from enum import StrEnum


class SubscriptionKind(StrEnum):
    THREAD = "thread"  # every new approved comment in the thread
    REPLIES = "replies"  # approved replies to the subscriber's own comments


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class MessageKind(StrEnum):
    CONFIRM = "confirm"  # double opt-in: "please confirm your address"
    DIGEST = "digest"  # new comments in one thread for one subscriber
    MODERATOR = "moderator"  # held or flagged comments for a site's moderators
    WEBHOOK = "webhook"  # one event for one webhook
    SIGN_IN = "sign_in"  # a reader's email sign-in link
    DSA = "dsa"  # notice receipts and decisions, statements of reasons, appeal decisions


class WebhookEvent(StrEnum):
    CREATED = "comment.created"
    APPROVED = "comment.approved"
    DELETED = "comment.deleted"


class TransportError(Exception):
    """A delivery failed. ``permanent``: retrying cannot help (a 5xx SMTP reply, a
    refused webhook address); otherwise the worker retries with backoff. ``bounced``:
    the recipient's address itself was refused for good (not merely this message), so
    nothing more should go to it."""

    def __init__(self, message: str, *, permanent: bool = False,
                 bounced: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent or bounced
        self.bounced = bounced


def comment_url(thread_url: str | None, comment_id: int) -> str | None:
    """Where a comment is read: the page, at the widget's anchor for the comment."""
    return f"{thread_url}#comment-{comment_id}" if thread_url else None
