"""Reliability figure (docs/reliability.md, "NATS stopped for 60 s under load"): the usage
pipeline loses nothing and double counts nothing when NATS goes away.

The whole gateway runs on a stack of its own. Steady load (several official-SDK clients) goes
through the proxy before, during and after a NATS outage of `OUTAGE_S` seconds (60, as issue 5
asks; `GATEWAY_NATS_OUTAGE_S` shortens it for a quick local run). During the outage the proxy
spools the usage events on disk. When the load of the outage ends, and once the proxy has
spooled every event of it, the proxy is killed with SIGKILL (its whole process group) and a new
proxy is started on the same spool directory, still during the outage. Then NATS comes back.

Asserted: every request got a 200 (before, during and after the outage: the success rate does not
change), every request id the proxy answered with is stored in accounting exactly once (the
killed proxy's spool was replayed by its successor), the rollup counts each request once, and
the spool ends empty.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import openai
import psycopg
import pytest
from gateway_devstack.base import Stack
from gateway_devstack.procs import ManagedProcess
from gateway_devstack.provisioning import eventually, provision_tenant
from gateway_devstack.seed import ControlClient
from gateway_devstack.settings import StackSettings
from gateway_devstack.stack import start_stack
from gateway_devstack.system import GatewaySystem, SystemPorts, SystemSecrets
from prometheus_client.parser import text_string_to_metric_families

OUTAGE_S = float(os.environ.get("GATEWAY_NATS_OUTAGE_S", "60"))
LOAD_BEFORE_S = 3.0
LOAD_AFTER_S = 3.0
CLIENTS = 4
# Each client pauses between requests: steady load that a busy 2-core machine sustains.
PAUSE_S = 0.05


@dataclass
class LoadResult:
    """What the clients saw: the status of every request and the request ids of the 200s."""

    statuses: list[int] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def successes(self) -> int:
        return sum(1 for status in self.statuses if status == 200)

    def record(self, status: int, request_id: str | None) -> None:
        with self.lock:
            self.statuses.append(status)
            if status == 200 and request_id:
                self.request_ids.append(request_id)


def run_load(base_url: str, api_key: str, model: str, seconds: float) -> LoadResult:
    """`CLIENTS` official OpenAI clients sending chat completions for `seconds`."""
    result = LoadResult()
    stop_at = time.monotonic() + seconds

    def client_loop() -> None:
        with openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=30.0) as client:
            while time.monotonic() < stop_at:
                try:
                    raw = client.chat.completions.with_raw_response.create(
                        model=model, messages=[{"role": "user", "content": "count me once"}]
                    )
                except openai.APIStatusError as exc:
                    result.record(exc.status_code, None)
                except openai.APIConnectionError:
                    result.record(0, None)
                else:
                    raw.parse()
                    result.record(raw.status_code, raw.headers.get("x-request-id"))
                time.sleep(PAUSE_S)

    threads = [threading.Thread(target=client_loop) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


@pytest.fixture(scope="module")
def outage_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own: this test stops and starts its NATS."""
    with start_stack(
        StackSettings.from_env(tmp_path_factory.mktemp("nats-outage-stack"), {}, durable=False)
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def outage_system(outage_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewaySystem]:
    root = tmp_path_factory.mktemp("nats-outage-system")
    base_env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    system = GatewaySystem(
        root,
        outage_stack.endpoints,
        SystemPorts.free(),
        SystemSecrets.generate(),
        base_env=base_env,
        extra_env={"LOG_LEVEL": "INFO", "PROXY_WORKERS": "1", "USAGE_SPOOL_DIR": str(root / "spool")},
    )
    with system:
        yield system


def _served(system: GatewaySystem, api_key: str, model: str) -> bool | None:
    try:
        with openai.OpenAI(base_url=system.proxy_url, api_key=api_key, max_retries=0) as client:
            ids = [m.id for m in client.models.list()]
    except (openai.APIStatusError, openai.APIConnectionError):
        return None
    return True if model in ids else None


def _proxy_counters(system: GatewaySystem) -> dict[str, float]:
    """The proxy's usage counters by outcome (`queued`, `published`, `spooled`, ...)."""
    text = httpx.get(f"http://127.0.0.1:{system.ports.proxy}/metrics", timeout=5, trust_env=False).text
    counters: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name not in ("gateway_proxy_usage_events", "gateway_proxy_usage_spool_events"):
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                name = f"{family.name.removeprefix('gateway_proxy_')}:{sample.labels['outcome']}"
                counters[name] = sample.value
    return counters


def _all_spooled(system: GatewaySystem) -> dict[str, float] | None:
    """The counters once every event the proxy queued was published or spooled (none in memory)."""
    c = _proxy_counters(system)
    handled = c.get("usage_events:published", 0) + c.get("usage_events:duplicate", 0)
    handled += c.get("usage_spool_events:spooled", 0)
    return c if c.get("usage_events:queued", 0) == handled and c.get("usage_spool_events:spooled") else None


def _stored(database_url: str, tenant_id: str) -> tuple[list[str], int]:
    """The request ids accounting stored for the tenant, and the requests its rollup counts."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT request_id FROM accounting.usage WHERE tenant_id = %s", (tenant_id,)
            )
        ]
        row = conn.execute(
            "SELECT coalesce(sum(requests), 0) FROM accounting.usage_hourly WHERE tenant_id = %s",
            (tenant_id,),
        ).fetchone()
    return ids, int(row[0]) if row else 0


def _spool_bytes(system: GatewaySystem) -> int:
    return sum(p.stat().st_size for p in (system.root / "spool").rglob("seg-*.spool"))


def _sigkill(process: ManagedProcess) -> None:
    """SIGKILL the process group (Granian's main process and its worker), and reap it."""
    pid = process.pid
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    eventually(
        lambda: True if process.returncode is not None else None, 10, 0.2, what="the killed proxy exiting"
    )


@pytest.mark.e2e
@pytest.mark.timeout(600 + OUTAGE_S)
def test_nats_outage_under_load_loses_and_duplicates_nothing(
    outage_stack: Stack, outage_system: GatewaySystem
) -> None:
    system = outage_system
    admin = ControlClient(system.control_url, system.secrets.admin_email, system.secrets.admin_password)
    try:
        tenant = provision_tenant(admin, system, "outage")
    finally:
        admin.close()
    tenant_id, api_key, model = tenant.tenant_id, tenant.api_key, tenant.model
    eventually(
        lambda: _served(system, api_key, model), 30, 0.2, what="the proxy serving the new key and model"
    )

    before = run_load(system.proxy_url, api_key, model, LOAD_BEFORE_S)
    outage_started = time.monotonic()
    outage_stack.stop_nats()
    try:
        during = run_load(system.proxy_url, api_key, model, OUTAGE_S)
        counters = eventually(lambda: _all_spooled(system), 30, 0.2, what="every outage event spooled")
        spooled_at_kill = _spool_bytes(system)
        proxy = system.processes["proxy"]
        _sigkill(proxy)
        proxy.start()  # the same settings and spool directory: it adopts the killed proxy's slot
        proxy.wait_ready(60)
    finally:
        outage_stack.start_nats()
    outage_s = time.monotonic() - outage_started

    eventually(lambda: _served(system, api_key, model), 60, 0.2, what="the restarted proxy serving again")
    after = run_load(system.proxy_url, api_key, model, LOAD_AFTER_S)
    answered = before.request_ids + during.request_ids + after.request_ids

    def all_stored() -> tuple[list[str], int] | None:
        ids, rolled_up = _stored(system.endpoints.database_url, tenant_id)
        return (ids, rolled_up) if len(ids) >= len(answered) else None

    ids, rolled_up = eventually(all_stored, 120, 0.2, what="every event stored in accounting")
    time.sleep(2)  # a late duplicate would land now
    ids, rolled_up = _stored(system.endpoints.database_url, tenant_id)
    print(
        f"\nNATS outage {outage_s:.1f} s (load {OUTAGE_S:.0f} s, then SIGKILL + restart of the proxy): "
        f"requests before/during/after = "
        f"{len(before.statuses)}/{len(during.statuses)}/{len(after.statuses)}, "
        f"200s = {before.successes}/{during.successes}/{after.successes}; "
        f"proxy counters at the kill {counters}; spool on disk at the kill {spooled_at_kill} bytes; "
        f"stored {len(ids)} rows, {len(set(ids))} distinct, rollup {rolled_up}"
    )
    for phase, result in (("before", before), ("during", during), ("after", after)):
        assert result.statuses, f"no request {phase} the outage"
        assert result.successes == len(result.statuses), f"{phase}: {sorted(set(result.statuses))}"
        assert len(result.request_ids) == result.successes
    assert counters["usage_spool_events:spooled"] >= len(during.request_ids)
    assert spooled_at_kill > 0
    assert len(set(answered)) == len(answered)
    assert sorted(ids) == sorted(answered), "stored rows differ from the requests answered"
    assert rolled_up == len(answered)
    eventually(
        lambda: True if _spool_bytes(system) == 0 else None, 30, 0.2, what="the spool replayed and emptied"
    )
