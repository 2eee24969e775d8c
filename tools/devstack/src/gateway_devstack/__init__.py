"""Embedded Postgres, Valkey and NATS JetStream for dev and tests, plus a process supervisor."""

from gateway_devstack.base import Stack, StackEndpoints
from gateway_devstack.errors import (
    DevStackError,
    ExternalServerError,
    NotReadyError,
    ProcessExitedError,
    StackLockedError,
    UnsupportedError,
)
from gateway_devstack.procs import ManagedProcess, free_port
from gateway_devstack.settings import StackMode, StackSettings
from gateway_devstack.stack import DevStack, build_embedded_stack, start_stack

__all__ = [
    "DevStack",
    "DevStackError",
    "ExternalServerError",
    "ManagedProcess",
    "NotReadyError",
    "ProcessExitedError",
    "Stack",
    "StackEndpoints",
    "StackLockedError",
    "StackMode",
    "StackSettings",
    "UnsupportedError",
    "build_embedded_stack",
    "free_port",
    "start_stack",
]
