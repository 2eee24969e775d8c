"""`MessagesShape`: the Messages API's answers on its paths, whatever produced them underneath.

`POST /v1/messages` is served by the chat completions pipeline (keys, guards, routing,
failover, usage), so what comes out of it is chat-shaped. This middleware rewrites, on the
paths under `/v1/messages` only, every answer on its way out:

- an error (status >= 400, including the ones raised before any route ran: 404, 405, 431)
  becomes `{"type": "error", "error": {"type", "message"}, "request_id"}`, status unchanged;
- a 200 JSON `chat.completion` from `/v1/messages` becomes a `message`;
- a 200 event stream becomes the Messages event stream (`stream.MessagesStream`);
- every answer carries `request-id` (the Anthropic SDKs read it), the same as `x-request-id`.

Every other path passes through untouched at the cost of one string comparison.
"""

from __future__ import annotations

from typing import Final

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway_proxy.messages_api.response import error_body, error_message, message_from_completion
from gateway_proxy.messages_api.stream import MessagesStream

MESSAGES_PATH: Final = "/v1/messages"
COUNT_TOKENS_PATH: Final = "/v1/messages/count_tokens"
_PREFIX: Final = MESSAGES_PATH + "/"


def _is_messages_path(path: str) -> bool:
    """True for `/v1/messages` and every path under it."""
    return path == MESSAGES_PATH or path.startswith(_PREFIX)


class MessagesShape:
    """ASGI middleware giving the paths under `/v1/messages` the Messages API's shapes."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_messages_path(scope["path"]):
            await self._app(scope, receive, send)
            return
        translator = _Translator(send, completions=scope["path"] == MESSAGES_PATH)
        await self._app(scope, receive, translator.send)


class _Translator:
    """One response's rewriting: buffered (errors, messages), streamed (events) or passed through."""

    def __init__(self, send: Send, *, completions: bool) -> None:
        self._send = send
        self._completions = completions
        self._start: Message | None = None
        self._mode = "pass"
        self._buffer: list[bytes] = []
        self._stream: MessagesStream | None = None
        self._request_id: str | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            await self._on_start(message)
        elif message["type"] == "http.response.body" and self._mode != "pass":
            await self._on_body(message)
        else:
            await self._send(message)

    async def _on_start(self, message: Message) -> None:
        headers = list(message.get("headers", []))
        for name, value in headers:
            if name == b"x-request-id":
                self._request_id = value.decode("latin-1")
                headers.append((b"request-id", value))
                break
        message = {**message, "headers": headers}
        status: int = message["status"]
        content_type = _header(headers, b"content-type")
        if status >= 400:
            self._mode = "error"
        elif self._completions and content_type.startswith(b"text/event-stream"):
            self._mode, self._stream = "stream", MessagesStream()
        elif self._completions and content_type.startswith(b"application/json"):
            self._mode = "message"
        if self._mode in ("error", "message"):
            self._start = message  # sent with the rewritten body, whose length it must state
            return
        await self._send(message)

    async def _on_body(self, message: Message) -> None:
        chunk: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if self._stream is not None:
            out = self._stream.feed(chunk) if chunk else b""
            if not more:
                out += self._stream.close()
            if out or not more:
                await self._send({"type": "http.response.body", "body": out, "more_body": more})
            return
        self._buffer.append(chunk)
        if more:
            return
        body = b"".join(self._buffer)
        assert self._start is not None
        status: int = self._start["status"]
        if self._mode == "error":
            body = error_body(status, error_message(body, status), self._request_id)
        else:
            body = _message_body(body)
        headers = [(k, v) for k, v in self._start["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self._send({**self._start, "headers": headers})
        await self._send({"type": "http.response.body", "body": body, "more_body": False})


def _message_body(body: bytes) -> bytes:
    try:
        completion = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    return orjson.dumps(message_from_completion(completion)) if isinstance(completion, dict) else body


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes:
    for key, value in headers:
        if key == name:
            return value
    return b""
