"""Plugs notifications into the app: hooks, listeners, routes and the worker."""

from __future__ import annotations

from typing import Any

from rostra.api.notify import feed_routes, pages, staff, subscriptions
from rostra.notify import outbox
from rostra.notify.tokens import NotifyTokens
from rostra.services.comments import CommentEvent
from rostra.services.container import Services
from rostra.services.notify_hooks import OutboxHook
from rostra.services.notify_runtime import NotifyRuntime
from rostra.services.notify_worker import Worker
from rostra.services.subscriptions import SubscriptionService
from rostra.services.webhooks import WebhookRegistry


def build_runtime(services: Services, **worker_options: Any) -> NotifyRuntime:
    """The notification parts for one process (the app, or `rostra worker`)."""
    settings = services.settings
    tokens = NotifyTokens(settings.secret_key or services.db.secret("secret_key"))
    return NotifyRuntime(
        settings=settings,
        tokens=tokens,
        subscriptions=SubscriptionService(
            services.db, services.sites, services.tokens, email_enabled=bool(settings.smtp_host),
            accounts=services.accounts,
        ),
        webhooks=WebhookRegistry(services.db, services.sites, settings.allow_private_webhooks,
                                 services.sealer),
        worker=Worker(settings, services.db, tokens, **worker_options),
    )


def install(app: Any, services: Services) -> None:
    rt = build_runtime(services, poll_seconds=2.0)
    app.state.notify = rt
    services.comments.tx_hooks.append(OutboxHook(services.settings, services.sites))

    def wake(_event: CommentEvent) -> None:
        # Listeners run after the commit, on the thread that ran the transaction.
        if outbox.take_written():
            rt.wake()

    services.comments.listeners.append(wake)
    for router in (subscriptions, pages, feed_routes, staff):
        app.include_router(router)
    if services.settings.worker:
        app.state.background.append(rt.worker.run)
