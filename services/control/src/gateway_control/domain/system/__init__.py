"""System context: liveness, readiness and metrics for the platform that runs the service."""
