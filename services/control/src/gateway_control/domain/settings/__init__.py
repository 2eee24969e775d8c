"""Settings context: platform-wide defaults (model entitlements of personal tenants)."""
