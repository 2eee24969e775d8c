"""Pushing configuration to the data plane: the ConfigSnapshot in NATS KV and key records in Redis."""
