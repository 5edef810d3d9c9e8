"""Request and response models: they validate input and generate the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from rostra.core.ids import MAX_ID

# A larger number than MAX_ID names nothing, and is refused as input rather than reaching
# the database.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="An id (1 to 2^63-1)")]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="An id (1 to 2^63-1)")]


def has_lone_surrogate(value: Any) -> bool:
    """Whether a JSON value holds a string with an unpaired UTF-16 surrogate (JSON's
    "\\ud800" escape): such text cannot be stored, encoded or shown."""
    if isinstance(value, str):
        return not value.isascii() and any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, list):
        return any(has_lone_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    return False


class Input(BaseModel):
    """Base of request bodies: no string may hold a lone surrogate."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_lone_surrogates(cls, value: Any) -> Any:
        if has_lone_surrogate(value):
            raise ValueError("text with an unpaired surrogate (\\ud800-\\udfff)")
        return value


class Strict(Input):
    model_config = ConfigDict(extra="forbid")


class CommentIn(Strict):
    site: str | None = Field(None, max_length=64, description="Site id; default: by Origin")
    thread: str = Field(..., min_length=1, max_length=1000,
                        description="Thread id, path or URL of the page")
    title: str | None = Field(None, max_length=500, description="Page title, for new threads")
    url: str | None = Field(None, max_length=2000, description="Page URL, for new threads")
    parent_id: int | None = Field(None, ge=1, le=MAX_ID,
                                  description="The comment this replies to")
    name: str | None = Field(None, max_length=400)
    email: str | None = Field(None, max_length=320, description="Never shown to anyone")
    website: str | None = Field(None, max_length=500)
    text: str = Field(..., max_length=100_000, description="Markdown subset")
    anchor: dict[str, Any] | None = Field(
        None, description="Inline feedback: text-quote selector of the passage"
    )
    pow: str | None = Field(None, max_length=2000, description="Proof-of-work solution")
    nudge_acknowledged: bool = Field(
        False, description="The author saw the 'please reconsider' nudge and posts anyway"
    )


class CommentEdit(Strict):
    text: str = Field(..., max_length=100_000)


class VoteIn(Strict):
    value: int = Field(..., ge=-1, le=1, strict=True,  # strict: true is not a vote
                       description="1 up, -1 down, 0 take the vote back")


class PreviewIn(Strict):
    text: str = Field(..., max_length=100_000)
    site: str | None = Field(None, max_length=64)


class CountsIn(Strict):
    site: str | None = Field(None, max_length=64)
    threads: list[str] = Field(..., max_length=200)


class Author(BaseModel):
    name: str | None
    website: str | None
    avatar: str = Field(description="Eight hex digits, the same for one author: draw the avatar from it")
    signed_in: bool = Field(description="Posted by a signed-in account (site sign-on or a provider)")


class CommentOut(BaseModel):
    id: int
    parent_id: int | None
    author: Author | None = Field(description="null for a tombstone")
    html: str
    created_at: str
    edited_at: str | None
    state: Literal["approved", "pending", "deleted"]
    score: int
    upvotes: int
    downvotes: int
    reply_count: int
    anchor: dict[str, Any] | None
    replies: list[CommentOut]


class ThreadOut(BaseModel):
    id: int
    key: str
    url: str | None
    title: str | None
    total: int
    top_level: int
    closed: bool


class PageOut(BaseModel):
    thread: ThreadOut | None
    sort: Literal["newest", "oldest", "votes"]
    comments: list[CommentOut]
    next_cursor: str | None
    edit_window_seconds: int
    max_comment_length: int = Field(description="Most characters in one comment on this site")
    email_notifications: bool = Field(description="Whether \"Notify of\" by email is offered")


class PostedOut(BaseModel):
    comment: CommentOut
    edit_token: str
    editable_until: str
    voter: str | None = Field(None, description="New signed voter id; send as X-Rostra-Voter")
    moderation: dict[str, Any] | None = Field(
        None, description="Why a comment was held: message and reason codes"
    )


class SingleOut(BaseModel):
    comment: CommentOut
    thread: ThreadOut
    site: str
    root_id: int | None
    moderation_message: str | None


class VoteOut(BaseModel):
    score: int
    upvotes: int
    downvotes: int
    vote: int
    voter: str | None


class CountsOut(BaseModel):
    counts: dict[str, int]


class VotesOut(BaseModel):
    votes: dict[str, int]


class OriginOut(BaseModel):
    site: str | None
    origin: str | None = Field(description="The request's Origin header, as the server saw it")
    allowed: bool = Field(description="Whether pages of that origin may embed the site")


class PreviewOut(BaseModel):
    html: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
