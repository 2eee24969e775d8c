"""Budgets context: spending limits on tenants and keys (hard ones are enforced by the proxy)."""
