"""SSO context: OpenID Connect sign-in, who the verified identity is locally, and its session."""
