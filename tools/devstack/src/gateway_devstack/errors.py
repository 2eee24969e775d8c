"""Errors raised by the dev stack.

DevStackError
├── ProcessExitedError   a child exited while we waited for it to become ready
├── NotReadyError        a child kept running but never became ready in time
├── ExternalServerError  the operation needs a server we started, not one from the environment
├── StackLockedError     another stack already runs under the same root directory
└── UnsupportedError     the operation is not available in this stack mode
"""

from __future__ import annotations


class DevStackError(Exception):
    """Base class of every error the dev stack raises on purpose."""


class ProcessExitedError(DevStackError):
    """A child process exited before it became ready; carries the tail of its log."""

    def __init__(self, name: str, returncode: int, log_tail: str) -> None:
        super().__init__(f"{name} exited with code {returncode} before it was ready; log tail:\n{log_tail}")
        self.name = name
        self.returncode = returncode
        self.log_tail = log_tail


class NotReadyError(DevStackError):
    """A child process did not become ready within its timeout; carries the tail of its log."""

    def __init__(self, name: str, timeout: float, log_tail: str) -> None:
        super().__init__(f"{name} was not ready after {timeout:.1f}s; log tail:\n{log_tail}")
        self.name = name
        self.timeout = timeout
        self.log_tail = log_tail


class ExternalServerError(DevStackError):
    """The server comes from the environment (e.g. REDIS_URL), so the stack cannot start or stop it."""


class StackLockedError(DevStackError):
    """Another live stack holds the lock of this root directory."""


class UnsupportedError(DevStackError):
    """The operation is not available in the current stack mode."""
