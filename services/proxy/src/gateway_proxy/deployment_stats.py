"""Live figures per deployment, for the strategies that need them: `DeploymentStats`.

- requests in flight (least-in-flight strategy): counted from the upstream call until the
  response, or the relayed stream, has ended;
- an exponentially weighted moving average of the time to first token (lowest-latency
  strategy): for a stream, until its first event; for any other call, until its response.

Per process and in memory, like the breakers: each replica routes on what it has seen itself.
"""

from __future__ import annotations


class DeploymentStats:
    """In-flight counts and latency EWMAs, keyed by deployment id."""

    def __init__(self, *, ewma_alpha: float = 0.3) -> None:
        self._alpha = ewma_alpha
        self._in_flight: dict[str, int] = {}
        self._latency: dict[str, float] = {}

    def in_flight(self, deployment_id: str) -> int:
        """Requests to the deployment that have not ended yet."""
        return self._in_flight.get(deployment_id, 0)

    def begin(self, deployment_id: str) -> None:
        """An upstream call to the deployment starts."""
        self._in_flight[deployment_id] = self._in_flight.get(deployment_id, 0) + 1

    def end(self, deployment_id: str) -> None:
        """A call counted by `begin` has ended (call exactly once per `begin`)."""
        count = self._in_flight.get(deployment_id, 0) - 1
        if count > 0:
            self._in_flight[deployment_id] = count
        else:
            self._in_flight.pop(deployment_id, None)

    def latency(self, deployment_id: str) -> float | None:
        """The EWMA of time to first token in seconds; None until a first sample."""
        return self._latency.get(deployment_id)

    def observe_latency(self, deployment_id: str, seconds: float) -> None:
        """Fold one time-to-first-token sample into the deployment's average."""
        previous = self._latency.get(deployment_id)
        if previous is None:
            self._latency[deployment_id] = seconds
        else:
            self._latency[deployment_id] = previous + self._alpha * (seconds - previous)
