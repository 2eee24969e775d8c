"""Bounded contexts of the control API, each with controllers, services, repositories and schemas."""
