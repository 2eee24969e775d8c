"""gateway_health: active provider probes, published as DeploymentHealth in NATS KV and over gRPC."""
