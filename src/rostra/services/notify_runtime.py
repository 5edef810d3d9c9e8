"""What the notification routes need at hand, built once per app in ``install``."""

from __future__ import annotations

from dataclasses import dataclass

from rostra.config import Settings
from rostra.notify.tokens import NotifyTokens
from rostra.services.notify_worker import Worker
from rostra.services.subscriptions import SubscriptionService
from rostra.services.webhooks import WebhookRegistry


@dataclass
class NotifyRuntime:
    settings: Settings
    tokens: NotifyTokens
    subscriptions: SubscriptionService
    webhooks: WebhookRegistry
    worker: Worker

    def staff_failures(self, site_id: str) -> list[dict[str, object]]:
        """Moderator alerts of ``site_id`` that could not be delivered lately."""
        from rostra.notify.alerts import failed_alerts

        with self.worker.db.read() as conn:
            return failed_alerts(conn, site_id)

    def wake(self) -> None:
        """Tell the in-process worker (if it runs) that the outbox has news."""
        self.worker.wake()
