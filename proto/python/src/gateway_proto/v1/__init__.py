"""Generated protobuf and gRPC modules for gateway.v1 (make proto)."""
