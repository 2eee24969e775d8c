"""Alert channels context: where budget alerts go (signed webhooks, email)."""
