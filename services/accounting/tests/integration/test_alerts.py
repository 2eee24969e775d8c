"""Budget alerts: signed webhooks to a real receiver on loopback, email to a real SMTP server,
once per threshold and period, with the SSRF guard on by default; test alerts over gRPC."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import grpc
import pytest
from aiosmtpd.controller import Controller
from gateway_devstack.procs import free_port
from gateway_proto.v1 import accounting_pb2, accounting_pb2_grpc

SECRET = "whsec-test-0123456789"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """A tiny HTTP/1.1 server on loopback that records POSTs and answers scripted statuses."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/budget"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.received.append(Received(headers, body))
        status = self.statuses.pop(0) if self.statuses else 200
        extra = "Location: http://127.0.0.1:1/elsewhere\r\n" if 300 <= status < 400 else ""
        writer.write(f"HTTP/1.1 {status} X\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    hook = WebhookReceiver()
    server = await asyncio.start_server(hook.handle, "127.0.0.1", 0)
    hook.port = server.sockets[0].getsockname()[1]
    try:
        yield hook
    finally:
        server.close()
        await server.wait_closed()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: object, session: object, envelope) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content))
        )
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _verify(received: Received) -> dict[str, object]:
    """Check the signature the way a receiver would, and return the alert."""
    timestamp = received.headers["x-gateway-timestamp"]
    assert abs(time.time() - int(timestamp)) < 60
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(received.headers["x-gateway-signature"], f"sha256={expected}")
    assert received.headers["content-type"] == "application/json"
    alert: dict[str, object] = json.loads(received.body)
    assert alert["delivery_id"] == int(received.headers["x-gateway-delivery"])
    return alert


async def _rows(kit, db, n: int) -> bool:
    return await kit.count_rows(db) == n


async def _loaded(state, n: int) -> bool:
    return len(state.book.budgets) == n


async def _deliveries(db, status: str | None = None) -> list:
    query = "SELECT * FROM accounting.alert_deliveries ORDER BY threshold, id"
    rows = await db.fetch(query)
    return [r for r in rows if status is None or r["status"] == status]


def _settings(settings_for, **overrides):
    return settings_for(
        accounting_budget_refresh_s=0.2,
        accounting_budget_reconcile_s=0.5,
        alert_webhook_secret=SECRET,
        alert_retry_delay_s=0.05,
        **overrides,
    )


async def test_webhook_alert_is_signed_and_sent_once_per_threshold_and_period(
    kit, publisher, db, control, settings_for, run_app, receiver
):
    # 1000 prompt + 500 completion tokens cost 7,500 micro-USD; the limit is 10,000.
    budget_id = await control.budget(limit_micro_usd=10_000, thresholds=(50, 80, 100))
    await control.channel("webhook", receiver.url)
    settings = _settings(settings_for, alert_webhook_allow_private=True)
    async with run_app(settings) as (_app, state):
        await kit.wait_for(lambda: _loaded(state, 1), what="budget loaded")
        await publisher.event(kit.make_event())  # 75 %: crosses 50
        await kit.wait_for(lambda: _sent(db, 1), what="the 50 % alert sent")
        [alert] = [_verify(r) for r in receiver.received]
        assert alert["type"] == "budget.threshold_crossed"
        assert alert["budget_id"] == str(budget_id)
        assert (alert["threshold_percent"], alert["spent_micro_usd"], alert["limit_micro_usd"]) == (
            50,
            7500,
            10_000,
        )
        assert (alert["scope"], alert["scope_id"], alert["period"], alert["hard"]) == (
            "tenant",
            kit.TENANT,
            "daily",
            True,
        )

        # A second crossing of 50 % in the same period (spend moves, still under 80 %) sends nothing.
        await publisher.event(kit.make_event(prompt_tokens=1, completion_tokens=0))
        await kit.wait_for(lambda: _rows(kit, db, 2), what="2 rows")
        await asyncio.sleep(1.5)  # settle + reconcile passes
        assert len(receiver.received) == 1

        # 150 %: 80 and 100 both fire, once each.
        await publisher.event(kit.make_event())
        await kit.wait_for(lambda: _sent(db, 3), what="80 % and 100 % alerts sent")
        assert sorted(_verify(r)["threshold_percent"] for r in receiver.received) == [50, 80, 100]

    # A restarted accounting (fresh memory) re-checks every threshold from Postgres: the claims
    # in accounting.budget_alerts keep it from sending anything again.
    async with run_app(settings) as (_app, state):
        await kit.wait_for(lambda: _loaded(state, 1), what="budget reloaded")
        await asyncio.sleep(1.5)
    assert len(receiver.received) == 3
    history = await _deliveries(db)
    assert [(r["threshold"], r["status"], r["attempts"], r["channel_kind"]) for r in history] == [
        (50, "sent", 1, "webhook"),
        (80, "sent", 1, "webhook"),
        (100, "sent", 1, "webhook"),
    ]
    claims = await db.fetch("SELECT threshold FROM accounting.budget_alerts ORDER BY threshold")
    assert [r["threshold"] for r in claims] == [50, 80, 100]


