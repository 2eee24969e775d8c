"""The HTTP client to providers and the one place transport failures become gateway errors.

One `httpx.AsyncClient` per process over aiohttp's pool, HTTP/1.1 with keep-alive (HTTP/2 multiplexing buys
nothing against providers that answer one request per stream and costs CPU). Requests are
built only from the adapter's `UpstreamRequest`: the client's own headers (Authorization,
api-key, x-api-key, cookies, x-request-id, anything gateway-internal) are never copied, so
they cannot leak upstream. Redirects are not followed; environment proxies are not used.
"""

from __future__ import annotations

from http.cookiejar import DefaultCookiePolicy

import httpx
from gateway_common.telemetry import active_tracer
from gateway_providers import UpstreamRequest

from gateway_proxy.aiohttp_transport import GatewayAiohttpTransport
from gateway_proxy.errors import GatewayError, UpstreamFailed, UpstreamTimeout
from gateway_proxy.settings import ProxySettings
from gateway_proxy.upstream_tracing import UPSTREAM_LABELS, TracingTransport, UpstreamLabels

USER_AGENT = "open-model-gateway/0.1"


def create_upstream_client(settings: ProxySettings) -> httpx.AsyncClient:
    """The pooled client the lifespan owns; per-request timeouts override the defaults here."""
    limits = httpx.Limits(
        max_connections=settings.upstream_max_connections,
        max_keepalive_connections=settings.upstream_max_keepalive,
        keepalive_expiry=settings.upstream_keepalive_expiry_s,
    )
    # aiohttp's pool instead of httpcore's (aiohttp_transport.py says why). aiohttp caps
    # connections and idle time; it has no separate cap on idle keep-alive connections.
    transport: httpx.AsyncBaseTransport = GatewayAiohttpTransport(limits=limits, trust_env=False)
    tracer = active_tracer(__name__)
    if tracer is not None:
        transport = TracingTransport(transport, tracer)
    client = httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(settings.timeout_upstream_s, connect=settings.timeout_connect_s),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
    )
    # One client serves every tenant: a cookie a provider sets must never reach another request.
    client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return client


def build_httpx_request(
    client: httpx.AsyncClient,
    upstream: UpstreamRequest,
    *,
    connect_s: float,
    read_s: float,
    stream: bool,
    provider: str = "",
    model: str = "",
) -> httpx.Request:
    """An httpx request carrying exactly the adapter's headers and body, with its timeouts.

    `read_s` bounds the wait for each read: the whole answer for a sync call, the gap between
    two events (idle timeout) for a stream. Streams ask for an uncompressed body so no
    decompressor holds back events. `provider` (type) and `model` (upstream model), when given,
    label the provider call's trace span (upstream_tracing.py).
    """
    headers = httpx.Headers(upstream.headers)
    if stream:
        headers["accept-encoding"] = "identity"
        headers.setdefault("accept", "text/event-stream")
    return client.build_request(
        upstream.method,
        upstream.url,
        headers=headers,
        content=upstream.body,
        timeout=httpx.Timeout(read_s, connect=connect_s, pool=connect_s),
        extensions={UPSTREAM_LABELS: UpstreamLabels(provider, model)} if provider else None,
    )


def transport_error(exc: Exception, provider: str) -> GatewayError:
    """Translate an httpx failure or a missed deadline into the client's error (504 timeout, else 502)."""
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return UpstreamTimeout(f"The upstream provider `{provider}` did not answer in time.")
    return UpstreamFailed(
        f"The upstream provider `{provider}` could not be reached.", code="upstream_unreachable"
    )
