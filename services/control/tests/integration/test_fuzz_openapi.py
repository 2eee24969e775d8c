"""schemathesis over control's OpenAPI document: no 5xx, every response matches its schema.

The real service (Granian subprocess on the embedded stack) is fuzzed through its own
`/schema/openapi.json` with a platform admin's token, so every route is reached past its
guards. Bounded by examples per operation and a time budget so it finishes in about a minute;
`--seed` makes a failure reproducible (the report names the failing request as curl).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from gateway_devstack.procs import free_port
from gateway_proto.v1 import health_pb2, health_pb2_grpc

MAX_EXAMPLES = int(os.environ.get("CONTROL_FUZZ_MAX_EXAMPLES", "5"))
TIMEOUT_S = 300
SEED = os.environ.get("CONTROL_FUZZ_SEED", "20261126")
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


class NeverProbed(health_pb2_grpc.HealthServiceServicer):
    """A HealthService that has judged nothing yet (what the real one says before any probe)."""

    async def GetDeploymentHealth(
        self, request: health_pb2.GetDeploymentHealthRequest, context: Any
    ) -> health_pb2.GetDeploymentHealthResponse:
        records = [health_pb2.DeploymentHealth(deployment_id=i) for i in request.deployment_ids]
        return health_pb2.GetDeploymentHealthResponse(deployments=records)


@pytest.fixture
async def health_target() -> AsyncIterator[str]:
    """The address of a running HealthService, so no health route answers 503 during the run."""
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServiceServicer_to_server(NeverProbed(), server)
    target = f"127.0.0.1:{free_port()}"
    server.add_insecure_port(target)
    await server.start()
    try:
        yield target
    finally:
        await server.stop(grace=None)


def schemathesis_argv(base_url: str, token: str, report_dir: Path) -> list[str]:
    """The `st run` command line (also quoted in docs/reliability.md)."""
    return [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{base_url}/schema/openapi.json",
        "--checks",
        CHECKS,
        "--phases",
        "coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        "--workers",
        "2",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir),
    ]


async def test_no_server_errors(
    start_control: Any,
    accounting: Any,
    health_target: str,
    tmp_path: Path,
) -> None:
    target, _servicer = accounting
    # Every dependency is up (gRPC Accounting and Health servers too), so any 5xx is a bug. Fuzzed
    # sign-ins must not lock the run out: failures are expected by the thousand here.
    control = start_control(
        ACCOUNTING_GRPC_TARGET=target,
        HEALTH_GRPC_TARGET=health_target,
        LOGIN_MAX_FAILURES_PER_EMAIL="10000",
        LOGIN_MAX_FAILURES_PER_IP="100000",
    )
    token = await control.login()
    async with control.client() as client:
        document = (await client.get("/schema/openapi.json")).json()
    # Error responses are documented in control's own shape, which the run checks them against.
    login_400 = document["paths"]["/api/v1/auth/login"]["post"]["responses"]["400"]
    assert login_400["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }
    process = await asyncio.create_subprocess_exec(
        *schemathesis_argv(control.base_url, token, tmp_path / "report"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
        cwd=tmp_path,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=TIMEOUT_S)
    text = output.decode(errors="replace")
    (tmp_path / "schemathesis.txt").write_text(text)
    assert process.returncode == 0, text[-20000:]
    assert "No issues found" in text or "passed" in text, text[-5000:]
    # The service survived the run and still answers (no crash hidden behind the exit code).
    async with control.client(token) as client:
        assert (await client.get("/api/v1/user")).status_code == 200
