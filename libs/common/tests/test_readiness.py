import asyncio
import logging

import pytest
from gateway_common.readiness import Readiness


async def test_reports_each_check_and_logs_transitions(caplog: pytest.LogCaptureFixture) -> None:
    state = {"up": False}

    async def flaky() -> bool:
        return state["up"]

    async def hangs() -> bool:
        await asyncio.sleep(10)
        return True

    readiness = Readiness(timeout_s=0.05)
    readiness.add("flaky", flaky)
    readiness.add("hangs", hangs)
    with caplog.at_level(logging.INFO):
        assert await readiness.evaluate() == {"flaky": False, "hangs": False}
        state["up"] = True
        assert (await readiness.evaluate())["flaky"] is True
    messages = [r.getMessage() for r in caplog.records]
    assert "dependency NOT ready: flaky" in messages
    assert "dependency ready: flaky" in messages


async def test_needed_once_dependency_degrades_instead_of_failing_after_first_success() -> None:
    state = {"up": False}

    async def dep() -> bool:
        return state["up"]

    readiness = Readiness()
    readiness.add("nats", dep, needed_once=True)
    assert await readiness.evaluate() == {"nats": False}
    assert readiness.degraded == set()
    state["up"] = True
    assert await readiness.evaluate() == {"nats": True}
    state["up"] = False
    assert await readiness.evaluate() == {"nats": True}
    assert readiness.degraded == {"nats"}
    state["up"] = True
    await readiness.evaluate()
    assert readiness.degraded == set()
