"""When to give up on a Redis call: once Redis has been silent for the timeout, not once the clock says so.

`asyncio.timeout(0.05)` measures wall time, and on a busy host most of that time is not Redis's.
On the 2-core test host, with two proxies taking 40 requests at once, the proxies' event-loop
threads spent most of each 5 ms waiting for a CPU (/proc schedstat). A Redis call also needs
several loop turns (redis-py sends through `asyncio.wait_for`, which is a task of its own). So
admissions that Redis answered took up to 230 ms end to end, while a probe pinging the same
Valkey never waited more than 24 ms. A plain timeout gives up on such calls. It even loses a
reply that is already in the socket buffer: after a busy stretch the deadline timer and the
reply are due in the same loop turn, and the timer's cancellation lands before the task wakes
up. This lost 5 of 5 such replies on both asyncio's loop and uvloop.

A dead or hung Redis (stopped, or a peer that accepts connections and never answers) answers
nothing at all. A busy host's Redis answers something every few milliseconds. So the deadline
counts Redis's silence:

- Silence is counted from the start of the call. It starts again whenever Redis answers another
  call of the same client (`Answers.heard`). A call that is slow only because this process is
  slow is not given up while answers keep coming in.
- Time when the event loop could not hear Redis does not count. A timer checks the deadline
  every `timeout_s / TICKS`. When that timer runs late (the loop was busy, or the process was
  waiting for a CPU), the late part is not counted as silence.
- After `timeout_s` of silence, the call is cancelled with TimeoutError. The cancellation goes
  through `asyncio.timeout` and runs one callback later, so a reply that arrived in the same
  loop turn still wins: its task wake-up is already queued.
- Whatever else happens, a call is given up after `max_wait_s`. This covers a Redis that answers
  other calls but never this connection. The client's socket timeout is the last resort.

On an idle loop, a Redis that answers nothing is given up on after `timeout_s` (51-57 ms for
50 ms, measured in tests/integration/test_limits_outage.py). On a busy loop it is given up on
after `timeout_s` of loop time that was free to hear it.
"""

from __future__ import annotations

import asyncio
import math
from types import TracebackType

# Deadline checks per timeout. Each check is a timer callback, and only a call that is still
# waiting pays for it. Finer checks count more of a CPU-starved loop's lateness as not silence.
TICKS = 10
# A check that runs at most this late was run by a free loop (uvloop rounds timers to the ms).
SLACK_S = 0.002


class Answers:
    """When Redis last answered a call of one client (event-loop time): the proof that it is alive."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = -math.inf

    def heard(self) -> None:
        """Record that Redis answered just now."""
        self.last = asyncio.get_running_loop().time()


class ReplyDeadline:
    """The async context manager `reply_deadline` returns (see there).

    A class rather than an `@asynccontextmanager`: every admission enters one, and a generator
    based context manager costs an async generator, which the event loop also registers in a
    weak set, on each use.
    """

    __slots__ = (
        "_answers",
        "_give_up_at",
        "_handle",
        "_loop",
        "_lost",
        "_max_wait_s",
        "_since",
        "_timeout",
        "_timeout_s",
    )

    def __init__(self, timeout_s: float, answers: Answers, max_wait_s: float) -> None:
        self._timeout_s = timeout_s
        self._answers = answers
        self._max_wait_s = max_wait_s

    async def __aenter__(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        start = loop.time()
        self._give_up_at = start + max(self._max_wait_s, self._timeout_s)
        self._since = start  # silence is counted from here
        self._lost = 0.0  # time after `since` when the loop was not free to hear Redis
        self._timeout = asyncio.timeout(None)
        await self._timeout.__aenter__()
        due = start + self._timeout_s / TICKS
        self._handle = loop.call_at(due, self._check, due)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._handle.cancel()
        await self._timeout.__aexit__(exc_type, exc, tb)  # turns its own cancellation into TimeoutError

    def _check(self, due: float) -> None:
        now = self._loop.time()
        if self._answers.last > self._since:
            self._since, self._lost = self._answers.last, 0.0
        late = now - max(due, self._since)
        if late > SLACK_S:
            self._lost += late
        silent = now - self._since - self._lost
        if silent >= self._timeout_s or now >= self._give_up_at:
            self._timeout.reschedule(now)  # cancels one callback later: a queued reply still wins
            return
        next_due = now + min(self._timeout_s / TICKS, self._timeout_s - silent)
        self._handle = self._loop.call_at(next_due, self._check, next_due)


def reply_deadline(timeout_s: float, answers: Answers, *, max_wait_s: float) -> ReplyDeadline:
    """Raise TimeoutError in the block once Redis has been silent for `timeout_s`, or after `max_wait_s`.

    Silence is counted from the later of the block's start and the last answer recorded in
    `answers`. Time when the event loop was too busy to run the deadline's timer is left out.
    """
    return ReplyDeadline(timeout_s, answers, max_wait_s)
