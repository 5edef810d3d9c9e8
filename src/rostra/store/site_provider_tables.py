"""OpenID Connect providers a site adds for its own readers, beside the server's."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, Text

from rostra.store.tables import UTCDateTime, metadata

site_oidc_providers = Table(
    "site_oidc_providers",
    metadata,
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(32), primary_key=True),  # in URLs as <site>.<name>
    Column("label", String(60), nullable=False),
    Column("issuer", String(500), nullable=False),
    Column("client_id", String(300), nullable=False),
    # Empty for a public client (PKCE only). Never shown back once stored.
    Column("client_secret", Text, nullable=False),
    Column("scopes", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
