"""Context notes over HTTP: readers read, propose and rate them; staff write, publish
and withdraw them (docs/api.md, "Context notes")."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.responses import Response

from rostra.api.routes import PROBLEMS, context, json_response
from rostra.api.schemas import IdPath, IdQuery, Input
from rostra.api.staff_auth import Role, current_staff, require_role
from rostra.services.notes import MAX_SOURCES, MAX_TEXT, NoteDraft, NoteService, NoteStatus

read = APIRouter(prefix="/api", tags=["read"], responses=PROBLEMS)
write = APIRouter(prefix="/api", tags=["write"], responses=PROBLEMS)
staff = APIRouter(prefix="/api/moderation", tags=["moderation"], responses=PROBLEMS)


def notes(request: Request) -> NoteService:
    service: NoteService = request.app.state.notes
    return service


class NoteIn(Input):
    text: str = Field(..., min_length=1, max_length=MAX_TEXT,
                      description="The context, in Markdown")
    sources: list[Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=list, max_length=MAX_SOURCES, description="http(s) addresses")


class RatingIn(Input):
    helpful: bool


class StaffNoteIn(NoteIn):
    comment_id: int = Field(..., ge=1, le=2**63 - 1)


class NoteDecisionIn(Input):
    reason: str | None = Field(None, max_length=2000)


@read.get("/comments/{comment_id}/notes", summary="A comment's context notes")
def get_notes(request: Request, comment_id: IdPath) -> Response:
    # GET /api/comments/{id}/notes — shown notes; signed in: also those waiting for ratings
    return json_response(notes(request).list_for_reader(comment_id, context(request)))


@write.post("/comments/{comment_id}/notes", status_code=201,
            summary="Propose a context note (signed-in readers)")
def propose_note(request: Request, comment_id: IdPath, body: NoteIn) -> Response:
    # POST /api/comments/{id}/notes — shown once readers who usually disagree rate it helpful
    note = notes(request).propose(comment_id, NoteDraft(body.text, body.sources),
                                  context(request))
    return json_response({"note": note}, status=201)


@write.post("/notes/{note_id}/rating", summary="Rate a proposed context note")
def rate_note(request: Request, note_id: IdPath, body: RatingIn) -> Response:
    # POST /api/notes/{id}/rating {helpful} — one rating per reader, changeable
    return json_response({"note": notes(request).rate(note_id, body.helpful,
                                                      context(request))})


def _actor(request: Request, site_id: str) -> str:
    member = current_staff(request)
    require_role(member, site_id, Role.MODERATOR)
    return member.name if member.id is None else f"{member.name} (#{member.id})"


@staff.get("/notes", summary="A site's context notes")
def list_notes(request: Request, site: Annotated[str, Query(max_length=64)],
               status: NoteStatus | None = None, comment_id: IdQuery = None) -> Response:
    # GET /api/moderation/notes?site=&status=proposed|published|withdrawn&comment_id=
    _actor(request, site)
    return json_response({"notes": notes(request).list_for_staff(
        site, status=status, comment_id=comment_id)})


@staff.post("/notes", status_code=201, summary="Add a context note (published at once)")
def add_note(request: Request, body: StaffNoteIn) -> Response:
    # POST /api/moderation/notes {comment_id, text, sources}
    service = notes(request)
    actor = _actor(request, service.site_of_comment(body.comment_id))
    note = service.add_by_staff(body.comment_id, NoteDraft(body.text, body.sources),
                                actor=actor)
    return json_response({"note": note}, status=201)


@staff.post("/notes/{note_id}/{decision}", summary="Publish, withdraw or reopen a note")
def decide_note(request: Request, note_id: IdPath,
                decision: Literal["publish", "withdraw", "reopen"],
                body: NoteDecisionIn | None = None) -> Response:
    # POST /api/moderation/notes/{id}/publish|withdraw|reopen — reopen: readers' ratings decide
    service = notes(request)
    actor = _actor(request, service.site_of_note(note_id))
    status = {"publish": NoteStatus.PUBLISHED, "withdraw": NoteStatus.WITHDRAWN,
              "reopen": NoteStatus.PROPOSED}[decision]
    return json_response({"note": service.decide(note_id, status, actor=actor,
                                                 reason=body.reason if body else None)})


ROUTERS = (read, write, staff)
