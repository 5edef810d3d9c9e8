"""The command line's groups beyond the core ones in rostra.cli: imports and exports,
staff accounts, the outbox worker and moderation tools. Each adapts services to click."""
