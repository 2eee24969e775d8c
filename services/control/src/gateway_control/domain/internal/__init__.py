"""Internal context: service-to-service routes behind INTERNAL_TOKEN (not for people)."""
