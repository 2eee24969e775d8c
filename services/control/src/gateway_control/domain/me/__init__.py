"""Self-service context (`/user`): my profile, password, tenants, keys and usage."""
