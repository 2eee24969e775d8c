"""Route payloads: a model alias and the deployments that serve it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from gateway_control.domain._types import ModelName

# The strategies the data plane understands (gateway.v1.RoutingStrategy).
Strategy = Literal["weighted", "least_busy", "lowest_latency"]
UpstreamModel = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^\S+$")]


class DeploymentCreate(msgspec.Struct, forbid_unknown_fields=True):
    """One upstream for the model: a provider and the provider's own model name."""

    provider_id: uuid.UUID
    upstream_model: UpstreamModel
    weight: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 1
    priority: Annotated[int, msgspec.Meta(ge=0, le=1_000)] = 0


class RouteCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Route `model` to `deployments` (lower priority numbers are tried first)."""

    model: ModelName
    deployments: Annotated[list[DeploymentCreate], msgspec.Meta(min_length=1, max_length=100)]
    strategy: Strategy = "weighted"
    fallback_models: Annotated[list[ModelName], msgspec.Meta(max_length=20)] = []


class Deployment(msgspec.Struct):
    """A deployment as the API shows it."""

    id: uuid.UUID
    provider_id: uuid.UUID
    upstream_model: str
    weight: int
    priority: int
    enabled: bool


class Route(msgspec.Struct):
    """A route with its deployments."""

    id: uuid.UUID
    model: str
    model_id: uuid.UUID
    strategy: str
    fallback_models: list[str]
    deployments: list[Deployment]
    created_at: datetime


class RouteList(msgspec.Struct):
    """Every route, by model name."""

    items: list[Route]
