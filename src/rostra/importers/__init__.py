"""Readers of other systems' exports; each yields the records of rostra.services.importing."""
