"""The moderators' workspace: server-rendered pages under /admin (see docs/admin.md)."""
