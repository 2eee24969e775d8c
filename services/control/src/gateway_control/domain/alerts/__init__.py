"""Alert history context: budget alerts asked of the accounting service over gRPC (read-only)."""
