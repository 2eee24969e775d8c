"""`AccountingService` over gRPC (grpc.aio, on the app's event loop), used by control.

Summaries and breakdowns are answered from the hourly rollup, the request log from the usage
table (see `usage_reader`), budget status from Postgres (`budgets/status.py`), the alert history
from `accounting.alert_deliveries` (`alert_history.py`), test alerts by `alerts/channel_check.py`.
Errors map to status codes in one place, `_answer`:
InvalidQuery -> INVALID_ARGUMENT (UNIMPLEMENTED for what is valid but not supported yet),
ChannelNotFound -> NOT_FOUND, control's tables not in this database -> FAILED_PRECONDITION,
Postgres unreachable -> UNAVAILABLE, anything else -> INTERNAL with the traceback logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import grpc
from gateway_proto.v1 import accounting_pb2, accounting_pb2_grpc

from gateway_accounting.alert_history import AlertHistoryReader
from gateway_accounting.alerts.channel_check import ChannelChecker, ChannelNotFound
from gateway_accounting.budgets.control_catalog import ControlSchemaMissing
from gateway_accounting.budgets.status import BudgetStatusReader
from gateway_accounting.errors import InvalidQuery, is_transient_db_error
from gateway_accounting.usage_query import UnsupportedQuery, parse_filter
from gateway_accounting.usage_reader import UsageReader

log = logging.getLogger(__name__)

T = TypeVar("T")
Context = grpc.aio.ServicerContext[object, object]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def _now() -> datetime:
    return datetime.now(UTC)


class AccountingServicer(accounting_pb2_grpc.AccountingServiceServicer):
    """Usage queries, budget status, the alert history and test alerts."""

    def __init__(
        self,
        reader: UsageReader,
        budgets: BudgetStatusReader,
        alerts: AlertHistoryReader,
        checker: ChannelChecker,
    ) -> None:
        self._reader = reader
        self._budgets = budgets
        self._alerts = alerts
        self._checker = checker

    async def GetUsageSummary(
        self, request: accounting_pb2.GetUsageSummaryRequest, context: Context
    ) -> accounting_pb2.GetUsageSummaryResponse:
        async def answer() -> accounting_pb2.GetUsageSummaryResponse:
            totals = await self._reader.summary(parse_filter(request.filter, _now()))
            return accounting_pb2.GetUsageSummaryResponse(totals=totals)

        return await _answer(context, "GetUsageSummary", answer)

    async def GetUsageBreakdown(
        self, request: accounting_pb2.GetUsageBreakdownRequest, context: Context
    ) -> accounting_pb2.GetUsageBreakdownResponse:
        async def answer() -> accounting_pb2.GetUsageBreakdownResponse:
            query = parse_filter(request.filter, _now())
            groups = await self._reader.breakdown(query, request.group_by)
            return accounting_pb2.GetUsageBreakdownResponse(groups=groups)

        return await _answer(context, "GetUsageBreakdown", answer)

    async def ListRequests(
        self, request: accounting_pb2.ListRequestsRequest, context: Context
    ) -> accounting_pb2.ListRequestsResponse:
        async def answer() -> accounting_pb2.ListRequestsResponse:
            page_size = _page_size(request.page_size)
            query = parse_filter(request.filter, _now())
            records, token = await self._reader.list_requests(query, page_size, request.page_token)
            return accounting_pb2.ListRequestsResponse(requests=records, next_page_token=token)

        return await _answer(context, "ListRequests", answer)

    async def GetBudgetStatus(
        self, request: accounting_pb2.GetBudgetStatusRequest, context: Context
    ) -> accounting_pb2.GetBudgetStatusResponse:
        async def answer() -> accounting_pb2.GetBudgetStatusResponse:
            states = await self._budgets.states(request.scope_id)
            return accounting_pb2.GetBudgetStatusResponse(budgets=states)

        return await _answer(context, "GetBudgetStatus", answer)

    async def ListAlerts(
        self, request: accounting_pb2.ListAlertsRequest, context: Context
    ) -> accounting_pb2.ListAlertsResponse:
        async def answer() -> accounting_pb2.ListAlertsResponse:
            alerts, token = await self._alerts.page(request, _page_size(request.page_size))
            return accounting_pb2.ListAlertsResponse(alerts=alerts, next_page_token=token)

        return await _answer(context, "ListAlerts", answer)

    async def SendTestAlert(
        self, request: accounting_pb2.SendTestAlertRequest, context: Context
    ) -> accounting_pb2.SendTestAlertResponse:
        async def answer() -> accounting_pb2.SendTestAlertResponse:
            result = await self._checker.send_test_alert(request.channel_id)
            return accounting_pb2.SendTestAlertResponse(delivered=result.delivered, error=result.error)

        return await _answer(context, "SendTestAlert", answer)


def _page_size(requested: int) -> int:
    """The page size to use: the default for 0, at most MAX_PAGE_SIZE; negative is invalid."""
    if requested < 0:
        raise InvalidQuery("page_size must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


async def _answer(context: Context, method: str, answer: Callable[[], Awaitable[T]]) -> T:
    """Run `answer`, turning our errors into gRPC status codes."""
    try:
        return await answer()
    except UnsupportedQuery as exc:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, str(exc))
    except InvalidQuery as exc:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
    except ChannelNotFound as exc:
        await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
    except ControlSchemaMissing:
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "control's tables are not in this database")
    except Exception as exc:
        if is_transient_db_error(exc):
            log.warning("%s: Postgres unavailable: %s", method, exc)
            await context.abort(grpc.StatusCode.UNAVAILABLE, "usage store unavailable, retry later")
        log.exception("%s failed", method)
        await context.abort(grpc.StatusCode.INTERNAL, "internal error")


class GrpcServer:
    """The grpc.aio server of one process, bound once to host:port."""

    def __init__(self, servicer: AccountingServicer, host: str, port: int) -> None:
        # gRPC enables SO_REUSEPORT by default, which would let a second process bind the same
        # port and silently take half the calls; one process per port is the contract here.
        self._server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        accounting_pb2_grpc.add_AccountingServiceServicer_to_server(servicer, self._server)
        self.address = f"{host}:{port}"
        self._bound = False

    async def start(self) -> None:
        """Bind and start serving; raises when the port cannot be bound."""
        try:
            bound = self._server.add_insecure_port(self.address)
        except RuntimeError as exc:
            raise OSError(f"cannot bind gRPC on {self.address}: {exc}") from exc
        if bound == 0:
            raise OSError(f"cannot bind gRPC on {self.address}")
        await self._server.start()
        self._bound = True
        log.info("gRPC AccountingService listening on %s", self.address)

    async def stop(self, grace_s: float) -> None:
        """Refuse new calls and give running ones `grace_s` seconds to finish."""
        if self._bound:
            await self._server.stop(grace_s)
