"""reply_deadline over real sockets, on asyncio's loop and on uvloop (what the proxy runs).

The peers run in threads of their own, so a test can keep its event loop busy (`time.sleep` in a
callback stands for a loop that is running other requests) while the peer answers or not.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import closing

import pytest
import uvloop
from gateway_proxy.reply_deadline import TICKS, Answers, reply_deadline

TIMEOUT_S = 0.05
LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


class Peer:
    """A TCP peer on 127.0.0.1 that answers each line with `+OK` after `delay_s`, or never."""

    def __init__(self, *, answers: bool, delay_s: float = 0.0) -> None:
        self._answers = answers
        self._delay_s = delay_s
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with closing(conn):
            buffered = b""
            while chunk := conn.recv(4096):
                buffered += chunk
                while b"\n" in buffered:
                    _, buffered = buffered.split(b"\n", 1)
                    if self._answers:
                        time.sleep(self._delay_s)
                        try:
                            conn.sendall(b"+OK\r\n")
                        except OSError:
                            return  # the caller gave up and closed the connection

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def answering() -> Iterator[Peer]:
    peer = Peer(answers=True)
    yield peer
    peer.close()


@pytest.fixture
def silent() -> Iterator[Peer]:
    peer = Peer(answers=False)
    yield peer
    peer.close()


def run(loop: str, main: Callable[[], Coroutine[None, None, None]]) -> None:
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        runner.run(main())


async def ask(port: int, answers: Answers, *, busy_s: float = 0.0, max_wait_s: float = 1.0) -> float:
    """Send one line and wait for the answer under the deadline; the seconds it took.

    With `busy_s` the event loop is blocked that long right after the line is sent.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        started = time.monotonic()
        writer.write(b"PING\r\n")
        if busy_s:
            asyncio.get_running_loop().call_soon(time.sleep, busy_s)
        async with reply_deadline(TIMEOUT_S, answers, max_wait_s=max_wait_s):
            assert await reader.readline() == b"+OK\r\n"
        return time.monotonic() - started
    finally:
        writer.close()


@pytest.mark.parametrize("loop", LOOPS)
def test_a_reply_that_came_while_the_loop_was_busy_is_not_lost(loop: str, answering: Peer) -> None:
    # The peer answers at once; the loop only gets back to it 200 ms later, past the 50 ms.
    async def main() -> None:
        for _ in range(5):
            assert await ask(answering.port, Answers(), busy_s=0.2) >= 0.2

    run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_peer_that_never_answers_is_given_up_after_the_timeout(loop: str, silent: Peer) -> None:
    async def main() -> None:
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await ask(silent.port, Answers())
            waited = time.monotonic() - started
            # uvloop's clock moves in whole milliseconds (the deadline's start may be read up to
            # 1 ms late), so the timeout can fire a fraction of a millisecond before 50 ms
            # measured by time.monotonic().
            assert TIMEOUT_S - 0.001 <= waited < 3 * TIMEOUT_S, waited

    run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_time_the_loop_was_busy_is_not_counted_as_silence(loop: str, silent: Peer) -> None:
    async def main() -> None:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await ask(silent.port, Answers(), busy_s=0.2)
        # 200 ms busy, then the whole timeout of silence (less the first check's share) on a free loop.
        assert time.monotonic() - started >= 0.2 + TIMEOUT_S - TIMEOUT_S / TICKS

    run(loop, main)


async def keep_answering(port: int, answers: Answers, stop: asyncio.Event) -> None:
    """Another call of the same client: Redis answers it every few milliseconds."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while not stop.is_set():
            writer.write(b"PING\r\n")
            assert await reader.readline() == b"+OK\r\n"
            answers.heard()
            await asyncio.sleep(0.01)
    finally:
        writer.close()


@pytest.mark.parametrize("loop", LOOPS)
def test_a_slow_reply_is_awaited_while_redis_answers_other_calls(loop: str, answering: Peer) -> None:
    slow = Peer(answers=True, delay_s=0.15)

    async def main() -> None:
        answers = Answers()
        with pytest.raises(TimeoutError):  # alone, 150 ms of silence is an outage
            await ask(slow.port, answers)
        stop = asyncio.Event()
        others = asyncio.create_task(keep_answering(answering.port, answers, stop))
        try:
            assert await ask(slow.port, answers) >= 0.15
        finally:
            stop.set()
            await others

    try:
        run(loop, main)
    finally:
        slow.close()


@pytest.mark.parametrize("loop", LOOPS)
def test_max_wait_bounds_a_call_that_is_never_answered(loop: str, answering: Peer, silent: Peer) -> None:
    async def main() -> None:
        answers = Answers()
        stop = asyncio.Event()
        others = asyncio.create_task(keep_answering(answering.port, answers, stop))
        try:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await ask(silent.port, answers, max_wait_s=0.3)
            assert 0.3 <= time.monotonic() - started < 1.0
        finally:
            stop.set()
            await others

    run(loop, main)
