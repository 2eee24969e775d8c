"""Auth context: local login, the bootstrap platform admin, and who a bearer token belongs to."""
