"""Usage context: totals asked of the accounting service over gRPC (control stores no usage)."""
