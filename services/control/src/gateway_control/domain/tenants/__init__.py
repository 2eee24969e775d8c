"""Tenants context: the organisations keys and budgets belong to."""
