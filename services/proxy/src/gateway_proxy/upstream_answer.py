"""A provider's answer as the forwarder and the relays read it: status, headers, decoded body.

`UpstreamAnswer` is the part of httpx's `Response` API the proxy uses, so an `httpx.Response`
is one too (the tests' fake upstreams return them). `Answer` is the pool's own: an httpx
`Response` costs ≈20 µs to build and read even for a body already in memory (its stream, chunker,
decoder and request-context machinery), a share of the hot path that this class does not have.

The body comes decoded (`gzip`, `deflate`: what the proxy asks providers for; an encoding it did
not ask for passes through as it came), either whole (`content`, for a sync answer the call read
before returning) or piece by piece from a `BodySource` as it arrives. A body that cannot be
decoded is httpx's `RemoteProtocolError`: a transport failure of the provider's making (502).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Protocol

import httpx


class UpstreamAnswer(Protocol):
    """What the proxy reads of an answer (`httpx.Response` has all of it)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]:
        """Looked up by lower-case name; repeated fields joined with ", " (as httpx does)."""
        ...

    @property
    def is_stream_consumed(self) -> bool:
        """True when the body was read whole by the call, or its reading has begun."""
        ...

    @property
    def content(self) -> bytes:
        """The whole decoded body, once read."""
        ...

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The decoded body as it arrives."""
        ...

    async def aread(self) -> bytes:
        """Read the rest of the body, decoded, and keep it in `content`."""
        ...

    async def aclose(self) -> None:
        """Release the connection (back to the pool only when the body was read to its end)."""
        ...


class BodySource(Protocol):
    """Where a streamed body comes from: the pooled connection."""

    async def read(self) -> bytes:
        """The next raw piece, or b"" at the end."""
        ...

    async def aclose(self) -> None: ...


class AnswerHeaders(Mapping[str, str]):
    """An answer's headers, case-insensitive; indexed on first lookup (most answers get one or two)."""

    __slots__ = ("_index", "raw")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.raw = raw
        self._index: dict[str, str] | None = None

    def _fields(self) -> dict[str, str]:
        index = self._index
        if index is None:
            index = self._index = {}
            for raw_name, raw_value in self.raw:
                name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
                index[name] = f"{index[name]}, {value}" if name in index else value
        return index

    def __getitem__(self, name: str) -> str:
        return self._fields()[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields())

    def __len__(self) -> int:
        return len(self._fields())


class Answer:
    """The pool's `UpstreamAnswer`: whole (`content=`) or streamed from `source`."""

    __slots__ = ("_content", "_decoders", "_source", "headers", "is_stream_consumed", "status_code")

    def __init__(
        self,
        status_code: int,
        raw_headers: list[tuple[bytes, bytes]],
        *,
        content: bytes | None = None,
        source: BodySource | None = None,
    ) -> None:
        self.status_code = status_code
        self.headers = AnswerHeaders(raw_headers)
        self._decoders = _decoders(raw_headers)
        self._source = source
        self._content: bytes | None = None
        self.is_stream_consumed = content is not None
        if content is not None:
            self._content = self._decode_whole(content)

    @property
    def content(self) -> bytes:
        if self._content is None:
            raise httpx.ResponseNotRead()
        return self._content

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        if self._content is not None:
            if self._content:
                yield self._content
            return
        if self.is_stream_consumed or self._source is None:
            raise httpx.StreamConsumed()
        self.is_stream_consumed = True
        source, decoders = self._source, self._decoders
        if not decoders:
            while chunk := await source.read():
                yield chunk
            return
        while chunk := await source.read():
            if decoded := _decode(decoders, chunk):
                yield decoded
        if tail := _flush(decoders):
            yield tail

    async def aread(self) -> bytes:
        if self._content is None:
            self._content = b"".join([chunk async for chunk in self.aiter_bytes()])
        return self._content

    async def aclose(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            await source.aclose()

    def _decode_whole(self, body: bytes) -> bytes:
        if not self._decoders:
            return body
        return _decode(self._decoders, body) + _flush(self._decoders)


_GZIP_WBITS = 16 + zlib.MAX_WBITS


def _decoders(raw_headers: list[tuple[bytes, bytes]]) -> list[_Decoder]:
    """One decoder per content coding understood, in the order to apply them (the last one first)."""
    names: list[str] = []
    for name, value in raw_headers:
        if name.lower() == b"content-encoding":
            names += (coding.strip().lower() for coding in value.decode("latin-1").split(","))
    return [_Decoder(name) for name in reversed(names) if name in ("gzip", "x-gzip", "deflate")]


class _Decoder:
    """gzip, or deflate (zlib-wrapped as RFC 9110 says, or raw as some servers send it)."""

    __slots__ = ("_name", "_started", "_zlib")

    def __init__(self, name: str) -> None:
        self._name = name
        self._started = False
        wbits = zlib.MAX_WBITS if name == "deflate" else _GZIP_WBITS
        self._zlib = zlib.decompressobj(wbits)

    def decode(self, data: bytes) -> bytes:
        try:
            if self._name == "deflate" and not self._started and data:
                self._started = True
                try:
                    return self._zlib.decompress(data)
                except zlib.error:
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate
            return self._zlib.decompress(data)
        except zlib.error as exc:
            raise _undecodable(self._name, exc) from exc

    def flush(self) -> bytes:
        try:
            return self._zlib.flush()
        except zlib.error as exc:
            raise _undecodable(self._name, exc) from exc


def _undecodable(encoding: str, exc: zlib.error) -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError(f"The provider's {encoding} body cannot be decoded: {exc}")


def _decode(decoders: list[_Decoder], data: bytes) -> bytes:
    for decoder in decoders:
        data = decoder.decode(data)
    return data


def _flush(decoders: list[_Decoder]) -> bytes:
    data = b""
    for decoder in decoders:
        data = decoder.decode(data) + decoder.flush() if data else decoder.flush()
    return data
