"""Route payloads: a model alias and the deployments that serve it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from gateway_control.domain._types import MicroUsd, ModelName

# The strategies the data plane understands (gateway.v1.RoutingStrategy, publishing/snapshot.py).
Strategy = Literal["weighted", "least_busy", "lowest_latency", "lowest_cost"]
UpstreamModel = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^\S+$")]
Weight = Annotated[int, msgspec.Meta(ge=0, le=10_000)]
Priority = Annotated[int, msgspec.Meta(ge=0, le=1_000)]
# The provider account's own caps; bounded by the columns (integer, bigint) and JSON doubles.
RpmLimit = Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]
TpmLimit = Annotated[int, msgspec.Meta(gt=0, le=2**53)]
FallbackModels = Annotated[list[ModelName], msgspec.Meta(max_length=20)]


class DeploymentCost(msgspec.Struct, forbid_unknown_fields=True):
    """What the provider charges the operator for this deployment, micro-USD per million tokens.

    Used by the lowest-cost strategy only; clients are billed at the model's pricing. An unset
    cached-input price is the input price.
    """

    input_micro_usd_per_mtok: MicroUsd
    output_micro_usd_per_mtok: MicroUsd
    cached_input_micro_usd_per_mtok: MicroUsd | None = None


class DeploymentCreate(msgspec.Struct, forbid_unknown_fields=True):
    """One upstream for the model: a provider and the provider's own model name."""

    provider_id: uuid.UUID
    upstream_model: UpstreamModel
    weight: Weight = 1
    priority: Priority = 0
    rpm_limit: RpmLimit | None = None
    tpm_limit: TpmLimit | None = None
    cost: DeploymentCost | None = None


class RouteCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Route `model` to `deployments` (lower priority numbers are tried first)."""

    model: ModelName
    deployments: Annotated[list[DeploymentCreate], msgspec.Meta(min_length=1, max_length=100)]
    strategy: Strategy = "weighted"
    fallback_models: FallbackModels = []


class RouteUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a route; omitted fields stay. `fallback_models` replaces the whole list."""

    strategy: Strategy | None = None
    fallback_models: FallbackModels | None = None


class DeploymentUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a deployment; omitted fields stay.

    A limit of 0 removes the cap; `cost` replaces the whole cost and `clear_cost` removes it.
    """

    weight: Weight | None = None
    priority: Priority | None = None
    rpm_limit: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] | None = None
    tpm_limit: Annotated[int, msgspec.Meta(ge=0, le=2**53)] | None = None
    cost: DeploymentCost | None = None
    clear_cost: bool = False
    enabled: bool | None = None


class Deployment(msgspec.Struct):
    """A deployment as the API shows it."""

    id: uuid.UUID
    provider_id: uuid.UUID
    upstream_model: str
    weight: int
    priority: int
    rpm_limit: int | None
    tpm_limit: int | None
    cost: DeploymentCost | None
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
