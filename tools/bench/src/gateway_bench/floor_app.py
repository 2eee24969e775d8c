"""The Granian floor's app: what any Python ASGI app on Granian pays per request, and no more.

It reads the whole request body, as the proxy does, and answers with the bench's canned chat
completion (`upstream.COMPLETION`, the body the proxy relays), so the bytes on the wire match the
proxied scenario. Served by `floor.start_floor` with the proxy's own Granian flags.
"""

from __future__ import annotations

import json
from typing import Final

from starlette.types import Receive, Scope, Send

from gateway_bench.upstream import COMPLETION

_BODY: Final = json.dumps(COMPLETION).encode()
_HEADERS: Final = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer every HTTP request with the canned completion once its body is read."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more = bool(message.get("more_body", False))
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})
