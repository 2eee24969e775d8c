"""Seeding a dev system through control's API: admin login, a tenant, the fake upstream as a
provider, a model `demo` with pricing, its route, and one API key.

Idempotent: what exists is found by name and reused; the API key (shown only once by control) is
kept in ROOT/seed.json so a second `make dev` prints the same key.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

log = logging.getLogger(__name__)

DEMO_MODEL = "demo"
DEMO_TENANT = "dev"
DEMO_PROVIDER = "fake-openai"


@dataclass(frozen=True)
class DemoSeed:
    """What a developer needs to call the gateway."""

    tenant_id: str
    key_id: str
    api_key: str
    model: str


class ControlClient:
    """A thin authenticated client of control's admin API."""

    def __init__(self, base_url: str, email: str, password: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=10.0, trust_env=False)
        response = self._http.post("/api/v1/auth/login", json={"email": email, "password": password})
        response.raise_for_status()
        self._http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def get(self, path: str, **params: Any) -> Any:
        """GET a JSON resource; raises on an error status."""
        response = self._http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST JSON and return the decoded answer; raises on an error status."""
        return self._send("POST", path, body)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        """PATCH JSON and return the decoded answer; raises on an error status."""
        return self._send("PATCH", path, body)

    def _send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        response = self._http.request(method, path, json=body)
        if response.is_error:
            raise httpx.HTTPStatusError(
                f"{response.status_code} from {method} {path}: {response.text}",
                request=response.request,
                response=response,
            )
        return response.json()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()


def _items(payload: Any) -> list[dict[str, Any]]:
    items: object = payload.get("items", payload.get("data")) if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, dict)]


def _find(items: list[dict[str, Any]], field: str, value: str) -> dict[str, Any] | None:
    return next((item for item in items if item.get(field) == value), None)


def seed_demo(client: ControlClient, upstream_url: str, upstream_api_key: str, state_path: Path) -> DemoSeed:
    """Create (or find) everything `make dev` promises and return the demo key."""
    tenant = _find(_items(client.get("/api/v1/tenants", limit=500)), "name", DEMO_TENANT)
    if tenant is None:
        tenant = client.post("/api/v1/tenants", {"name": DEMO_TENANT})
    provider = _find(_items(client.get("/api/v1/providers")), "name", DEMO_PROVIDER)
    if provider is not None and provider.get("base_url") != upstream_url:
        log.warning(
            "provider %s points at %s, not at this run's fake upstream %s; control has no provider "
            "update yet, so remove %s to re-seed",
            DEMO_PROVIDER,
            provider.get("base_url"),
            upstream_url,
            state_path.parent,
        )
    if provider is None:
        provider = client.post(
            "/api/v1/providers",
            {
                "name": DEMO_PROVIDER,
                "type": "openai_compatible",
                "base_url": upstream_url,
                "credentials": {"api_key": upstream_api_key},
            },
        )
    if _find(_items(client.get("/api/v1/models")), "name", DEMO_MODEL) is None:
        client.post(
            "/api/v1/models",
            {
                "name": DEMO_MODEL,
                "owned_by": "open-model-gateway",
                "context_window": 8192,
                "pricing": {"input_micro_usd_per_mtok": 500_000, "output_micro_usd_per_mtok": 1_500_000},
            },
        )
    if _find(_items(client.get("/api/v1/routes")), "model", DEMO_MODEL) is None:
        client.post(
            "/api/v1/routes",
            {
                "model": DEMO_MODEL,
                "deployments": [{"provider_id": provider["id"], "upstream_model": "gpt-4o-mini"}],
            },
        )
    return _demo_key(client, str(tenant["id"]), state_path)


def _demo_key(client: ControlClient, tenant_id: str, state_path: Path) -> DemoSeed:
    if state_path.is_file():
        saved = DemoSeed(**json.loads(state_path.read_text()))
        live = _find(_items(client.get(f"/api/v1/tenants/{tenant_id}/keys")), "id", saved.key_id)
        if saved.tenant_id == tenant_id and live is not None and not live.get("revoked_at"):
            return saved
    created = client.post(f"/api/v1/tenants/{tenant_id}/keys", {"name": "dev key"})
    seed = DemoSeed(tenant_id=tenant_id, key_id=str(created["id"]), api_key=created["key"], model=DEMO_MODEL)
    state_path.write_text(json.dumps(asdict(seed), indent=2))
    state_path.chmod(0o600)
    return seed
