"""Traces across services, received by a real OTLP/HTTP receiver on loopback.

One chat request must give one trace: the proxy's SERVER span, its upstream CLIENT span (with
the provider's model, never the prompt or a key), the usage publish (PRODUCER), and
accounting's consume (CONSUMER, continued from the NATS message headers), with the batch store
linked to it. A control call to accounting over gRPC is one trace across both services.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import openai
import pytest
from gateway_devstack.otlp_receiver import OtlpReceiver, ReceivedSpan
from gateway_devstack.seed import ControlClient, DemoSeed
from gateway_devstack.system import GatewaySystem

from .conftest import CANARY

pytestmark = pytest.mark.e2e

PUBLISH = "gateway.usage.v1 publish"
PROCESS = "gateway.usage.v1 process"


def wait_for_spans(
    otlp: OtlpReceiver, wanted: Callable[[list[ReceivedSpan]], bool], timeout: float = 20.0
) -> list[ReceivedSpan]:
    """Poll the receiver until `wanted(spans)` holds (exports are batched every 100 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        spans = otlp.spans()
        if wanted(spans):
            return spans
        time.sleep(0.1)
    names = sorted({(s.service, s.name) for s in otlp.spans()})
    raise AssertionError(f"spans not received within {timeout} s; received: {names}")


def in_trace(spans: list[ReceivedSpan], trace_id: str) -> list[ReceivedSpan]:
    return [s for s in spans if s.trace_id == trace_id]


def one(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    matching = [s for s in spans if s.name == name]
    assert len(matching) == 1, f"expected one {name!r} span, got {[s.name for s in spans]}"
    return matching[0]


def server_span_of(spans: list[ReceivedSpan], request_id: str) -> ReceivedSpan | None:
    return next((s for s in spans if s.attributes.get("gateway.request_id") == request_id), None)


def test_a_chat_request_is_one_trace_through_proxy_nats_and_accounting(
    client: openai.OpenAI, otlp: OtlpReceiver, demo: DemoSeed
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=demo.model, messages=[{"role": "user", "content": f"trace me {CANARY}"}]
    )
    request_id = raw.headers["x-request-id"]

    def complete(spans: list[ReceivedSpan]) -> bool:
        server = server_span_of(spans, request_id)
        # Each service exports on its own schedule: wait for the proxy's publish span as well.
        return server is not None and {PUBLISH, PROCESS, "usage batch store"} <= {
            s.name for s in spans if s.trace_id == server.trace_id or server.trace_id in s.link_trace_ids
        }

    spans = wait_for_spans(otlp, complete)
    server = server_span_of(spans, request_id)
    assert server is not None
    trace = in_trace(spans, server.trace_id)

    assert (server.service, server.kind, server.name) == (
        "proxy",
        "SPAN_KIND_SERVER",
        "POST /v1/chat/completions",
    )
    assert server.parent_span_id == ""
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["gateway.model"] == demo.model

    upstream = one(trace, "upstream POST")
    assert (upstream.kind, upstream.parent_span_id) == ("SPAN_KIND_CLIENT", server.span_id)
    assert upstream.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert upstream.attributes["server.address"] == "127.0.0.1"
    assert upstream.attributes["http.response.status_code"] == 200

    publish = one(trace, PUBLISH)
    assert (publish.service, publish.kind) == ("proxy", "SPAN_KIND_PRODUCER")
    assert publish.parent_span_id == server.span_id
    assert publish.attributes["messaging.message.id"] == request_id

    consume = one(trace, PROCESS)
    assert (consume.service, consume.kind) == ("accounting", "SPAN_KIND_CONSUMER")
    assert consume.parent_span_id == publish.span_id

    store = next(s for s in spans if s.name == "usage batch store" and server.trace_id in s.link_trace_ids)
    assert store.service == "accounting"
    assert store.attributes["db.system.name"] == "postgresql"


def test_a_stream_span_lasts_to_its_end_and_marks_the_first_byte(
    client: openai.OpenAI, otlp: OtlpReceiver, demo: DemoSeed
) -> None:
    with client.chat.completions.with_streaming_response.create(
        model=demo.model, messages=[{"role": "user", "content": "stream"}], stream=True
    ) as response:
        request_id = response.headers["x-request-id"]
        assert "".join(response.iter_lines())

    def upstream_done(spans: list[ReceivedSpan]) -> bool:
        server = server_span_of(spans, request_id)
        return server is not None and any(s.name == "upstream POST" for s in in_trace(spans, server.trace_id))

    spans = wait_for_spans(otlp, upstream_done)
    server = server_span_of(spans, request_id)
    assert server is not None
    upstream = one(in_trace(spans, server.trace_id), "upstream POST")
    assert "first_byte" in upstream.events


def test_the_proxy_continues_a_client_traceparent(
    client: openai.OpenAI, otlp: OtlpReceiver, demo: DemoSeed
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    parent = "00f067aa0ba902b7"
    raw = client.chat.completions.with_raw_response.create(
        model=demo.model,
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"traceparent": f"00-{trace_id}-{parent}-01"},
    )
    request_id = raw.headers["x-request-id"]
    spans = wait_for_spans(otlp, lambda spans: server_span_of(spans, request_id) is not None)
    server = server_span_of(spans, request_id)
    assert server is not None
    assert (server.trace_id, server.parent_span_id) == (trace_id, parent)


def test_a_failed_upstream_call_is_an_error_span(
    traced_admin: ControlClient, traced_system: GatewaySystem, otlp: OtlpReceiver, demo: DemoSeed
) -> None:
    """Unknown model: the proxy answers 404 itself; the span records the status, no upstream call."""
    sdk = openai.OpenAI(base_url=traced_system.proxy_url, api_key=demo.api_key, max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    sdk.close()
    request_id = caught.value.response.headers["x-request-id"]
    spans = wait_for_spans(otlp, lambda spans: server_span_of(spans, request_id) is not None)
    server = server_span_of(spans, request_id)
    assert server is not None
    assert server.attributes["http.response.status_code"] == 404
    assert not [s for s in in_trace(spans, server.trace_id) if s.name == "upstream POST"]


@pytest.mark.parametrize(
    ("path", "service"),
    [("/api/v1/usage/summary", "accounting"), ("/api/v1/health/deployments", "gateway-health")],
)
def test_a_control_call_over_grpc_is_one_trace(
    traced_admin: ControlClient, otlp: OtlpReceiver, demo: DemoSeed, path: str, service: str
) -> None:
    """Control's API span, its gRPC client span, and the callee's gRPC server span: one trace.
    (`demo` gives health a deployment to be asked about.)"""
    traced_admin.get(path)

    def control_span(spans: list[ReceivedSpan]) -> ReceivedSpan | None:
        return next(
            (
                s
                for s in spans
                if s.service == "control" and s.name == f"GET {path}" and s.kind == "SPAN_KIND_SERVER"
            ),
            None,
        )

    def complete(spans: list[ReceivedSpan]) -> bool:
        http_server = control_span(spans)
        return http_server is not None and any(
            s.service == service and s.kind == "SPAN_KIND_SERVER"
            for s in in_trace(spans, http_server.trace_id)
        )

    spans = wait_for_spans(otlp, complete)
    http_server = control_span(spans)
    assert http_server is not None
    trace = in_trace(spans, http_server.trace_id)
    grpc_server = next(s for s in trace if s.service == service and s.kind == "SPAN_KIND_SERVER")
    assert grpc_server.attributes.get("rpc.system") == "grpc"
    grpc_client = next(s for s in trace if s.span_id == grpc_server.parent_span_id)
    assert (grpc_client.service, grpc_client.kind) == ("control", "SPAN_KIND_CLIENT")
    assert grpc_client.parent_span_id == http_server.span_id


def test_no_span_carries_a_secret_or_the_prompt(
    client: openai.OpenAI, otlp: OtlpReceiver, demo: DemoSeed, traced_system: GatewaySystem
) -> None:
    client.chat.completions.create(
        model=demo.model, messages=[{"role": "user", "content": f"leak? {CANARY}"}]
    )
    spans = wait_for_spans(otlp, lambda spans: any(s.name == PROCESS for s in spans))
    secrets = (CANARY, demo.api_key, traced_system.secrets.upstream_api_key)
    leaks = [s for s in spans for secret in secrets if secret in s.text()]
    assert not leaks


def test_log_lines_carry_the_trace_id_of_their_request(
    client: openai.OpenAI, otlp: OtlpReceiver, traced_system: GatewaySystem, dead_model: str
) -> None:
    """The proxy logs a failed upstream attempt: that line names the request's trace."""
    with pytest.raises(openai.APIStatusError) as failed:
        client.chat.completions.create(model=dead_model, messages=[{"role": "user", "content": "x"}])
    request_id = failed.value.response.headers["x-request-id"]
    spans = wait_for_spans(otlp, lambda spans: server_span_of(spans, request_id) is not None)
    server = server_span_of(spans, request_id)
    assert server is not None
    lines = [
        json.loads(line)
        for line in (traced_system.root / "logs" / "proxy.log").read_text().splitlines()
        if line.startswith("{") and request_id in line
    ]
    assert lines
    assert {line.get("trace_id") for line in lines} == {server.trace_id}


def test_control_publishes_config_snapshots_in_a_span(otlp: OtlpReceiver, demo: DemoSeed) -> None:
    """Seeding the demo model changed the config: control published a snapshot to NATS KV."""
    spans = wait_for_spans(
        otlp, lambda spans: any(s.service == "control" and s.name == "gateway_config publish" for s in spans)
    )
    publish = next(s for s in spans if s.name == "gateway_config publish")
    assert publish.kind == "SPAN_KIND_PRODUCER"
    revision = publish.attributes["gateway.config_revision"]
    assert isinstance(revision, int)
    assert revision >= 1
