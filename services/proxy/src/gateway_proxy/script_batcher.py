"""`ScriptBatcher`: the rate limiter's Redis script calls, sent many per round trip.

Every rate-limited request makes two script calls: the admission (`limits.lua`), whose answer
it waits for, and the release at its end (`limits_release.lua`), whose answer nobody waits for.
Sent one by one through redis-py, each call costs a connection checkout, retry and timeout
wrappers, a send and a receive: about 90 µs of CPU per admission on the bench host, the largest
part of what the guards cost (docs/performance.md, "Guards"). Here calls are queued, and one
sender task sends everything queued while the previous batch was in flight as one pipeline
(EVALSHA per call, no MULTI: each script is atomic by itself) — about half the CPU per call
under load. When idle a call leaves on the next turn of the event loop.

`call` waits for its own answer (an admission); `submit` only queues (a release). A caller that
stops waiting (its deadline passed, `reply_deadline.py`) leaves its call in the batch; the
answer is dropped. A batch that fails (Redis unreachable, or silent for `timeout_s`) fails every
call waiting in it with the same error, so each caller falls back as it did for its own failed
call; queued releases are logged and dropped (their leases expire by their TTL, their TTL
entries keep the estimate for their window). If Redis lost the scripts (restarted empty), they
are loaded and the calls refused for it sent once more: a refused call did not run.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import hiredis
import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError, ResponseError

log = logging.getLogger(__name__)

_FAILURES = (RedisError, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class BatchedScript:
    """A Lua script the batcher can call: its source and SHA1."""

    source: str
    sha: str


@dataclass(slots=True)
class _Call:
    script: BatchedScript
    keys: Sequence[str]
    args: Sequence[str | int]
    answer: asyncio.Future[object] | None  # None: nobody waits (a release)


class ScriptBatcher:
    """Queues script calls and sends them in pipelines from one sender task (started on first use)."""

    def __init__(self, redis: aioredis.Redis, *, timeout_s: float = 1.0, max_batch: int = 512) -> None:
        self._redis = redis
        self._timeout_s = timeout_s
        self._max_batch = max_batch
        self._queue: list[_Call] = []
        self._wakeup = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._sending = asyncio.Lock()

    def script(self, source: str) -> BatchedScript:
        """Register a script (loaded into Redis on its first NOSCRIPT refusal)."""
        return BatchedScript(source, self._redis.register_script(source).sha)

    @property
    def pending(self) -> int:
        """Calls queued and not yet sent."""
        return len(self._queue)

    def submit(self, script: BatchedScript, keys: Sequence[str], args: Sequence[str | int]) -> None:
        """Queue a call whose answer nobody needs; it is sent with the next batch."""
        self._queue.append(_Call(script, keys, args, None))
        self._wake()

    async def call(self, script: BatchedScript, keys: Sequence[str], args: Sequence[str | int]) -> object:
        """Send a call with the next batch and return its answer (or raise its error)."""
        answer: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._queue.append(_Call(script, keys, args, answer))
        self._wake()
        return await answer

    async def aclose(self) -> None:
        """Send what is queued, then stop the sender task (shutdown)."""
        await self.flush()
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)

    def _wake(self) -> None:
        """Wake the sender, starting it on first use (it lives as long as the batcher is used)."""
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._run(), name="redis-script-batches")
        self._wakeup.set()

    async def _run(self) -> None:
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                await self.flush()
        finally:
            self._fail_waiting(RedisError("the script batcher stopped"))

    async def flush(self) -> None:
        """Send everything queued now, in batches of at most `max_batch`; when it returns, every
        call queued before it was sent and answered (shutdown calls this)."""
        async with self._sending:  # one batch in flight at a time, whoever sends it
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._send(batch)

    async def _send(self, batch: list[_Call]) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                results = await self._pipeline(batch)
                refused = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
                if refused:
                    for script in {batch[i].script for i in refused}:
                        await self._redis.script_load(script.source)
                    retried = await self._pipeline([batch[i] for i in refused])
                    for i, result in zip(refused, retried, strict=True):
                        results[i] = result
        except _FAILURES as exc:
            self._fail(batch, exc)
            return
        except Exception as exc:  # never let the sender die with callers waiting on it
            log.exception("rate-limit script batch failed unexpectedly")
            self._fail(batch, RedisError(repr(exc)))
            return
        except asyncio.CancelledError:
            self._fail(batch, RedisError("the script batcher stopped"))
            raise
        failed = 0
        for call, result in zip(batch, results, strict=True):
            if call.answer is None:
                failed += isinstance(result, Exception)
            elif not call.answer.done():
                if isinstance(result, Exception):
                    call.answer.set_exception(result)
                else:
                    call.answer.set_result(result)
        if failed:
            log.warning("%d of %d queued rate-limit releases failed", failed, len(batch))

    async def _pipeline(self, batch: list[_Call]) -> list[object]:
        """Send `batch` in one write on one pooled connection; its answers, errors included.

        Packed by hiredis in C and read without a timeout per answer (`_send` bounds the whole
        batch): redis-py's own pipeline packs every argument in Python and times every read.
        """
        packed = b"".join(
            # hiredis's stub declares a 1-tuple; it packs a command of any length.
            hiredis.pack_command(("EVALSHA", call.script.sha, len(call.keys), *call.keys, *call.args))  # type: ignore[arg-type]
            for call in batch
        )
        pool = self._redis.connection_pool
        connection = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            await connection.send_packed_command(packed)
            results: list[object] = []
            for _ in batch:
                try:
                    results.append(await connection.read_response(timeout=math.inf))
                except ResponseError as exc:  # this call's error; the connection stays in step
                    results.append(exc)
        except BaseException:
            # Cancelled or failed half-way: the rest of the answers would be read by the next user.
            await connection.disconnect()
            raise
        finally:
            await pool.release(connection)
        return results

    def _fail(self, batch: list[_Call], exc: BaseException) -> None:
        released = 0
        for call in batch:
            if call.answer is None:
                released += 1
            elif not call.answer.done():
                call.answer.set_exception(exc)
        if released:
            log.warning("could not send %d rate-limit releases: %r", released, exc)

    def _fail_waiting(self, exc: BaseException) -> None:
        """Fail the calls still queued when the sender stops (nobody would send them)."""
        waiting = [call for call in self._queue if call.answer is not None]
        self._queue = [call for call in self._queue if call.answer is None]
        self._fail(waiting, exc)
