"""Run a fake upstream on Granian's embedded server (one worker, so one request log).

The embedded server takes the app object itself, so the factory's arguments (the API
key) need no environment plumbing. It installs no signal handlers of its own; SIGINT
and SIGTERM are wired to its graceful stop here.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from granian.constants import Interfaces
from granian.server.embed import Server
from starlette.applications import Starlette

SHUTDOWN_GRACE_S = 2
logger = logging.getLogger(__name__)


async def serve_async(app: Starlette, host: str, port: int) -> None:
    """Serve `app` over ASGI on host:port until SIGINT or SIGTERM."""
    server = Server(app, address=host, port=port, interface=Interfaces.ASGI, log_access=False)
    # A request parked by `x-fake-hang` would otherwise hold shutdown until its client gives up.
    server.workers_kill_timeout = SHUTDOWN_GRACE_S
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, server.stop)
    try:
        await server.serve()
    except TimeoutError:
        # Raised by the embedded server after it cancelled workers that outlived the grace period.
        logger.warning("in-flight requests were cancelled after %ss at shutdown", SHUTDOWN_GRACE_S)


def serve(app: Starlette, host: str, port: int) -> None:
    """Blocking form of `serve_async`."""
    asyncio.run(serve_async(app, host, port))
