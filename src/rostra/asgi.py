"""Entry point for ASGI servers: ``uvicorn --factory rostra.asgi:create``."""

from __future__ import annotations

from typing import Any

from rostra import logs
from rostra.app import create_app
from rostra.config import load_settings


def create() -> Any:
    """Build the app from rostra.toml / ROSTRA_* (migrations are run by `rostra serve`).

    Each worker process of `rostra serve --workers N` (or of uvicorn) starts here, with
    nothing of its parent's logging: it sets up its own, or its lines are lost."""
    settings = load_settings()
    logs.configure(settings.log_level, settings.log_format)
    return create_app(settings, run_migrations=False, role="worker")
