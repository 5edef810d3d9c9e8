"""Errors the services raise; the API turns each into an RFC 9457 problem."""

from __future__ import annotations

from typing import Any


class RostraError(Exception):
    """Base of the errors a client can be told about."""

    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(RostraError):
    status = 422
    code = "invalid_input"
    title = "Invalid input"


class NotFound(RostraError):
    status = 404
    code = "not_found"
    title = "Not found"


class Forbidden(RostraError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class Unauthorized(RostraError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"


class Conflict(RostraError):
    status = 409
    code = "conflict"
    title = "Conflict"


class EditWindowClosed(RostraError):
    status = 403
    code = "edit_window_closed"
    title = "The time to edit this comment has passed"


class TooManyRequests(RostraError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"
