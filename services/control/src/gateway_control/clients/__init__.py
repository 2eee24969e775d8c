"""Clients of other gateway services (gRPC)."""
