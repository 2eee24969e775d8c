"""Error texts stored in KV are scrubbed of credentials and kept short (gateway_health.prober)."""

from __future__ import annotations

import httpx
import pytest
from gateway_health.prober import MAX_ERROR_CHARS, Prober, scrub
from gateway_health.targets import ProbeTarget
from gateway_providers.base import DeploymentTarget, ProviderConfig
from gateway_providers.registry import get_adapter


def test_scrub_replaces_every_secret() -> None:
    text = "bad key sk-abc and again sk-abc; org org-9"
    assert scrub(text, ("sk-abc", "org-9")) == "bad key *** and again ***; org ***"


def test_scrub_cuts_long_texts() -> None:
    scrubbed = scrub("x" * 1000, ())
    assert len(scrubbed) == MAX_ERROR_CHARS
    assert scrubbed.endswith("…")
    assert scrub("short", ()) == "short"


@pytest.mark.parametrize(
    ("base_url", "settings", "expected"),
    [
        ("http://[::1/v1", {}, "config: InvalidURL"),
        ("https://upstream.example/v1", {"header.x-note": "é"}, "config: UnicodeEncodeError"),
        ("ftp://upstream.example/v1", {}, "transport: UnsupportedProtocol"),
    ],
)
async def test_unsendable_requests_are_failed_results_not_crashes(
    base_url: str, settings: dict[str, str], expected: str
) -> None:
    target = ProbeTarget(
        deployment_id="d1",
        provider_id="p1",
        provider_type="openai",
        target=DeploymentTarget(
            "gpt-4o-mini", ProviderConfig("openai", base_url, {"api_key": "sk-secret-9"}, settings)
        ),
        adapter=get_adapter("openai"),
    )
    async with httpx.AsyncClient() as client:
        result = await Prober(client, timeout_s=1).probe(target)
    assert not result.ok
    assert result.status_code == 0
    assert result.error.startswith(expected)
    assert "sk-secret-9" not in result.error
