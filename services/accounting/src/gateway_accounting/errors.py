"""Errors of the accounting service.

    AccountingError
     ├── PoisonMessage        a usage message that can never become a row (undecodable, invalid);
     │                        the consumer terminates it instead of letting it be redelivered
     ├── DatabaseUnavailable  Postgres is not reachable (yet); the work is retried, queries
     │                        answer gRPC UNAVAILABLE
     └── InvalidQuery         a usage query's arguments are wrong; gRPC INVALID_ARGUMENT

`is_transient_db_error` tells an outage (retry later) from a statement that will fail again.
"""

from __future__ import annotations

import asyncpg
import psycopg


class AccountingError(Exception):
    """Base of the service's own errors."""


class PoisonMessage(AccountingError):
    """A message that no retry will fix; the reason is the message text."""


class DatabaseUnavailable(AccountingError):
    """Postgres cannot be used right now."""


class InvalidQuery(AccountingError):
    """A query argument is invalid; the message names it."""


# Connection loss (class 08), admin shutdown / starting up (57), too many connections (53) and
# serialization failures or deadlocks (40) all succeed when simply tried again later.
_TRANSIENT_DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    DatabaseUnavailable,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.TransactionRollbackError,
    # The migration runner connects with psycopg.
    psycopg.OperationalError,
)


def is_transient_db_error(exc: BaseException) -> bool:
    """True when `exc` means "Postgres is unreachable or busy", not "this statement is wrong"."""
    return isinstance(exc, _TRANSIENT_DB_ERRORS)