async def _sent(db, n: int) -> bool:
    return len(await _deliveries(db, "sent")) == n


async def _finished(db, n: int) -> bool:
    return len([r for r in await _deliveries(db) if r["status"] != "pending"]) == n


async def test_webhook_is_retried_with_backoff_then_recorded(
    kit, publisher, db, control, settings_for, run_app, receiver
):
    await control.budget(limit_micro_usd=10_000, thresholds=(50,))
    await control.channel("webhook", receiver.url)
    receiver.statuses = [503, 500]
    async with run_app(_settings(settings_for, alert_webhook_allow_private=True)) as (_app, state):
        await kit.wait_for(lambda: _loaded(state, 1), what="budget loaded")
        await publisher.event(kit.make_event())
        await kit.wait_for(lambda: _sent(db, 1), what="alert sent on the third attempt")
    assert len(receiver.received) == 3
    deliveries = {_verify(r)["delivery_id"] for r in receiver.received}
    assert len(deliveries) == 1  # the same delivery id each time: receivers can deduplicate
    [row] = await _deliveries(db)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 3, None)


async def test_redirects_are_not_followed(kit, publisher, db, control, settings_for, run_app, receiver):
    await control.budget(limit_micro_usd=10_000, thresholds=(50,))
    await control.channel("webhook", receiver.url)
    receiver.statuses = [302]
    async with run_app(_settings(settings_for, alert_webhook_allow_private=True)) as (_app, state):
        await kit.wait_for(lambda: _loaded(state, 1), what="budget loaded")
        await publisher.event(kit.make_event())
        await kit.wait_for(lambda: _finished(db, 1), what="delivery finished")
    [row] = await _deliveries(db)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "redirect" in row["last_error"]
    assert len(receiver.received) == 1


async def test_ssrf_guard_refuses_loopback_by_default(
    kit, publisher, db, control, settings_for, run_app, receiver
):
    await control.budget(limit_micro_usd=10_000, thresholds=(50,))
    await control.channel("webhook", receiver.url)
    await control.channel("webhook", f"http://localhost:{receiver.port}/by-name")
    async with run_app(_settings(settings_for)) as (_app, state):
        await kit.wait_for(lambda: _loaded(state, 1), what="budget loaded")
        await publisher.event(kit.make_event())
        await kit.wait_for(lambda: _finished(db, 2), what="deliveries finished")
    rows = await _deliveries(db)
    assert [(r["status"], r["attempts"]) for r in rows] == [("failed", 1), ("failed", 1)]
    assert all("refused" in r["last_error"] and "127.0.0.1" in r["last_error"] for r in rows)
    assert receiver.received == []


