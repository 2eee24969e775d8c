"""Prometheus metrics: the Grafana dashboard queries only what the services export, names
follow the conventions, and with two proxy workers /metrics still counts every request."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import openai
import pytest
from gateway_devstack.seed import DemoSeed
from gateway_devstack.system import GatewaySystem

pytestmark = pytest.mark.e2e

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "gateway-dashboard.json"
_METRIC = re.compile(r"\b(gateway_[a-z0-9_]+)")
_HISTOGRAM_SERIES = re.compile(r"_(bucket|sum|count)$")


def scrape(url: str) -> str:
    """One scrape on a fresh connection (with several workers, any of them may answer)."""
    response = httpx.get(url, timeout=10.0, trust_env=False)
    response.raise_for_status()
    return response.text


def metrics_urls(system: GatewaySystem) -> dict[str, str]:
    p = system.ports
    return {
        name: f"http://127.0.0.1:{port}/metrics"
        for name, port in (
            ("proxy", p.proxy),
            ("control", p.control),
            ("accounting", p.accounting),
            ("health", p.health),
        )
    }


def exported_names(text: str) -> set[str]:
    """Sample names and declared families (a labelled metric with no sample yet is declared)."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def dashboard_metrics() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    return {name for expr in exprs for name in _METRIC.findall(expr)}


def _traffic(client: openai.OpenAI, demo: DemoSeed, dead_model: str) -> None:
    """A success, a stream, a refusal and an upstream failure: every proxy series gets a sample."""
    client.chat.completions.create(model=demo.model, messages=[{"role": "user", "content": "hi"}])
    stream = client.chat.completions.create(
        model=demo.model, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert list(stream)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.APIStatusError):
        client.chat.completions.create(model=dead_model, messages=[{"role": "user", "content": "x"}])


def test_every_metric_the_dashboard_queries_is_exported(
    client: openai.OpenAI, traced_system: GatewaySystem, demo: DemoSeed, dead_model: str
) -> None:
    _traffic(client, demo, dead_model)
    wanted = dashboard_metrics()
    assert len(wanted) >= 20, wanted  # the regex really reads the queries

    deadline = time.monotonic() + 20
    while True:
        exported = set().union(*(exported_names(scrape(url)) for url in metrics_urls(traced_system).values()))
        missing = {m for m in wanted if m not in exported and _HISTOGRAM_SERIES.sub("", m) not in exported}
        # Accounting's token counters appear once it stored the usage of the requests above.
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not missing, sorted(missing)
    # The refusal counter counts by error code (the 404 above).
    proxy = scrape(metrics_urls(traced_system)["proxy"])
    assert re.search(
        r'^gateway_proxy_error_responses_total\{code="model_not_found"[^\n]*\} [1-9]', proxy, re.M
    )


def test_metric_names_follow_the_conventions(traced_system: GatewaySystem, client: openai.OpenAI) -> None:
    """`gateway_<service>_` prefix, base units (seconds, bytes), `_total` on counters."""
    for service, url in metrics_urls(traced_system).items():
        text = scrape(url)
        families = {
            line.split()[2]: line.split()[3] for line in text.splitlines() if line.startswith("# TYPE ")
        }
        ours = {name: kind for name, kind in families.items() if not name.startswith(("process_", "python_"))}
        assert ours, service
        for name, kind in ours.items():
            assert name.startswith(f"gateway_{service}_"), (service, name)
            assert not re.search(r"_(ms|milliseconds|us|microseconds|kb|mb)(_|$)", name), name
            if kind == "counter":
                assert name.endswith("_total"), name


def _route_count(text: str, route: str) -> float:
    # Greedy: a route template's braces are inside the label values.
    pattern = re.compile(r"^gateway_proxy_requests_total\{(.*)\} (\S+)$", re.MULTILINE)
    return sum(float(value) for labels, value in pattern.findall(text) if f'route="{route}"' in labels)


def test_two_proxy_workers_report_every_request(
    traced_system: GatewaySystem, client: openai.OpenAI, demo: DemoSeed
) -> None:
    route = "/v1/models/{model_id:path}"
    url = metrics_urls(traced_system)["proxy"]
    before = _route_count(scrape(url), route)
    sent = 24
    for _ in range(sent):
        # A fresh connection each time, so both workers serve some of them.
        response = httpx.get(
            f"{traced_system.proxy_url}/models/{demo.model}",
            headers={"authorization": f"Bearer {demo.api_key}"},
            timeout=10.0,
            trust_env=False,
        )
        assert response.status_code == 200
    counts = {_route_count(scrape(url), route) - before for _ in range(6)}
    assert counts == {sent}
