"""Notifications: "Notify of" email subscriptions, moderator alerts, Atom feeds, webhooks.

Changes to comments write outbox rows inside their own transaction (``hooks``); a worker
(``worker``) delivers them through one transport per channel (``email``, ``webhooks``).
"""
