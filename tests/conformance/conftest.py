"""Conformance harness: every adapter, each behind its fake, served by one real proxy process.

The harness writes what control would write (as services/proxy/tests/integration does): a
ConfigSnapshot in NATS KV whose providers carry sealed credentials, and a KeyRecord in Redis.
Each adapter gets one provider per scenario; a scenario's upstream faults are `header.x-fake-*`
provider settings (the client's own headers never reach the upstream).

Adding a provider: one `AdapterCase` in `ADAPTERS` (and its fake in gateway_fakes); `serves`
says which columns apply (chat, embeddings and/or images), `mid_stream_error` whether its fake
can fail a stream after it started. Cases in `EXCHANGE_ADAPTERS` hold long-lived credentials
the proxy must exchange (STS AssumeRole, a Google service-account key); they get only the `ok`
scenario and their own test.

`--conformance-matrix PATH` rewrites the matrix between the markers in PATH (the docs page)
from this run's results: `pytest tests/conformance --conformance-matrix docs/providers/README.md`.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import nats
import openai
import pytest
import redis.asyncio as aioredis
from gateway_common.apikeys import display_parts, generate_key, key_digest
from gateway_common.names import CONFIG_BUCKET, CONFIG_KEY, SNAPSHOT_SCHEMA_VERSION, redis_key_record
from gateway_common.nats import ensure_bucket
from gateway_common.sealing import DataPlaneKeys
from gateway_devstack.base import Stack
from gateway_devstack.procs import ManagedProcess, free_port
from gateway_devstack.resets import flush_redis, purge_jetstream_async
from gateway_fakes import (
    DEFAULT_BEDROCK_ACCESS_KEY_ID,
    DEFAULT_BEDROCK_SESSION_TOKEN,
    DEFAULT_STS_ACCESS_KEY_ID,
    DEFAULT_STS_ROLE_ARN,
    DEFAULT_STS_SECRET,
    FakeProcess,
    run_fake,
)
from gateway_proto.v1.config_pb2 import ConfigSnapshot, Deployment, Model, Provider, Route, RoutingStrategy
from gateway_proto.v1.config_pb2 import Timeouts as TimeoutsProto
from gateway_proto.v1.keys_pb2 import KeyRecord, TenantStatus
from gateway_proto.v1.pricing_pb2 import ModelPricing

PRICING = ModelPricing(input_micro_usd_per_mtok=1_000_000, output_micro_usd_per_mtok=2_000_000, priced=True)
MATRIX_START = "<!-- conformance-matrix:start -->"
MATRIX_END = "<!-- conformance-matrix:end -->"


@dataclass(frozen=True)
class AdapterCase:
    """One adapter under test: its provider type, fake, credentials and upstream model."""

    name: str
    provider_type: str
    fake_kind: str
    upstream_model: str
    chat_path: str  # where the fake receives a chat request from this adapter
    credentials: Callable[[FakeProcess], dict[str, str]]
    wrong_credentials: dict[str, str]
    settings: dict[str, str] = field(default_factory=dict)
    # Extra x-fake headers of the `cached` scenario (Anthropic also reports cache writes).
    cache_headers: dict[str, str] = field(default_factory=lambda: {"x-fake-cached-tokens": "2"})
    # Where the upstream request names its model: the JSON body's `model`, or (Bedrock) the URL.
    model_in_path: bool = False
    # Which columns of the suite apply: `chat` (the chat tests), `embeddings` and/or `images`.
    # The error, timeout and wrong-auth tests call the first of them.
    serves: tuple[str, ...] = ("chat",)
    # Whether the fake can fail a stream after it started (`x-fake-stream-error: 1`).
    mid_stream_error: bool = False
    # Appended to the fake's base URL to give the provider's (e.g. the HF Inference API's router path).
    base_path: str = ""
    # Settings that need the running fake (e.g. the STS or OAuth token URL it serves).
    fake_settings: Callable[[FakeProcess], dict[str, str]] | None = None
    # Embeddings: the vector size the fake answers, whether the model takes several inputs per
    # call, extra request options, and whether the provider reports token usage.
    embedding_dims: int = 16
    embedding_batch: bool = True
    embedding_options: dict[str, object] = field(default_factory=dict)
    reports_usage: bool = True

    def upstream_model_of(self, record: Mapping[str, object]) -> object:
        """The model a recorded upstream request asked for."""
        if self.model_in_path:
            # Bedrock: /model/{id}/converse; Vertex: .../publishers/google/models/{id}:generateContent.
            path = str(record["path"])
            if "/model/" in path:
                return path.split("/model/", 1)[1].split("/")[0]
            return path.rsplit("/models/", 1)[1].rsplit(":", 1)[0]
        body = record["body"]
        return body.get("model") if isinstance(body, dict) else None


def _api_key(fake: FakeProcess) -> dict[str, str]:
    return {"api_key": fake.api_key}


def _aws_keys(fake: FakeProcess) -> dict[str, str]:
    return {
        "access_key_id": DEFAULT_BEDROCK_ACCESS_KEY_ID,
        "secret_access_key": fake.api_key,
        "session_token": DEFAULT_BEDROCK_SESSION_TOKEN,
    }


def _vertex_service_account(fake: FakeProcess) -> dict[str, str]:
    with urllib.request.urlopen(f"{fake.root_url}/_fake/service-account.json", timeout=10) as response:
        return {"service_account_json": json.dumps(json.loads(response.read()))}


BEDROCK_MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
TITAN_EMBED = "amazon.titan-embed-text-v2:0"
VERTEX_MODELS = "/v1/projects/conformance-project/locations/europe-west4/publishers/google/models/"
VERTEX_PATH = f"{VERTEX_MODELS}gemini-2.0-flash:generateContent"
HF_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
BEDROCK_WRONG = {
    "access_key_id": DEFAULT_BEDROCK_ACCESS_KEY_ID,
    "secret_access_key": "wrong-secret",
    "session_token": DEFAULT_BEDROCK_SESSION_TOKEN,
}
VERTEX_SETTINGS = {"project": "conformance-project", "location": "europe-west4"}


def _bedrock_invoke_case(name: str, model: str, **options: Any) -> AdapterCase:
    """A Bedrock model served through InvokeModel (embeddings, images), on the Bedrock fake."""
    return AdapterCase(
        name=name,
        provider_type="bedrock",
        fake_kind="bedrock",
        upstream_model=model,
        chat_path=f"/model/{model}/invoke",
        credentials=_aws_keys,
        wrong_credentials=BEDROCK_WRONG,
        settings={"region": "us-east-1"},
        model_in_path=True,
        **options,
    )


ADAPTERS: tuple[AdapterCase, ...] = (
    AdapterCase(
        name="openai",
        provider_type="openai",
        fake_kind="openai",
        upstream_model="gpt-4o-mini",
        chat_path="/v1/chat/completions",
        credentials=_api_key,
        wrong_credentials={"api_key": "sk-wrong"},
        serves=("chat", "embeddings"),
    ),
    AdapterCase(
        name="openai_compatible",
        provider_type="openai_compatible",
        fake_kind="openai",
        upstream_model="gpt-4o-mini",
        chat_path="/v1/chat/completions",
        credentials=_api_key,
        wrong_credentials={"api_key": "sk-wrong"},
        serves=("chat", "embeddings"),
    ),
    AdapterCase(
        name="anthropic",
        provider_type="anthropic",
        fake_kind="anthropic",
        upstream_model="claude-opus-4-6",
        chat_path="/v1/messages",
        credentials=_api_key,
        wrong_credentials={"api_key": "sk-ant-wrong"},
        cache_headers={"x-fake-cached-tokens": "2", "x-fake-cache-write-tokens": "1"},
        mid_stream_error=True,
    ),
    AdapterCase(
        name="azure_openai",
        provider_type="azure_openai",
        fake_kind="azure",
        upstream_model="prod-4o",
        chat_path="/openai/deployments/prod-4o/chat/completions",
        credentials=_api_key,
        wrong_credentials={"api_key": "wrong"},
        serves=("chat", "embeddings"),
    ),
    AdapterCase(
        name="bedrock",
        provider_type="bedrock",
        fake_kind="bedrock",
        upstream_model=BEDROCK_MODEL,
        chat_path=f"/model/{BEDROCK_MODEL}/converse",
        credentials=_aws_keys,
        # The right key id and token with a wrong secret: only a real signature check refuses it.
        wrong_credentials={
            "access_key_id": DEFAULT_BEDROCK_ACCESS_KEY_ID,
            "secret_access_key": "wrong-secret",
            "session_token": DEFAULT_BEDROCK_SESSION_TOKEN,
        },
        settings={"region": "us-east-1"},
        cache_headers={"x-fake-cached-tokens": "2", "x-fake-cache-write-tokens": "1"},
        model_in_path=True,
        mid_stream_error=True,
    ),
    AdapterCase(
        name="vertex_gemini",
        provider_type="vertex_gemini",
        fake_kind="vertex",
        upstream_model="gemini-2.0-flash",
        chat_path=VERTEX_PATH,
        credentials=lambda fake: {"access_token": fake.api_key},
        wrong_credentials={"access_token": "ya29.expired"},
        settings={"project": "conformance-project", "location": "europe-west4"},
        model_in_path=True,
        mid_stream_error=True,
    ),
    AdapterCase(
        name="huggingface_tei",
        provider_type="huggingface_tei",
        fake_kind="tei",
        upstream_model="BAAI/bge-small-en-v1.5",
        chat_path="/embed",
        credentials=_api_key,
        wrong_credentials={"api_key": "hf-wrong"},
        serves=("embeddings",),
    ),
    _bedrock_invoke_case(
        "bedrock_titan_embed",
        TITAN_EMBED,
        serves=("embeddings",),
        embedding_dims=256,
        embedding_batch=False,
        embedding_options={"dimensions": 256},
    ),
    _bedrock_invoke_case("bedrock_stability", "stability.stable-image-core-v1:1", serves=("images",)),
    _bedrock_invoke_case("bedrock_titan_image", "amazon.titan-image-generator-v2:0", serves=("images",)),
    AdapterCase(
        name="vertex_embeddings",
        provider_type="vertex_gemini",
        fake_kind="vertex",
        upstream_model="text-embedding-005",
        chat_path=f"{VERTEX_MODELS}text-embedding-005:predict",
        credentials=lambda fake: {"access_token": fake.api_key},
        wrong_credentials={"access_token": "ya29.expired"},
        settings=VERTEX_SETTINGS,
        model_in_path=True,
        serves=("embeddings",),
        embedding_options={"dimensions": 16},
    ),
    AdapterCase(
        name="huggingface_inference",
        provider_type="huggingface_inference",
        fake_kind="tei",
        upstream_model=HF_MODEL,
        chat_path=f"/hf-inference/models/{HF_MODEL}/pipeline/feature-extraction",
        credentials=_api_key,
        wrong_credentials={"api_key": "hf_wrong"},
        base_path="/hf-inference/models",
        serves=("embeddings",),
        reports_usage=False,
    ),
)

# Providers whose stored credentials must first be exchanged for short-lived ones.
EXCHANGE_ADAPTERS: tuple[AdapterCase, ...] = (
    AdapterCase(
        name="bedrock_assume_role",
        provider_type="bedrock",
        fake_kind="bedrock",
        upstream_model=BEDROCK_MODEL,
        chat_path=f"/model/{BEDROCK_MODEL}/converse",
        credentials=lambda fake: {
            "access_key_id": DEFAULT_STS_ACCESS_KEY_ID,
            "secret_access_key": DEFAULT_STS_SECRET,
        },
        wrong_credentials={},
        settings={"region": "us-east-1", "role_arn": DEFAULT_STS_ROLE_ARN},
        fake_settings=lambda fake: {"sts_endpoint": f"{fake.root_url}/"},
        model_in_path=True,
    ),
    AdapterCase(
        name="vertex_service_account",
        provider_type="vertex_gemini",
        fake_kind="vertex",
        upstream_model="gemini-2.0-flash",
        chat_path=VERTEX_PATH,
        credentials=_vertex_service_account,
        wrong_credentials={},
        settings=VERTEX_SETTINGS,
        fake_settings=lambda fake: {"token_url": f"{fake.root_url}/token"},
        model_in_path=True,
    ),
)

# Error scenarios: upstream status -> what the client must see (status, OpenAI error type).
ERROR_STATUSES: dict[int, int] = {400: 400, 401: 502, 403: 502, 404: 404, 429: 429, 500: 502, 503: 503}


@dataclass(frozen=True)
class Scenario:
    """A model alias served by one adapter with fixed upstream behaviour."""

    suffix: str
    headers: dict[str, str] = field(default_factory=dict)
    timeouts: TimeoutsProto | None = None
    wrong_auth: bool = False


def scenarios(case: AdapterCase) -> list[Scenario]:
    """The model aliases the suite calls for `case` (`<adapter>-<suffix>`)."""
    return [
        Scenario("ok"),
        Scenario("cached", case.cache_headers),
        *(
            Scenario(f"e{status}", {"x-fake-status": str(status), "x-fake-retry-after": "7"})
            for status in ERROR_STATUSES
        ),
        Scenario("timeout", {"x-fake-delay-ms": "5000"}, TimeoutsProto(upstream_ms=500, sync_ms=1000)),
        Scenario("badauth", wrong_auth=True),
        *([Scenario("streamerr", {"x-fake-stream-error": "1"})] if case.mid_stream_error else []),
    ]


def build_snapshot(fakes: dict[str, FakeProcess], keys: DataPlaneKeys) -> ConfigSnapshot:
    """Every adapter x scenario as its own provider, model, deployment and route."""
    snapshot = ConfigSnapshot(revision=time.time_ns() // 1000, schema_version=SNAPSHOT_SCHEMA_VERSION)
    snapshot.created_at.GetCurrentTime()
    cases = [(case, scenarios(case)) for case in ADAPTERS]
    cases += [(case, [Scenario("ok")]) for case in EXCHANGE_ADAPTERS]
    for case, case_scenarios in cases:
        fake = fakes[case.fake_kind]
        dynamic = case.fake_settings(fake) if case.fake_settings is not None else {}
        for scenario in case_scenarios:
            name = f"{case.name}-{scenario.suffix}"
            credentials = case.wrong_credentials if scenario.wrong_auth else case.credentials(fake)
            headers = {f"header.{k}": v for k, v in scenario.headers.items()}
            settings = {**case.settings, **dynamic, **headers}
            snapshot.providers.append(
                Provider(
                    id=f"prov-{name}",
                    name=f"fake-{name}",
                    type=case.provider_type,
                    base_url=fake.base_url + case.base_path,
                    settings=settings,
                    credentials=keys.seal(credentials, aad=f"prov-{name}"),
                )
            )
            snapshot.models.append(
                Model(
                    id=f"model-{name}",
                    name=name,
                    owned_by="conformance",
                    pricing=PRICING,
                    timeouts=scenario.timeouts,
                )
            )
            snapshot.deployments.append(
                Deployment(
                    id=f"dep-{name}",
                    model_id=f"model-{name}",
                    provider_id=f"prov-{name}",
                    upstream_model=case.upstream_model,
                    weight=1,
                    priority=1,
                )
            )
            snapshot.routes.append(
                Route(
                    id=f"route-{name}",
                    model_id=f"model-{name}",
                    strategy=RoutingStrategy.ROUTING_STRATEGY_WEIGHTED,
                    deployment_ids=[f"dep-{name}"],
                )
            )
    return snapshot


@dataclass
class Gateway:
    """The running proxy and a virtual key for it."""

    base_url: str
    key: str
    fakes: dict[str, FakeProcess]

    def last_upstream_request(self, case: AdapterCase) -> dict[str, object]:
        """The last chat request the adapter's fake received (tests run one at a time)."""
        return self.fakes[case.fake_kind].requests(case.chat_path)[-1]

    def client(self) -> openai.AsyncOpenAI:
        """An official SDK client for the proxy, without SDK retries so each error surfaces once."""
        return openai.AsyncOpenAI(base_url=f"{self.base_url}/v1", api_key=self.key, max_retries=0, timeout=30)

    def anthropic_client(self) -> anthropic.AsyncAnthropic:
        """An official Anthropic SDK client for the proxy's Messages API, without SDK retries."""
        return anthropic.AsyncAnthropic(base_url=self.base_url, api_key=self.key, max_retries=0, timeout=30)