async def test_email_alert_reaches_a_real_smtp_server_once(
    kit, publisher, db, control, settings_for, run_app, smtp_server
):
    inbox, port = smtp_server
    budget_id = await control.budget(limit_micro_usd=10_000, thresholds=(50,), period="monthly")
    await control.channel("email", "finance@example.com")
    # A platform-wide channel hears about every tenant's budgets.
    await control.channel("email", "platform@example.com", tenant_id=None)
    settings = _settings(
        settings_for,
        alert_smtp_host="127.0.0.1",
        alert_smtp_port=port,
        alert_smtp_security="none",
        alert_smtp_from="alerts@gateway.test",
    )
    async with run_app(settings) as (_app, state):
        await kit.wait_for(lambda: _loaded(state, 1), what="budget loaded")
        await publisher.event(kit.make_event())
        await kit.wait_for(lambda: _sent(db, 2), what="two emails sent")
        await publisher.event(kit.make_event(prompt_tokens=2))  # a second crossing: nothing more
        await kit.wait_for(lambda: _rows(kit, db, 2), what="2 rows")
        await asyncio.sleep(1.5)
    assert sorted(rcpt for _, rcpts, _ in inbox.messages for rcpt in rcpts) == [
        "finance@example.com",
        "platform@example.com",
    ]
    sender, _, message = inbox.messages[0]
    assert sender == "alerts@gateway.test"
    assert message["Subject"] == "Budget alert: 50% of the monthly budget reached"
    text = message.get_payload(decode=True).decode()
    assert str(budget_id) in text
    assert "$0.007500 of $0.010000" in text


async def test_test_alert_reaches_a_webhook_signed_and_is_not_recorded(
    db, control, settings_for, run_app, receiver, smtp_server
):
    inbox, port = smtp_server
    webhook = await control.channel("webhook", receiver.url, settings=json.dumps({"secret": SECRET}))
    email = await control.channel("email", "finance@example.com")
    await db.execute("UPDATE control.alert_channels SET enabled = false WHERE id = $1", webhook)
    settings = settings_for(
        alert_webhook_allow_private=True,
        alert_smtp_host="127.0.0.1",
        alert_smtp_port=port,
        alert_smtp_security="none",
        alert_smtp_from="alerts@gateway.test",
    )
    async with run_app(settings) as (_app, state), _stub(settings) as stub:
        await state.database.wait_started()
        # A paused channel can still be checked: the test is what an admin does before enabling it.
        answer = await stub.SendTestAlert(accounting_pb2.SendTestAlertRequest(channel_id=str(webhook)))
        mailed = await stub.SendTestAlert(accounting_pb2.SendTestAlertRequest(channel_id=str(email)))
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.SendTestAlert(accounting_pb2.SendTestAlertRequest(channel_id=str(uuid.uuid4())))
    assert (answer.delivered, answer.error) == (True, "")
    assert len(receiver.received) == 1
    alert = _verify(receiver.received[0])
    assert alert["type"] == "alert.test"
    assert alert["test"] is True
    assert alert["delivery_id"] == 0
    assert (mailed.delivered, mailed.error) == (True, "")
    [(_, rcpts, message)] = inbox.messages
    assert rcpts == ["finance@example.com"]
    assert message["Subject"].startswith("[TEST]")
    assert "TEST ALERT" in message.get_payload(decode=True).decode()
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND
    assert await _deliveries(db) == []  # nothing in the alert history


async def test_test_alert_reports_the_ssrf_refusal_and_a_refusing_receiver(
    db, control, settings_for, run_app, receiver
):
    guarded = await control.channel("webhook", receiver.url, settings=json.dumps({"secret": SECRET}))
    settings = settings_for()
    async with run_app(settings) as (_app, state), _stub(settings) as stub:
        await state.database.wait_started()
        refused = await stub.SendTestAlert(accounting_pb2.SendTestAlertRequest(channel_id=str(guarded)))
    assert refused.delivered is False
    assert "refused" in refused.error
    assert "127.0.0.1" in refused.error
    assert receiver.received == []

    receiver.statuses = [403]
    allowed = settings_for(alert_webhook_allow_private=True)
    async with run_app(allowed) as (_app, state), _stub(allowed) as stub:
        await state.database.wait_started()
        answer = await stub.SendTestAlert(accounting_pb2.SendTestAlertRequest(channel_id=str(guarded)))
    assert (answer.delivered, answer.error) == (False, "webhook refused the alert with 403")
    assert len(receiver.received) == 1


@asynccontextmanager
async def _stub(settings) -> AsyncIterator[accounting_pb2_grpc.AccountingServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{settings.accounting_grpc_port}") as channel:
        yield accounting_pb2_grpc.AccountingServiceStub(channel)
