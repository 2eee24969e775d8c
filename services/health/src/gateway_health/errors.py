"""Errors of the health service.

    HealthServiceError
    ├── TargetError        a deployment in the snapshot cannot be probed as configured
    │                      (unknown provider or type, credentials that do not open, a missing
    │                      credential); probing it records a failed ProbeResult, never raises
    └── HealthWriteConflict another writer updated the deployment's KV record first; the caller
                           re-reads and re-applies its probe result

Upstream failures are not errors here: a refused connection, a timeout or a 500 is a failed
`ProbeResult`, which is the service's whole point.
"""

from __future__ import annotations


class HealthServiceError(Exception):
    """Base of the health service's own errors."""


class TargetError(HealthServiceError):
    """A deployment cannot be probed as configured; the message is safe to log and store."""


class HealthWriteConflict(HealthServiceError):
    """The KV record changed between our read and our write (compare-and-set lost)."""
