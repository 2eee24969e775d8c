"""Credential exchanges (STS AssumeRole, Google service account) and the resolver's cache."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gateway_providers import (
    DeploymentTarget,
    ErrorKind,
    ProviderConfig,
    ProviderConfigError,
    ProviderError,
    UpstreamRequest,
)
from gateway_providers.credentials import (
    AssumeRoleExchange,
    CredentialResolver,
    ServiceAccountExchange,
    TokenResponse,
    exchange_for,
)

ROLE = "arn:aws:iam::123456789012:role/gateway"
BASE = {"access_key_id": "AKIABASE", "secret_access_key": "base-secret"}
STS_OK = b"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/gateway/s</Arn>
<AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser><Credentials>
<AccessKeyId>ASIATEMP</AccessKeyId><SecretAccessKey>temp-secret</SecretAccessKey>
<SessionToken>temp-token</SessionToken><Expiration>2030-01-01T01:00:00Z</Expiration>
</Credentials></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
</AssumeRoleResponse>"""
EXPIRES = 1893459600.0  # 2030-01-01T01:00:00Z
STS_DENIED = b"""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>
<Code>AccessDenied</Code><Message>User arn:aws:iam::123456789012:user/x is not authorized</Message></Error>
<RequestId>r</RequestId></ErrorResponse>"""


def bedrock(**settings: str) -> ProviderConfig:
    return ProviderConfig(
        "bedrock", "https://bedrock", BASE, {"region": "eu-west-1", "role_arn": ROLE, **settings}
    )


def test_exchange_applies_only_when_configured() -> None:
    assert exchange_for(bedrock()) is not None
    assert exchange_for(ProviderConfig("bedrock", "u", BASE, {"region": "eu-west-1"})) is None
    assert exchange_for(ProviderConfig("openai", "u", {"api_key": "k"}, {"role_arn": ROLE})) is None
    assert exchange_for(ProviderConfig("vertex_gemini", "u", {"access_token": "t"})) is None
    assert exchange_for(ProviderConfig("vertex_gemini", "u", {"service_account_json": "{}"})) is not None


def test_assume_role_request_is_a_signed_query_call() -> None:
    request = AssumeRoleExchange().token_request(bedrock(external_id="ext-1", role_duration_s="900"), 0.0)
    assert (request.method, request.url) == ("POST", "https://sts.eu-west-1.amazonaws.com/")
    assert request.body is not None
    assert parse_qs(request.body.decode()) == {
        "Action": ["AssumeRole"],
        "Version": ["2011-06-15"],
        "RoleArn": [ROLE],
        "RoleSessionName": ["open-model-gateway"],
        "DurationSeconds": ["900"],
        "ExternalId": ["ext-1"],
    }
    authorization = request.header("Authorization") or ""
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIABASE/")
    assert "/eu-west-1/sts/aws4_request" in authorization


@pytest.mark.parametrize("duration", ["60", "50000", "soon"])
def test_bad_duration_is_a_config_error(duration: str) -> None:
    with pytest.raises(ProviderConfigError):
        AssumeRoleExchange().token_request(bedrock(role_duration_s=duration), 0.0)


def test_assume_role_response_is_parsed() -> None:
    issued = AssumeRoleExchange().parse_token_response(TokenResponse(200, {}, STS_OK), 0.0)
    assert dict(issued.values) == {
        "access_key_id": "ASIATEMP",
        "secret_access_key": "temp-secret",
        "session_token": "temp-token",
    }
    assert issued.expires_at == EXPIRES
    assert "temp-secret" not in repr(issued)


@pytest.mark.parametrize(
    ("status", "code", "kind", "retryable"),
    [
        (403, "AccessDenied", ErrorKind.AUTHENTICATION, False),
        (400, "ValidationError", ErrorKind.AUTHENTICATION, False),
        (400, "Throttling", ErrorKind.RATE_LIMITED, True),
        (500, "InternalFailure", ErrorKind.SERVER_ERROR, True),
    ],
)
def test_sts_errors(status: int, code: str, kind: ErrorKind, retryable: bool) -> None:
    body = STS_DENIED.replace(b"AccessDenied", code.encode())
    with pytest.raises(ProviderError) as raised:
        AssumeRoleExchange().parse_token_response(TokenResponse(status, {}, body), 0.0)
    assert (raised.value.kind, raised.value.retryable) == (kind, retryable)
    assert "123456789012" not in raised.value.message or kind is not ErrorKind.AUTHENTICATION


def service_account(token_uri: str = "https://oauth2.googleapis.com/token") -> tuple[str, rsa.RSAPublicKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "client_email": "sa@p.iam.gserviceaccount.com",
        "private_key": pem,
        "private_key_id": "kid1",
        "token_uri": token_uri,
    }
    return json.dumps(info), key.public_key()


