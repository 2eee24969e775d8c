"""Offline checks of the deployment artefacts: a small kustomize renderer, Kubernetes helpers,
the services' settings names, Dockerfile parsing and Terraform parsing. Used by tests/deploy."""
