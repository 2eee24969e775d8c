"""Memberships context: who holds which role in a tenant."""
