"""The accounting service: a Starlette app whose lifespan runs the consumer and the gRPC server.

`create_app` builds the typed `State` (nothing connects yet); the lifespan then starts, in this
order: NATS (background connect with retry), Postgres (background migrations + pool with retry),
the usage consumer and the gRPC server. Neither Postgres nor NATS needs to be up for startup to
succeed: /readyz says what is missing, and everything connects on its own when it appears.
Shutdown (SIGTERM through Granian) stops the gRPC server with a grace period, lets the consumer
finish the batch in flight, then closes NATS and the pool.

HTTP: GET /healthz (alive), GET /readyz (postgres, nats, consumer), GET /metrics (Prometheus).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from gateway_common.logging import configure_logging
from gateway_common.migrations import apply_migrations
from gateway_common.nats import NatsConnection
from gateway_common.readiness import Check, Readiness
from gateway_common.redis import connect_redis
from gateway_common.settings import load_settings
from gateway_common.telemetry import active_tracer, configure_tracing
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway_accounting.advisories import AdvisoryWatcher
from gateway_accounting.alert_history import AlertHistoryReader
from gateway_accounting.alerts.channel_check import ChannelChecker
from gateway_accounting.alerts.dispatcher import AlertDispatcher, RetryPolicy
from gateway_accounting.alerts.model import AlertSender
from gateway_accounting.alerts.smtp import EmailSender, SmtpOptions
from gateway_accounting.alerts.webhook import WebhookSender
from gateway_accounting.budgets.book import BudgetBook
from gateway_accounting.budgets.counters import BudgetCounters
from gateway_accounting.budgets.settlement import REDIS_ERRORS, BudgetSettler
from gateway_accounting.budgets.status import BudgetStatusReader
from gateway_accounting.consumer import DURABLE_NAME, ConsumerOptions, UsageConsumer
from gateway_accounting.database import Database
from gateway_accounting.dead_letter import DeadLetterOffice
from gateway_accounting.grpc_server import AccountingServicer, GrpcServer
from gateway_accounting.metrics import AccountingMetrics
from gateway_accounting.settings import AccountingSettings
from gateway_accounting.usage_reader import UsageReader

log = logging.getLogger(__name__)

SERVICE = "accounting"
GRPC_GRACE_S = 5.0


def migrations_dir() -> Path:
    """The service's migration files: packaged in the wheel, or beside src/ in the repository."""
    packaged = Path(__file__).resolve().parent / "migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "migrations"


@dataclass
class State:
    """Everything the running service holds; built by `build_state`, run by the lifespan."""

    settings: AccountingSettings
    metrics: AccountingMetrics
    database: Database
    nats: NatsConnection
    consumer: UsageConsumer
    advisories: AdvisoryWatcher
    grpc: GrpcServer
    readiness: Readiness
    book: BudgetBook
    settler: BudgetSettler
    alerts: AlertDispatcher
    webhooks: WebhookSender
    counters: BudgetCounters | None


def build_state(settings: AccountingSettings) -> State:
    """Wire the service's parts together without connecting to anything."""
    metrics = AccountingMetrics()
    database = Database(
        settings.database_url,
        min_size=settings.accounting_db_pool_min,
        max_size=settings.accounting_db_pool_max,
        migrate=partial(_migrate, settings.database_url),
    )
    nats_conn = NatsConnection(
        settings.nats_url,
        name=f"accounting-{settings.instance_id or 'main'}",
        stream_replicas=settings.nats_stream_replicas,
    )
    office = DeadLetterOffice(nats_conn, database, metrics)
    book = BudgetBook()
    counters = BudgetCounters(connect_redis(settings.redis_url)) if settings.redis_url else None
    webhooks = WebhookSender(
        allow_private=settings.alert_webhook_allow_private,
        timeout_s=settings.alert_webhook_timeout_s,
        default_secret=settings.alert_webhook_secret,
    )
    senders: dict[str, AlertSender] = {"webhook": webhooks, "email": EmailSender(_smtp_options(settings))}
    alerts = AlertDispatcher(
        database,
        book,
        senders,
        RetryPolicy(attempts=settings.alert_max_attempts, first_delay_s=settings.alert_retry_delay_s),
        metrics,
    )
    settler = BudgetSettler(
        database,
        book,
        counters,
        alerts,
        metrics,
        refresh_s=settings.accounting_budget_refresh_s,
        reconcile_s=settings.accounting_budget_reconcile_s,
    )
    consumer = UsageConsumer(
        nats_conn,
        database,
        ConsumerOptions(
            batch_size=settings.accounting_batch_size,
            fetch_timeout_s=settings.accounting_fetch_timeout_s,
            ack_wait_s=settings.accounting_ack_wait_s,
            max_deliver=settings.accounting_max_deliver,
        ),
        metrics,
        office,
        on_stored=settler.submit,
        tracer=active_tracer("gateway_accounting.consumer"),
    )
    advisories = AdvisoryWatcher(
        nats_conn,
        database,
        office,
        metrics,
        usage_durable=DURABLE_NAME,
        fetch_timeout_s=settings.accounting_fetch_timeout_s,
    )
    grpc_server = GrpcServer(
        AccountingServicer(
            UsageReader(database),
            BudgetStatusReader(book, settler),
            AlertHistoryReader(database),
            ChannelChecker(database, senders),
        ),
        settings.accounting_host,
        settings.accounting_grpc_port,
    )
    readiness = Readiness()
    readiness.add("postgres", database.ping)
    readiness.add("nats", _flag(lambda: nats_conn.connected))
    readiness.add("consumer", _flag(lambda: consumer.running))
    return State(
        settings,
        metrics,
        database,
        nats_conn,
        consumer,
        advisories,
        grpc_server,
        readiness,
        book,
        settler,
        alerts,
        webhooks,
        counters,
    )