def test_service_account_assertion_is_a_verifiable_rs256_jwt() -> None:
    key_json, public_key = service_account()
    provider = ProviderConfig(
        "vertex_gemini", "u", {"service_account_json": key_json}, {"token_url": "https://fake/token"}
    )
    request = ServiceAccountExchange().token_request(provider, 1_000_000.0)
    assert (request.method, request.url) == ("POST", "https://fake/token")
    assert request.body is not None
    form = parse_qs(request.body.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assertion = form["assertion"][0]
    claims = jwt.decode(
        assertion,
        public_key,
        algorithms=["RS256"],
        audience="https://fake/token",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {
        "iss": "sa@p.iam.gserviceaccount.com",
        "scope": "https://www.googleapis.com/auth/cloud-platform",
        "aud": "https://fake/token",
        "iat": 1_000_000,
        "exp": 1_003_600,
    }
    assert jwt.get_unverified_header(assertion)["kid"] == "kid1"


@pytest.mark.parametrize("raw", ["not json", "{}", '{"client_email": "a", "private_key": "not a pem"}'])
def test_unusable_service_account_is_a_config_error(raw: str) -> None:
    with pytest.raises(ProviderConfigError):
        ServiceAccountExchange().token_request(
            ProviderConfig("vertex_gemini", "u", {"service_account_json": raw}), 0.0
        )


def test_token_response_and_oauth_error() -> None:
    exchange = ServiceAccountExchange()
    issued = exchange.parse_token_response(
        TokenResponse(200, {}, b'{"access_token": "ya29.x", "expires_in": 3599, "token_type": "Bearer"}'),
        100.0,
    )
    assert (dict(issued.values), issued.expires_at) == ({"access_token": "ya29.x"}, 3699.0)
    with pytest.raises(ProviderError) as raised:
        exchange.parse_token_response(
            TokenResponse(
                400, {}, b'{"error": "invalid_grant", "error_description": "Invalid JWT Signature."}'
            ),
            0.0,
        )
    assert (raised.value.status, raised.value.kind) == (502, ErrorKind.AUTHENTICATION)


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class TokenServer:
    """Answers token requests from a script of responses, counting calls."""

    def __init__(self, clock: FakeClock, lifetime_s: int = 3600) -> None:
        self.clock = clock
        self.lifetime_s = lifetime_s
        self.calls = 0
        self.fail_with: TokenResponse | None = None
        self.gate: asyncio.Event | None = None

    async def send(self, request: UpstreamRequest) -> TokenResponse:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            return self.fail_with
        body = {"access_token": f"token-{self.calls}", "expires_in": self.lifetime_s}
        return TokenResponse(200, {}, orjson.dumps(body))


def vertex_target() -> DeploymentTarget:
    key_json, _ = service_account()
    return DeploymentTarget(
        "gemini", ProviderConfig("vertex_gemini", "u", {"service_account_json": key_json}, {"project": "p"})
    )


async def test_token_is_cached_and_refreshed_before_it_expires() -> None:
    clock = FakeClock(10_000.0)
    server = TokenServer(clock)
    resolver = CredentialResolver(server.send, clock=clock)
    target = vertex_target()
    first = await resolver.resolve(target)
    assert first.provider.credentials["access_token"] == "token-1"
    assert (
        first.provider.credentials["service_account_json"]
        == target.provider.credentials["service_account_json"]
    )
    clock.now += 3600 - 226  # just outside the 225 s refresh margin: still cached
    assert (await resolver.resolve(target)).provider.credentials["access_token"] == "token-1"
    clock.now += 2  # inside the margin: refreshed before expiry
    assert (await resolver.resolve(target)).provider.credentials["access_token"] == "token-2"
    assert server.calls == 2


async def test_concurrent_requests_share_one_refresh() -> None:
    clock = FakeClock(0.0)
    server = TokenServer(clock)
    server.gate = asyncio.Event()
    resolver = CredentialResolver(server.send, clock=clock)
    target = vertex_target()
    pending = [asyncio.create_task(resolver.resolve(target)) for _ in range(5)]
    await asyncio.sleep(0)
    server.gate.set()
    results = await asyncio.gather(*pending)
    assert server.calls == 1
    assert {r.provider.credentials["access_token"] for r in results} == {"token-1"}


async def test_failed_refresh_keeps_valid_credentials_then_raises_once_expired() -> None:
    clock = FakeClock(0.0)
    server = TokenServer(clock)
    resolver = CredentialResolver(server.send, clock=clock)
    target = vertex_target()
    await resolver.resolve(target)
    server.fail_with = TokenResponse(503, {}, b'{"error": "backend_error"}')
    clock.now = 3500.0  # in the margin, not expired
    assert (await resolver.resolve(target)).provider.credentials["access_token"] == "token-1"
    clock.now = 3601.0  # expired
    with pytest.raises(ProviderError) as raised:
        await resolver.resolve(target)
    assert (raised.value.kind, raised.value.retryable) == (ErrorKind.OVERLOADED, True)


class Unreachable(Exception):
    """What an HTTP client raises when it cannot connect."""


async def test_unreachable_token_endpoint_falls_back_like_an_error_answer() -> None:
    clock = FakeClock(0.0)
    server = TokenServer(clock)
    unreachable = False

    async def send(request: UpstreamRequest) -> TokenResponse:
        if unreachable:
            raise Unreachable("connection refused")
        return await server.send(request)

    resolver = CredentialResolver(send, transport_errors=(Unreachable,), clock=clock)
    target = vertex_target()
    await resolver.resolve(target)
    unreachable = True
    clock.now = 3500.0
    assert (await resolver.resolve(target)).provider.credentials["access_token"] == "token-1"
    clock.now = 3601.0
    with pytest.raises(Unreachable):
        await resolver.resolve(target)


async def test_invalidate_forces_a_new_token_and_rotation_is_a_new_identity() -> None:
    clock = FakeClock(0.0)
    server = TokenServer(clock)
    resolver = CredentialResolver(server.send, clock=clock)
    target = vertex_target()
    await resolver.resolve(target)
    resolver.invalidate(target)
    assert (await resolver.resolve(target)).provider.credentials["access_token"] == "token-2"
    rotated = vertex_target()  # another key: not served from the first key's cache entry
    assert (await resolver.resolve(rotated)).provider.credentials["access_token"] == "token-3"


async def test_providers_without_an_exchange_pass_through_untouched() -> None:
    async def never(request: UpstreamRequest) -> TokenResponse:
        raise AssertionError("no exchange expected")

    target = DeploymentTarget("m", ProviderConfig("openai", "u", {"api_key": "k"}))
    assert await CredentialResolver(never).resolve(target) is target
