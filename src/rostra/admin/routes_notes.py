"""A site's context notes: those readers proposed (with their bridging score), those
staff published or withdrew; add one under a comment: /admin/sites/{site}/notes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rostra.admin.auth import actor_of, check_csrf
from rostra.admin.context import admin, require, who
from rostra.admin.web import json_ok, one, pages, read_form, redirect, render
from rostra.core.errors import InvalidInput
from rostra.core.ids import parse_id
from rostra.services.notes import NoteDraft, NoteService, NoteStatus

router = APIRouter(prefix="/admin", include_in_schema=False)
DECISIONS = {"publish": NoteStatus.PUBLISHED, "withdraw": NoteStatus.WITHDRAWN,
             "reopen": NoteStatus.PROPOSED}


def _notes(request: Request) -> NoteService:
    service: NoteService = request.app.state.notes
    return service


def _id(value: str, what: str) -> int:
    found = parse_id(value)
    if found is None:
        raise InvalidInput(f"{what}: not an id")
    return found


@router.get("/sites/{site_id}/notes")
@pages
async def notes_page(request: Request, site_id: str) -> Response:
    # GET /admin/sites/{id}/notes?status=proposed|published|withdrawn&comment=
    staff = await who(request)
    require(staff, site_id)
    site = admin(request).services.sites.get(site_id)
    raw = request.query_params.get("status", "proposed")
    status = NoteStatus(raw) if raw in {s.value for s in NoteStatus} else None
    comment = parse_id(request.query_params.get("comment", ""))
    found = await run_in_threadpool(lambda: _notes(request).list_for_staff(
        site_id, status=status, comment_id=comment))
    if request.headers.get("accept", "").startswith("application/json"):
        return json_ok({"notes": found})
    return render(request, "notes.html", site=site, notes=found,
                  wanted=status.value if status else "", comment=comment or "",
                  statuses=[s.value for s in NoteStatus], done=request.query_params.get("done"))


@router.post("/sites/{site_id}/notes")
@pages
async def add_note(request: Request, site_id: str) -> Response:
    # POST /admin/sites/{id}/notes (form: csrf, comment, text, sources one per line)
    staff = await who(request)
    require(staff, site_id)
    form = await read_form(request)
    check_csrf(request, form)
    service = _notes(request)
    comment_id = _id(one(form, "comment"), "comment")
    if await run_in_threadpool(service.site_of_comment, comment_id) != site_id:
        raise InvalidInput(f"comment: no comment {comment_id} on this site")
    draft = NoteDraft(one(form, "text"), one(form, "sources").split())
    note = await run_in_threadpool(lambda: service.add_by_staff(
        comment_id, draft, actor=actor_of(staff)))
    if request.headers.get("accept", "").startswith("application/json"):
        return json_ok({"note": note}, status=201)
    return redirect(f"/admin/sites/{site_id}/notes", status="published", done="added")


@router.post("/sites/{site_id}/notes/{note_id}/{decision}")
@pages
async def decide_note(request: Request, site_id: str, note_id: str, decision: str) -> Response:
    # POST /admin/sites/{id}/notes/{note}/publish|withdraw|reopen (form: csrf, reason)
    staff = await who(request)
    require(staff, site_id)
    form = await read_form(request)
    check_csrf(request, form)
    if decision not in DECISIONS:
        raise InvalidInput("decision: publish, withdraw or reopen")
    service = _notes(request)
    number = _id(note_id, "note")
    if await run_in_threadpool(service.site_of_note, number) != site_id:
        raise InvalidInput(f"note: no note {number} on this site")
    note = await run_in_threadpool(lambda: service.decide(
        number, DECISIONS[decision], actor=actor_of(staff),
        reason=one(form, "reason")[:2000] or None))
    if request.headers.get("accept", "").startswith("application/json"):
        return json_ok({"note": note})
    return redirect(f"/admin/sites/{site_id}/notes", status=one(form, "status"), done=decision)
