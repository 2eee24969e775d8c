"""Bad input and bad credentials: 400/401/409/422 in control's JSON error shape, never a 500."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt


def _assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["message"]
    assert error["request_id"]
    if code is not None:
        assert error["code"] == code, error
    return error


async def test_authentication_is_required_and_checked(control: Any) -> None:
    async with control.client() as client:
        missing = await client.get("/api/v1/tenants")
        _assert_error(missing, 401, "unauthorized")
        assert missing.headers["www-authenticate"].startswith("Bearer")
        _assert_error(await client.get("/api/v1/models", headers={"Authorization": "Basic abc"}), 401)
        _assert_error(await client.get("/api/v1/models", headers={"Authorization": "Bearer junk"}), 401)
        wrong = await client.post(
            "/api/v1/auth/login", json={"email": control.admin_email, "password": "wrong-password!"}
        )
        _assert_error(wrong, 401, "unauthorized")
        unknown = await client.post(
            "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever-password"}
        )
        assert unknown.json()["error"]["message"] == wrong.json()["error"]["message"]
        assert (await client.get("/healthz")).status_code == 200

    token = await control.login()
    claims = jwt.decode(token, options={"verify_signature": False})
    header = (
        base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    )
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = {
        "alg none": f"{header}.{body}.",
        "other secret": jwt.encode(claims, "x" * 64, algorithm="HS256"),
        "wrong audience": jwt.encode(
            {**claims, "aud": "other"}, control.env["JWT_SECRET"], algorithm="HS256"
        ),
        "wrong issuer": jwt.encode({**claims, "iss": "other"}, control.env["JWT_SECRET"], algorithm="HS256"),
        "expired": jwt.encode(
            {
                **claims,
                "iat": int(time.time()) - 7200,
                "nbf": int(time.time()) - 7200,
                "exp": int(time.time()) - 3600,
            },
            control.env["JWT_SECRET"],
            algorithm="HS256",
        ),
        "unknown user": jwt.encode(
            {**claims, "sub": str(uuid.uuid4())}, control.env["JWT_SECRET"], algorithm="HS256"
        ),
    }
    for why, bad in forged.items():
        async with control.client(bad) as client:
            response = await client.get("/api/v1/tenants")
        assert response.status_code == 401, why
    async with control.client(jwt.encode(claims, control.env["JWT_SECRET"], algorithm="HS256")) as client:
        assert (await client.get("/api/v1/tenants")).status_code == 200


async def test_bad_bodies_are_rejected(control: Any) -> None:
    async with control.client(await control.login()) as client:
        for body in (
            {},
            {"name": ""},
            {"name": " padded "},
            {"name": "x" * 201},
            {"name": "ok", "extra": 1},
            [],
        ):
            _assert_error(await client.post("/api/v1/tenants", json=body), 400, "bad_request")
        malformed = await client.post(
            "/api/v1/tenants", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        _assert_error(malformed, 400)
        tenant = (await client.post("/api/v1/tenants", json={"name": "dup"})).json()
        _assert_error(await client.post("/api/v1/tenants", json={"name": "dup"}), 409, "conflict")
        _assert_error(
            await client.patch(f"/api/v1/tenants/{tenant['id']}", json={"status": "deleted"}),
            400,
            "bad_request",
        )
        _assert_error(await client.get("/api/v1/tenants", params={"limit": 0}), 400)
        _assert_error(await client.get("/api/v1/tenants", params={"limit": 10_000}), 400)
        _assert_error(await client.get("/api/v1/tenants/not-a-uuid"), 404)

        _assert_error(
            await client.post(
                f"/api/v1/tenants/{tenant['id']}/keys",
                json={"name": "k", "expires_at": "2001-01-01T00:00:00Z"},
            ),
            422,
            "invalid_input",
        )
        _assert_error(
            await client.post(
                f"/api/v1/tenants/{tenant['id']}/keys",
                json={"name": "k", "expires_at": "2999-01-01T00:00:00"},
            ),
            400,
        )
        _assert_error(
            await client.post(
                f"/api/v1/tenants/{tenant['id']}/keys", json={"name": "k", "allowed_models": ["nope"]}
            ),
            422,
        )

        price = {"input_micro_usd_per_mtok": 1, "output_micro_usd_per_mtok": 1}
        for bad_model in (
            {"name": "m", "pricing": {"input_micro_usd_per_mtok": -1, "output_micro_usd_per_mtok": 1}},
            {"name": "m", "pricing": {"input_micro_usd_per_mtok": 1.5, "output_micro_usd_per_mtok": 1}},
            {"name": "m"},
            {"name": "has space", "pricing": price},
            {"name": "m", "pricing": price, "context_window": 0},
        ):
            _assert_error(await client.post("/api/v1/models", json=bad_model), 400)

        for bad_provider in (
            {"name": "p", "type": "Bad Type"},
            {"name": "p", "type": "openai", "base_url": "ftp://x"},
            {"name": "p", "type": "openai", "credentials": {}},
            {"name": "p", "type": "openai", "credentials": {"api_key": 5}},
        ):
            _assert_error(await client.post("/api/v1/providers", json=bad_provider), 400)

        assert (await client.post("/api/v1/models", json={"name": "m1", "pricing": price})).status_code == 201
        provider = (await client.post("/api/v1/providers", json={"name": "p1", "type": "openai"})).json()
        deployment = {"provider_id": provider["id"], "upstream_model": "gpt"}
        _assert_error(
            await client.post("/api/v1/routes", json={"model": "nope", "deployments": [deployment]}), 422
        )
        _assert_error(
            await client.post(
                "/api/v1/routes",
                json={"model": "m1", "deployments": [{**deployment, "provider_id": str(uuid.uuid4())}]},
            ),
            422,
        )
        _assert_error(await client.post("/api/v1/routes", json={"model": "m1", "deployments": []}), 400)
        _assert_error(
            await client.post(
                "/api/v1/routes", json={"model": "m1", "deployments": [deployment], "strategy": "random"}
            ),
            400,
        )
        _assert_error(
            await client.post(
                "/api/v1/routes", json={"model": "m1", "deployments": [deployment, deployment]}
            ),
            409,
        )
        assert (
            await client.post("/api/v1/routes", json={"model": "m1", "deployments": [deployment]})
        ).status_code == 201
        _assert_error(
            await client.post("/api/v1/routes", json={"model": "m1", "deployments": [deployment]}), 409
        )
        # A failed route creation leaves no deployment behind (one transaction).
        routes = (await client.get("/api/v1/routes")).json()["items"]
        assert [len(r["deployments"]) for r in routes] == [1]
