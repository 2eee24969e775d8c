"""Model rows in Postgres, through the sqlc-generated queries."""

from __future__ import annotations

import uuid

from gateway_control.database import Connection
from gateway_control.db import models as queries
from gateway_control.db.tables import Model
from gateway_control.domain.models.schemas import ModelCreate, ModelUpdate
from gateway_control.errors import NotFoundError


class ModelRepository:
    """Model queries on one connection; a missing model raises NotFoundError."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create(self, data: ModelCreate) -> Model:
        """Insert a model with its prices."""
        row = await queries.create_model(
            self._conn,
            name=data.name,
            owned_by=data.owned_by,
            capabilities=sorted(set(data.capabilities)),
            context_window=data.context_window,
            input_price_micro_usd_per_mtok=data.pricing.input_micro_usd_per_mtok,
            output_price_micro_usd_per_mtok=data.pricing.output_micro_usd_per_mtok,
            cached_input_price_micro_usd_per_mtok=data.pricing.cached_input_micro_usd_per_mtok,
            reasoning_price_micro_usd_per_mtok=data.pricing.reasoning_micro_usd_per_mtok,
            sync_timeout_ms=None,
            stream_idle_timeout_ms=None,
            total_timeout_ms=None,
            upstream_timeout_ms=None,
            enabled=True,
        )
        if row is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return row

    async def update(self, row: Model, data: ModelUpdate) -> Model:
        """Apply a ModelUpdate to `row` (pricing, then descriptive fields)."""
        if data.pricing is not None:
            priced = await queries.update_model_pricing(
                self._conn,
                id=row.id,
                input_price_micro_usd_per_mtok=data.pricing.input_micro_usd_per_mtok,
                output_price_micro_usd_per_mtok=data.pricing.output_micro_usd_per_mtok,
                cached_input_price_micro_usd_per_mtok=data.pricing.cached_input_micro_usd_per_mtok,
                reasoning_price_micro_usd_per_mtok=data.pricing.reasoning_micro_usd_per_mtok,
            )
            row = priced or row
        updated = await queries.update_model_details(
            self._conn,
            id=row.id,
            owned_by=row.owned_by if data.owned_by is None else data.owned_by,
            capabilities=row.capabilities if data.capabilities is None else sorted(set(data.capabilities)),
            context_window=row.context_window if data.context_window is None else data.context_window,
            enabled=row.enabled if data.enabled is None else data.enabled,
        )
        if updated is None:
            raise NotFoundError(f"model {row.id} does not exist")
        return updated

    async def get(self, model_id: uuid.UUID) -> Model:
        """The model with this id."""
        row = await queries.get_model(self._conn, id=model_id)
        if row is None:
            raise NotFoundError(f"model {model_id} does not exist")
        return row

    async def find_by_name(self, name: str) -> Model | None:
        """The model called `name`, if any."""
        return await queries.get_model_by_name(self._conn, name=name)

    async def list(self) -> list[Model]:
        """Every model by name."""
        return await queries.list_models(self._conn)
