"""The provider adapter contract: endpoints, capabilities, request/response/usage types.

An adapter is pure: it turns an OpenAI-shaped client request into an `UpstreamRequest`
and parses what the upstream sends back (`ParsedResponse`, `StreamEvent`s or a
`ProviderError`). The proxy and the health service do the I/O.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

import orjson


class Endpoint(enum.StrEnum):
    """An OpenAI API operation the gateway can forward."""

    CHAT_COMPLETIONS = "chat_completions"
    COMPLETIONS = "completions"
    EMBEDDINGS = "embeddings"
    IMAGES_GENERATIONS = "images_generations"
    AUDIO_SPEECH = "audio_speech"
    AUDIO_TRANSCRIPTIONS = "audio_transcriptions"
    MODERATIONS = "moderations"
    MODELS = "models"


class Capability(enum.StrEnum):
    """A feature a provider adapter can serve; routing filters deployments by these."""

    CHAT = "chat"
    STREAM = "stream"
    TOOLS = "tools"
    VISION = "vision"
    JSON_MODE = "json_mode"
    EMBEDDINGS = "embeddings"
    IMAGES = "images"
    SPEECH = "speech"
    TRANSCRIPTION = "transcription"
    COMPLETIONS = "completions"
    MODERATIONS = "moderations"


# The capability an endpoint needs at minimum; `models` is served by every provider.
ENDPOINT_CAPABILITY: Final[Mapping[Endpoint, Capability | None]] = {
    Endpoint.CHAT_COMPLETIONS: Capability.CHAT,
    Endpoint.COMPLETIONS: Capability.COMPLETIONS,
    Endpoint.EMBEDDINGS: Capability.EMBEDDINGS,
    Endpoint.IMAGES_GENERATIONS: Capability.IMAGES,
    Endpoint.AUDIO_SPEECH: Capability.SPEECH,
    Endpoint.AUDIO_TRANSCRIPTIONS: Capability.TRANSCRIPTION,
    Endpoint.MODERATIONS: Capability.MODERATIONS,
    Endpoint.MODELS: None,
}


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """How to reach one provider account.

    `credentials` are already decrypted by the caller (e.g. `{"api_key": "sk-..."}`);
    `settings` are plain options such as `organization`, `project` or `header.<Name>`
    extra headers. Neither is ever logged by this library.
    """

    provider_type: str
    base_url: str
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeploymentTarget:
    """A concrete upstream model on a concrete provider account."""

    upstream_model: str
    provider: ProviderConfig


@dataclass(frozen=True, slots=True)
class FilePart:
    """A file field of a multipart request body (e.g. the audio of a transcription)."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """An HTTP request ready to send; headers keep order and allow repeats."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes | None = None

    def header(self, name: str) -> str | None:
        """Return the first value of header `name` (case-insensitive), or None if absent."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts reported by the provider for one request."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    reasoning_tokens: int = 0
    # Tokens written to a provider-side prompt cache (Anthropic bills them above input).
    cache_write_prompt_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens (cached, cache-write and reasoning tokens are subsets)."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class ParsedResponse:
    """A successful upstream response: the bytes to return to the client, and its usage."""

    body: bytes
    usage: Usage | None


class ErrorKind(enum.StrEnum):
    """What went wrong upstream, in the terms routing decides on (retry, fail over, fall back).

    `retryable` kinds (rate limit, overload, server error, timeout) may succeed on another try
    or another deployment. `authentication` is the gateway's credential for one deployment:
    not worth retrying there, but another deployment may hold a good one.
    `context_window_exceeded` and `content_policy` are about the request itself on this model:
    retrying the same model is pointless, but a fallback alias (a larger context, another
    provider's policy) may serve it.
    """

    RATE_LIMITED = "rate_limited"
    OVERLOADED = "overloaded"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    AUTHENTICATION = "authentication"
    INVALID_REQUEST = "invalid_request"
    NOT_FOUND = "not_found"
    CONTEXT_WINDOW_EXCEEDED = "context_window_exceeded"
    CONTENT_POLICY = "content_policy"
    UNSUPPORTED = "unsupported"


# The kind of an error built without one, from its client status.
_KIND_BY_STATUS: Final[Mapping[int, ErrorKind]] = {
    404: ErrorKind.NOT_FOUND,
    429: ErrorKind.RATE_LIMITED,
    503: ErrorKind.OVERLOADED,
    504: ErrorKind.TIMEOUT,
}


# Codes and message wording that name the two request faults a fallback alias may cure.
_CONTEXT_CODES: Final = frozenset({"context_length_exceeded", "string_above_max_length"})
_CONTEXT_WORDING: Final = re.compile(
    r"context[_ ]length|maximum context|context window|context limit|prompt is too long"
    r"|input is too long|too many (?:input )?tokens|input token count.*exceeds"
    r"|must have less than \d+ tokens",
    re.IGNORECASE,
)
_POLICY_CODES: Final = frozenset(
    {"content_policy_violation", "content_filter", "responsibleaipolicyviolation", "invalid_prompt"}
)
_POLICY_WORDING: Final = re.compile(
    r"content (?:management )?polic|content filter|usage polic|safety system|responsible ?ai",
    re.IGNORECASE,
)


def classify_request_error(code: str | None, message: str | None) -> ErrorKind | None:
    """`context_window_exceeded` or `content_policy` when a 4xx's code or message says so, else None."""
    lowered = (code or "").lower()
    if lowered in _CONTEXT_CODES or _CONTEXT_WORDING.search(message or ""):
        return ErrorKind.CONTEXT_WINDOW_EXCEEDED
    if lowered in _POLICY_CODES or _POLICY_WORDING.search(message or ""):
        return ErrorKind.CONTENT_POLICY
    return None


def kind_for_status(status: int) -> ErrorKind:
    """The default `ErrorKind` of an HTTP status (4xx invalid request, 5xx server error)."""
    kind = _KIND_BY_STATUS.get(status)
    if kind is not None:
        return kind
    return ErrorKind.INVALID_REQUEST if 400 <= status < 500 else ErrorKind.SERVER_ERROR


class ProviderError(Exception):
    """An upstream failure, already translated into what the gateway returns to the client.

    `status` is the HTTP status for the client; `message`/`type`/`code`/`param` are the
    fields of OpenAI's error JSON; `retryable` tells routing the same request may succeed
    if tried again (here after `retry_after_s`, the upstream's back-off hint, or on another
    deployment); `kind` says why it failed (`ErrorKind`), which is what decides a failover
    to another deployment or a fallback to another model alias.
    """

    def __init__(
        self,
        status: int,
        message: str,
        type: str,  # the OpenAI error field is called "type"
        code: str | None = None,
        param: str | None = None,
        *,
        retryable: bool = False,
        retry_after_s: float | None = None,
        kind: ErrorKind | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        # Without an explicit kind: a 4xx whose code or message names a context-window or
        # content-policy refusal is that (routing falls back to another alias), else by status.
        request_fault = classify_request_error(code, message) if 400 <= status < 500 else None
        self.kind = kind or request_fault or kind_for_status(status)

    def to_body(self) -> bytes:
        """Render as OpenAI's error JSON: `{"error": {"message", "type", "param", "code"}}`."""
        return orjson.dumps(
            {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}
        )

    def __repr__(self) -> str:
        return (
            f"ProviderError(status={self.status}, type={self.type!r}, code={self.code!r}, "
            f"kind={self.kind.value}, retryable={self.retryable}, message={self.message!r})"
        )


class DoneMarker(enum.Enum):
    """The `data: [DONE]` sentinel that ends an OpenAI stream."""

    DONE = "[DONE]"


DONE: Final = DoneMarker.DONE


@dataclass(slots=True)  # not frozen: built per streamed event, and frozen __init__ is slow
class StreamEvent:
    """One complete server-sent event.

    `raw` is the exact bytes to forward (including the blank line that ends the event);
    `data` is the parsed JSON object, `DONE`, or None for comment-only or non-JSON events.
    """

    raw: bytes
    event: str | None
    data: dict[str, object] | DoneMarker | None
    usage: Usage | None = None
    error: ProviderError | None = None

    @property
    def is_done(self) -> bool:
        """True for the `[DONE]` sentinel."""
        return self.data is DONE

    @property
    def is_usage_only(self) -> bool:
        """True for OpenAI's trailing `choices: []` usage chunk (dropped if the client did not ask)."""
        return self.usage is not None and isinstance(self.data, dict) and self.data.get("choices") == []


class StreamParser(Protocol):
    """Splits one upstream stream into events; create one per request."""

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Consume `chunk` (split anywhere) and return the events it completed, in order."""
        ...

    @property
    def usage(self) -> Usage | None:
        """The last usage seen in the stream so far."""
        ...

    @property
    def saw_done(self) -> bool:
        """Whether the stream's end marker has been seen (False means it was cut short)."""
        ...


@runtime_checkable
class ProviderAdapter(Protocol):
    """Translate between the gateway's OpenAI-shaped API and one provider's wire format."""

    @property
    def provider_type(self) -> str:
        """The registry key, e.g. `openai`."""
        ...

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What this adapter can serve."""
        ...

    def build_request(
        self, endpoint: Endpoint, body: Mapping[str, object], target: DeploymentTarget
    ) -> UpstreamRequest:
        """Build the upstream request from the client's parsed body (model already swapped)."""
        ...

    def parse_response(
        self,
        endpoint: Endpoint,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        model_alias: str | None = None,
    ) -> ParsedResponse:
        """Parse a successful response; rewrite `model` to `model_alias` only when given."""
        ...

    def new_stream_parser(self, endpoint: Endpoint, *, model_alias: str | None = None) -> StreamParser:
        """Return a fresh incremental parser for one streamed response."""
        ...

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        """Translate an upstream error response into the gateway's `ProviderError`."""
        ...

    def probe_request(self, target: DeploymentTarget) -> UpstreamRequest:
        """The cheapest request that proves the deployment is reachable and authorised."""
        ...


class UnsupportedRequestError(ProviderError):
    """The client's request uses a feature this provider cannot express (a 400 for the client).

    Raised by `build_request`; routing should not fail over on it, since the request
    itself, not the deployment, is the problem.
    """

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(
            400,
            message,
            "invalid_request_error",
            code="unsupported_parameter",
            param=param,
            kind=ErrorKind.UNSUPPORTED,
        )


class ProviderConfigError(ValueError):
    """A provider configuration cannot produce a request (e.g. the credential is missing)."""
