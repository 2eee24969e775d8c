"""Authentication and secrets: password hashing, access tokens, at-rest encryption, guards."""
