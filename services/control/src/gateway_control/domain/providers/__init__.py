"""Providers context: upstream accounts and their credentials, encrypted at rest, never returned."""