@pytest.fixture(scope="session")
def conformance_fakes() -> Iterator[dict[str, FakeProcess]]:
    """One subprocess per fake kind the adapters need."""
    kinds = sorted({case.fake_kind for case in (*ADAPTERS, *EXCHANGE_ADAPTERS)})
    with ExitStack() as stack:
        yield {kind: stack.enter_context(run_fake(kind)) for kind in kinds}


@pytest.fixture(scope="session")
async def gateway(
    stack: Stack, conformance_fakes: dict[str, FakeProcess], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    """A proxy subprocess serving the conformance snapshot, with one active virtual key."""
    flush_redis(stack.endpoints.redis_url)
    await purge_jetstream_async(stack.endpoints.nats_url)
    dataplane_key = base64.b64encode(os.urandom(32)).decode()
    keys = DataPlaneKeys.from_base64("dp1", dataplane_key)
    pepper = base64.b64encode(os.urandom(16)).decode()
    nc = await nats.connect(stack.endpoints.nats_url, connect_timeout=5)
    redis = aioredis.Redis.from_url(stack.endpoints.redis_url)
    try:
        js = nc.jetstream()
        await ensure_bucket(js, CONFIG_BUCKET, history=5)
        kv = await js.key_value(CONFIG_BUCKET)
        await kv.put(CONFIG_KEY, build_snapshot(conformance_fakes, keys).SerializeToString())
        key = generate_key()
        digest = key_digest(pepper.encode(), key)
        prefix, last4 = display_parts(key)
        record = KeyRecord(
            key_id=f"key-{digest[:8]}",
            digest=digest,
            tenant_id="tenant-conformance",
            user_id="user-conformance",
            name="conformance",
            prefix=prefix,
            last4=last4,
            tenant_status=TenantStatus.TENANT_STATUS_ACTIVE,
        )
        await redis.set(redis_key_record(digest), record.SerializeToString())
    finally:
        await redis.aclose()
        await nc.close()
    port = free_port()
    workdir: Path = tmp_path_factory.mktemp("conformance-proxy")
    env = {
        **os.environ,
        "REDIS_URL": stack.endpoints.redis_url,
        "NATS_URL": stack.endpoints.nats_url,
        "KEY_PEPPER": pepper,
        "DATAPLANE_KEY": dataplane_key,
        "DATAPLANE_KEY_ID": "dp1",
        "PROXY_HOST": "127.0.0.1",
        "PROXY_PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "INSTANCE_ID": "proxy-conformance",
    }
    env.pop("GATEWAY_CONFIG_FILE", None)
    base_url = f"http://127.0.0.1:{port}"
    process = ManagedProcess(
        "proxy",
        [sys.executable, "-m", "gateway_proxy"],
        env,
        cwd=workdir,
        log_path=workdir / "proxy.log",
        ready_url=f"{base_url}/readyz",
    )
    with process:
        process.wait_ready(timeout=60)
        yield Gateway(base_url, key, conformance_fakes)


# --- the matrix ---------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--conformance-matrix",
        default=None,
        help="rewrite the adapter x capability matrix between the markers in this Markdown file",
    )


