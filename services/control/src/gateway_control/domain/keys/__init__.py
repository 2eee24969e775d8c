"""Keys context: virtual API keys, stored only as HMAC digests and published to Redis."""
