"""RFC 9457 problem details: every error a client gets has this shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from rostra.core.errors import RostraError

PROBLEM_TYPE = "https://rostra.dev/problems/"
CONTENT_TYPE = "application/problem+json"


# An OpenAPI response entry for an error answered as problem+json.
PROBLEM_RESPONSE: dict[str, Any] = {
    "description": "Problem details (RFC 9457)",
    "content": {CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def problem_body(status: int, code: str, title: str, detail: str, **extra: Any) -> bytes:
    body = {"type": PROBLEM_TYPE + code, "title": title, "status": status, "detail": detail,
            "code": code, **extra}
    return orjson.dumps(body)


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> Response:
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    return Response(
        problem_body(status, code, title, detail, **extra), status_code=status,
        media_type=CONTENT_TYPE, headers=headers,
    )


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def error_problem(exc: RostraError) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers for an error the services raised."""
    extra = dict(exc.extra)
    code = extra.pop("code", exc.code)
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else {}
    return exc.status, problem_body(exc.status, code, exc.title, exc.detail, **extra), headers


def error_response(exc: RostraError) -> Response:
    """The problem+json answer to an error the services raised."""
    status, body, headers = error_problem(exc)
    return Response(body, status_code=status, media_type=CONTENT_TYPE, headers=headers)


async def _rostra_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RostraError)
    return error_response(exc)


def validation_problem(errors: Sequence[Any]) -> tuple[int, bytes]:
    """Status and body for a body that failed validation (pydantic's error list)."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, problem_body(400, "malformed_json", "Malformed JSON",
                                 "the request body is not valid JSON")
    messages = [f"{_field(tuple(e['loc']))}: {e['msg']}" for e in errors]
    return 422, problem_body(
        422, "invalid_input", "Invalid input", "; ".join(messages),
        errors=[{"field": _field(tuple(e["loc"])), "message": e["msg"]} for e in errors],
    )


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    status, body = validation_problem(exc.errors())
    return Response(body, status_code=status, media_type=CONTENT_TYPE)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
    code = codes.get(exc.status_code, "http_error")
    return problem(exc.status_code, code, str(exc.detail), str(exc.detail))


def install(app: FastAPI) -> None:
    app.add_exception_handler(RostraError, _rostra_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