# Cell outcomes: a cell passes only if every test of it passed.
PASS, FAIL = "pass", "FAIL"


class MatrixRecorder:
    """Collects (adapter, capability) -> outcome from the tests' `conformance` user properties."""

    def __init__(self, target: str | None) -> None:
        self.target = target
        self.results: dict[tuple[str, str], str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        cells = [value for name, value in report.user_properties if name == "conformance"]
        if not cells or (report.when != "call" and report.passed):
            return
        outcome = PASS if report.passed else FAIL
        for adapter, capability in cells:
            key = (str(adapter), str(capability))
            # A failure anywhere wins.
            if self.results.get(key, PASS) == PASS:
                self.results[key] = outcome

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.target or not self.results:
            return
        path = Path(self.target)
        text = path.read_text()
        if MATRIX_START not in text or MATRIX_END not in text:
            raise pytest.UsageError(f"{path} has no {MATRIX_START} ... {MATRIX_END} markers")
        head, rest = text.split(MATRIX_START, 1)
        _, tail = rest.split(MATRIX_END, 1)
        path.write_text(f"{head}{MATRIX_START}\n{render_matrix(self.results)}{MATRIX_END}{tail}")


def pytest_configure(config: pytest.Config) -> None:
    target = config.getoption("--conformance-matrix", default=None)
    config.pluginmanager.register(MatrixRecorder(str(target) if target else None), "conformance-matrix")


def render_matrix(results: dict[tuple[str, str], str]) -> str:
    """A Markdown table: one row per adapter, one column per capability (pass / FAIL / -)."""
    adapters = [
        case.name for case in (*ADAPTERS, *EXCHANGE_ADAPTERS) if any(a == case.name for a, _ in results)
    ]
    capabilities = list(dict.fromkeys(c for _, c in sorted(results, key=lambda k: _capability_order(k[1]))))
    lines = [
        "| adapter | " + " | ".join(capabilities) + " |",
        "|---|" + "---|" * len(capabilities),
    ]
    for adapter in adapters:
        cells = [results.get((adapter, c), "-") for c in capabilities]
        lines.append(f"| `{adapter}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


CAPABILITY_ORDER = (
    "sync",
    "stream",
    "tools",
    "usage",
    "cached_tokens",
    "finish_reason",
    "stream_error",
    "embeddings",
    "embeddings_base64",
    "images",
    "content_policy",
    "wrong_auth",
)


def _capability_order(capability: str) -> tuple[int, str]:
    if capability in CAPABILITY_ORDER:
        return CAPABILITY_ORDER.index(capability), capability
    return len(CAPABILITY_ORDER), capability
