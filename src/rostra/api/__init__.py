"""HTTP API: routes by access tier, a plain-ASGI front for the hot read path."""
