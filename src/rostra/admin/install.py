"""Wires the moderators' workspace into a running app: ``install(app, services)``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from rostra.admin import (
    auth,
    routes_audit,
    routes_bans,
    routes_dsa,
    routes_notes,
    routes_queue,
    routes_session,
    routes_sites,
    routes_staff,
)
from rostra.admin.context import Admin
from rostra.moderation.policy import parse_policy
from rostra.services.container import Services
from rostra.services.moderation import ModerationService
from rostra.services.queue import QueueReader
from rostra.services.staff import StaffService
from rostra.services.workspace import Workspace

log = logging.getLogger("rostra.admin")
STATIC = Path(__file__).parent / "static"
PRUNE_SECONDS = 3600


def install(app: FastAPI, services: Services) -> None:
    staff = StaffService(services.db, services.comments.hashing.ips, services.sealer)
    runtime = getattr(app.state, "moderation", None)
    # The moderation engine installs first (FEATURES order); without it, a service of our
    # own gives the same decisions and audit log.
    moderation = runtime.service if runtime is not None else ModerationService(services.comments)
    secret = services.settings.secret_key or services.db.secret("secret_key")
    app.state.staff = staff
    app.state.admin_keys = auth.SessionKeys(secret + ":admin")
    app.state.admin = Admin(
        services=services, staff=staff,
        reader=QueueReader(
            services.db, services.comments.hashing.email_salt,
            lambda site_id: parse_policy(
                services.sites.settings_of(site_id).moderation).trust.trusted_after),
        workspace=Workspace(services, moderation),
    )
    auth.register()
    for module in (routes_session, routes_queue, routes_sites, routes_bans, routes_audit,
                   routes_staff):
        app.include_router(module.router)
    if getattr(app.state, "dsa", None) is not None:
        app.include_router(routes_dsa.router)  # needs the moderation engine's DsaService
    if getattr(app.state, "notes", None) is not None:
        app.include_router(routes_notes.router)
    app.mount("/admin/static", StaticFiles(directory=STATIC), name="admin-static")

    async def prune_forever() -> None:
        while True:
            await asyncio.sleep(PRUNE_SECONDS)
            try:
                await run_in_threadpool(staff.prune)
            except Exception:  # keep serving; the next round retries
                log.exception("pruning staff sessions failed")

    app.state.background.append(prune_forever)
