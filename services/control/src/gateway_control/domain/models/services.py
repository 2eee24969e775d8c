"""Model use cases: create, change, list, read. Every change triggers a new config snapshot."""

from __future__ import annotations

import uuid

from gateway_control.database import Database
from gateway_control.db.tables import Model as ModelRow
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.models.repositories import ModelRepository
from gateway_control.domain.models.schemas import Model, ModelCreate, ModelList, ModelUpdate, Pricing
from gateway_control.publishing.publisher import ConfigPublisher


def to_model(row: ModelRow) -> Model:
    """The API view of a model row (prices exactly as configured; unset ones stay null)."""
    return Model(
        id=row.id,
        name=row.name,
        owned_by=row.owned_by,
        context_window=row.context_window,
        capabilities=row.capabilities,
        pricing=Pricing(
            input_micro_usd_per_mtok=row.input_price_micro_usd_per_mtok,
            output_micro_usd_per_mtok=row.output_price_micro_usd_per_mtok,
            cached_input_micro_usd_per_mtok=row.cached_input_price_micro_usd_per_mtok,
            reasoning_micro_usd_per_mtok=row.reasoning_price_micro_usd_per_mtok,
        ),
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class ModelService:
    """Model catalogue operations."""

    def __init__(self, db: Database, publisher: ConfigPublisher) -> None:
        self._db = db
        self._publisher = publisher

    async def create(self, actor: Actor, data: ModelCreate) -> Model:
        """Add a model to the catalogue; 409 when the name is taken."""
        async with self._db.transaction() as conn:
            model = to_model(await ModelRepository(conn).create(data))
            await record(conn, actor, "model.create", "model", model.id, after=model)
        self._publisher.request("model.create")
        return model

    async def update(self, actor: Actor, model_id: uuid.UUID, data: ModelUpdate) -> Model:
        """Change a model's prices or details; the proxy prices requests with them within a second."""
        async with self._db.transaction() as conn:
            repo = ModelRepository(conn)
            row = await repo.get(model_id)
            after = to_model(await repo.update(row, data))
            await record(conn, actor, "model.update", "model", model_id, before=to_model(row), after=after)
        self._publisher.request("model.update")
        return after

    async def list(self) -> ModelList:
        """Every model by name."""
        async with self._db.connection() as conn:
            rows = await ModelRepository(conn).list()
        return ModelList(items=[to_model(r) for r in rows])

    async def get(self, model_id: uuid.UUID) -> Model:
        """One model by id."""
        async with self._db.connection() as conn:
            return to_model(await ModelRepository(conn).get(model_id))
