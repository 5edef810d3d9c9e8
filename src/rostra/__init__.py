"""Rostra: a self-hosted discussion system for news sites and blogs."""

__version__ = "0.1.0"
