"""Declarative bootstrap: apply a GitOps-managed file of tenants, admins, keys, models and routes."""
