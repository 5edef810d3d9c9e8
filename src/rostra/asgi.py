"""Entry point for ASGI servers: ``uvicorn --factory rostra.asgi:create``."""

from __future__ import annotations

from typing import Any

from rostra.app import create_app
from rostra.config import load_settings


def create() -> Any:
    """Build the app from rostra.toml / ROSTRA_* (migrations are run by `rostra serve`)."""
    return create_app(load_settings(), run_migrations=False)
