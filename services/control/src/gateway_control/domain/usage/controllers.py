"""HTTP routes of the usage context."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import Parameter

from gateway_control.domain.usage.schemas import UsageSummary
from gateway_control.domain.usage.services import UsageService
from gateway_control.state import ControlState


def provide_usage_service(control: ControlState) -> UsageService:
    """A UsageService over the app's accounting client."""
    return UsageService(control.accounting)


class UsageController(Controller):
    """Usage totals (served by the accounting service)."""

    path = "/usage"
    tags = ["usage"]
    dependencies = {"usage": Provide(provide_usage_service, sync_to_thread=False)}

    @get("/summary", operation_id="getUsageSummary", summary="Usage totals")
    async def get_usage_summary(
        self,
        usage: UsageService,
        tenant_id: uuid.UUID | None = None,
        key_id: uuid.UUID | None = None,
        start: Annotated[datetime | None, Parameter(description="Inclusive start, with UTC offset")] = None,
        end: Annotated[datetime | None, Parameter(description="Exclusive end, with UTC offset")] = None,
        timezone: Annotated[
            str | None, Parameter(max_length=64, description="IANA zone days are cut in, e.g. Europe/Paris")
        ] = None,
    ) -> UsageSummary:
        """Requests, tokens, cost (integer micro-USD) and errors; 503 when accounting is down."""
        return await usage.summary(
            tenant_id=tenant_id, key_id=key_id, start=start, end=end, timezone=timezone
        )
