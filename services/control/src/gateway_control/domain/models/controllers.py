"""HTTP routes of the models context."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.di import Provide

from gateway_control.domain.audit.services import Actor
from gateway_control.domain.models.schemas import Model, ModelCreate, ModelList, ModelUpdate
from gateway_control.domain.models.services import ModelService
from gateway_control.security.guards import require_platform_admin
from gateway_control.state import ControlState


def provide_model_service(control: ControlState) -> ModelService:
    """A ModelService over the app's database and publisher."""
    return ModelService(control.db, control.publisher)


class ModelController(Controller):
    """The model catalogue."""

    path = "/models"
    tags = ["models"]
    guards = [require_platform_admin]
    dependencies = {"models": Provide(provide_model_service, sync_to_thread=False)}

    @post("/", operation_id="createModel", summary="Create a model")
    async def create_model(self, models: ModelService, actor: Actor, data: ModelCreate) -> Model:
        """Add a model alias with its prices (integer micro-USD per million tokens)."""
        return await models.create(actor, data)

    @get("/", operation_id="listModels", summary="List models")
    async def list_models(self, models: ModelService) -> ModelList:
        """Every model by name."""
        return await models.list()

    @get("/{model_id:uuid}", operation_id="getModel", summary="Get a model")
    async def get_model(self, models: ModelService, model_id: uuid.UUID) -> Model:
        """One model by id."""
        return await models.get(model_id)

    @patch("/{model_id:uuid}", operation_id="updateModel", summary="Change a model")
    async def update_model(
        self, models: ModelService, actor: Actor, model_id: uuid.UUID, data: ModelUpdate
    ) -> Model:
        """Prices (integer micro-USD per million tokens), details, enabled flag."""
        return await models.update(actor, model_id, data)
