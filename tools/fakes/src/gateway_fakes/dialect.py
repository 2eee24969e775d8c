"""What differs between providers' fakes around the handlers: admission and error bodies.

Every fake shares recording, header-driven faults and streaming (`openai/call.py`);
a `Dialect` supplies the provider-specific parts: how a request is admitted (auth
headers, required version headers or query parameters) and how an error looks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response


@dataclass(frozen=True, slots=True)
class Dialect:
    """Provider-specific admission and error rendering.

    `admit(request, api_key)` returns an error response to send instead of handling the
    request (wrong credential, missing version), or None to go on;
    `fault_error(status, retry_after)` renders the error for an `x-fake-status` fault;
    `bad_json()` renders the answer to a body that is not a JSON object.
    """

    admit: Callable[[Request, str], Response | None]
    fault_error: Callable[[int, str], Response]
    bad_json: Callable[[], Response]
