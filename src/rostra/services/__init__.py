"""Use cases: one transaction each. The API, admin UI, CLI and importers call these."""
