"""No service ever logs a prompt, a virtual key or a provider credential.

Requests carry a canary in the prompt, in a provider credential and in a wrong key and a wrong
admin password; successes, streams and failures (401, 404, unreachable upstream) are all sent.
Then every service's log (at DEBUG, the most verbose level) is scanned for the canary and for
the full virtual key. Prompt logging is off by default, so nothing of it may appear.
"""

from __future__ import annotations

import time

import httpx
import openai
import pytest
from gateway_devstack.seed import DemoSeed
from gateway_devstack.system import SERVICES, GatewaySystem

from .conftest import CANARY

pytestmark = pytest.mark.e2e


def _send_canaries(client: openai.OpenAI, system: GatewaySystem, demo: DemoSeed, dead_model: str) -> str:
    """Every kind of request, each carrying the canary; returns the failed upstream call's request id."""
    prompt = [{"role": "user", "content": f"the secret word is {CANARY}"}]
    assert client.chat.completions.create(model=demo.model, messages=prompt).choices
    with client.chat.completions.with_streaming_response.create(
        model=demo.model, messages=prompt, stream=True
    ) as stream:
        assert "".join(stream.iter_lines())
    client.embeddings.create(model=demo.model, input=f"embed {CANARY}")

    wrong_key = openai.OpenAI(base_url=system.proxy_url, api_key=f"sk-gw-{CANARY}", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong_key.chat.completions.create(model=demo.model, messages=prompt)
    wrong_key.close()
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model=f"model-{CANARY}", messages=prompt)

    with pytest.raises(openai.APIStatusError) as unreachable:
        client.chat.completions.create(model=dead_model, messages=prompt)
    assert unreachable.value.status_code in (502, 503, 504)

    login = httpx.post(
        f"{system.control_url}/api/v1/auth/login",
        json={"email": system.secrets.admin_email, "password": f"pw-{CANARY}"},
        timeout=10.0,
    )
    assert login.status_code == 401
    return str(unreachable.value.response.headers["x-request-id"])


def test_no_service_logs_a_prompt_key_or_credential(
    client: openai.OpenAI, traced_system: GatewaySystem, demo: DemoSeed, dead_model: str
) -> None:
    failed_request_id = _send_canaries(client, traced_system, demo, dead_model)
    # Let accounting consume the usage events, so its side of the requests is in its log too.
    time.sleep(2.0)
    logs = {name: (traced_system.root / "logs" / f"{name}.log").read_text() for name in SERVICES}

    # The scan reads the right files: every service logged, the proxy logged the failed call.
    assert all(logs.values()), [name for name, text in logs.items() if not text]
    assert failed_request_id in logs["proxy"]
    secrets = {
        "canary": CANARY,
        "virtual key": demo.api_key,
        "virtual key body": demo.api_key.removeprefix("sk-gw-"),
        "provider credential": traced_system.secrets.upstream_api_key,
    }
    leaks = [
        f"{service}: {what} in {line[:300]}"
        for service, text in logs.items()
        for line in text.splitlines()
        for what, secret in secrets.items()
        if secret in line
    ]
    assert not leaks, "\n".join(leaks)
