"""An in-memory log of the requests a fake upstream received.

Tests in other processes read it over HTTP (`GET /_fake/requests`) to assert what the
gateway actually forwarded, e.g. that the client's Authorization never reached the
upstream, or that a client disconnect closed the upstream stream too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    """How the fake finished a request."""

    PENDING = "pending"
    COMPLETED = "completed"
    DISCONNECTED = "disconnected"  # the client went away before the response finished
    DROPPED = "dropped"  # the fake aborted the connection on purpose (x-fake-drop-after)


@dataclass(slots=True)
class RecordedRequest:
    """One request as received, plus when and how its connection ended."""

    id: int
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: object
    received_at: float
    stream: bool = False
    status: int | None = None
    closed_at: float | None = None
    outcome: Outcome = Outcome.PENDING
    events_sent: int = 0

    def header(self, name: str) -> str | None:
        """First value of header `name` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def close(self, outcome: Outcome) -> None:
        """Mark the connection finished now, keeping the first outcome recorded."""
        if self.closed_at is None:
            self.closed_at = time.time()
            self.outcome = outcome

    def to_json(self) -> dict[str, object]:
        """A JSON-ready view; headers as `[name, value]` pairs in arrival order."""
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": [[key, value] for key, value in self.headers],
            "body": self.body,
            "received_at": self.received_at,
            "stream": self.stream,
            "status": self.status,
            "closed_at": self.closed_at,
            "outcome": self.outcome.value,
            "events_sent": self.events_sent,
        }


@dataclass(slots=True)
class RequestLog:
    """Every request the fake received since it started or was last cleared."""

    records: list[RecordedRequest] = field(default_factory=list)
    _next_id: int = 1

    def record(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: object
    ) -> RecordedRequest:
        """Append a new record stamped with the current time and return it."""
        entry = RecordedRequest(self._next_id, method, path, query, headers, body, time.time())
        self._next_id += 1
        self.records.append(entry)
        return entry

    def clear(self) -> None:
        """Forget every record (ids keep increasing so stale ids are never reused)."""
        self.records.clear()
