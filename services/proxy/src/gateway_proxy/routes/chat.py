"""POST /v1/chat/completions: authenticate, validate, resolve the model, forward (sync or SSE)."""

from __future__ import annotations

from gateway_providers import Endpoint

from gateway_proxy.routes.endpoints import json_endpoint

chat_completions = json_endpoint(Endpoint.CHAT_COMPLETIONS)
