"""What the notification routes need at hand, built once per app in ``install``."""

from __future__ import annotations

from dataclasses import dataclass

from rostra.config import Settings
from rostra.notify.registry import WebhookRegistry
from rostra.notify.tokens import NotifyTokens
from rostra.notify.worker import Worker
from rostra.services.subscriptions import SubscriptionService


@dataclass
class NotifyRuntime:
    settings: Settings
    tokens: NotifyTokens
    subscriptions: SubscriptionService
    webhooks: WebhookRegistry
    worker: Worker

    def wake(self) -> None:
        """Tell the in-process worker (if it runs) that the outbox has news."""
        self.worker.wake()