def _smtp_options(settings: AccountingSettings) -> SmtpOptions:
    return SmtpOptions(
        host=settings.alert_smtp_host,
        port=settings.alert_smtp_port,
        sender=settings.alert_smtp_from,
        username=settings.alert_smtp_username,
        password=settings.alert_smtp_password,
        security=settings.alert_smtp_security,
        timeout_s=settings.alert_smtp_timeout_s,
    )


async def _redis_ok(counters: BudgetCounters | None) -> bool | None:
    """Whether the budget counters' Redis answers (None: not configured). Not a readiness check:
    without Redis, budgets degrade and usage keeps flowing."""
    if counters is None:
        return None
    try:
        return await counters.ping()
    except REDIS_ERRORS:
        return False


async def _migrate(database_url: str) -> None:
    applied = await apply_migrations(database_url, SERVICE, migrations_dir())
    if applied:
        log.info("applied accounting migrations: %s", ", ".join(applied))


def _flag(read: Callable[[], bool]) -> Check:
    """A readiness check that reads an in-memory flag."""

    async def check() -> bool:
        return read()

    return check


@asynccontextmanager
async def _lifespan(state: State) -> AsyncIterator[None]:
    settings = state.settings
    log.info(
        "accounting starting",
        extra={"http_port": settings.accounting_port, "grpc_port": settings.accounting_grpc_port},
    )
    state.nats.start()
    try:
        async with asyncio.TaskGroup() as tasks:
            connect_db = tasks.create_task(state.database.run(), name="postgres-setup")
            consume = tasks.create_task(state.consumer.run(), name="usage-consumer")
            watch = tasks.create_task(state.advisories.run(), name="max-deliveries-watcher")
            settle = tasks.create_task(state.settler.run(), name="budget-settler")
            await state.grpc.start()
            try:
                yield
            finally:
                log.info("accounting stopping: draining gRPC calls and the batch in flight")
                await state.grpc.stop(GRPC_GRACE_S)
                connect_db.cancel()
                state.consumer.stop()
                state.advisories.stop()
                _, late = await asyncio.wait({consume, watch}, timeout=settings.accounting_shutdown_grace_s)
                if late:
                    log.warning("consumer did not finish its batch in time; it will be redelivered")
                    for task in late:
                        task.cancel()
                # After the consumer: the rows of its last batch are settled too.
                state.settler.stop()
                if not state.database.started:
                    settle.cancel()
                _, late = await asyncio.wait({settle}, timeout=settings.accounting_shutdown_grace_s)
                for task in late:
                    task.cancel()
                await state.alerts.close(settings.accounting_shutdown_grace_s)
    finally:
        await state.webhooks.close()
        if state.counters is not None:
            await state.counters.close()
        await state.nats.close()
        await state.database.close()
        log.info("accounting stopped")


def create_app(settings: AccountingSettings | None = None) -> Starlette:
    """The ASGI app (Granian's factory calls it without arguments and settings are loaded then).

    Given settings, the caller owns logging; without, settings come from the environment and
    JSON logging is configured here, because Granian's worker is a fresh process.
    """
    if settings is None:
        settings = load_settings(AccountingSettings)
        configure_logging(SERVICE, settings.log_level)
        configure_tracing(SERVICE, settings.otel_exporter_otlp_endpoint, grpc_server=True)
    state = build_state(settings)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> Response:
        checks = await state.readiness.evaluate()
        ready = all(checks.values())
        body: dict[str, object] = {"ready": ready, "checks": checks}
        if state.database.failure is not None:
            body["postgres_error"] = state.database.failure
        # Optional dependency: reported, never a reason to be unready.
        body["degraded"] = {"redis": await _redis_ok(state.counters)}
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics(request: Request) -> Response:
        payload, content_type = state.metrics.render()
        return PlainTextResponse(payload, media_type=content_type)

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lambda _app: _lifespan(state),
    )
    app.state.accounting = state
    return app
