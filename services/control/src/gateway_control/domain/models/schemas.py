"""Model catalogue payloads; prices are integer micro-USD per million tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from gateway_control.domain._types import MicroUsd, ModelName

Capability = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_.-]*$")]


class Pricing(msgspec.Struct, forbid_unknown_fields=True):
    """Prices per million tokens; unset cached-input / reasoning prices charge as input / output."""

    input_micro_usd_per_mtok: MicroUsd
    output_micro_usd_per_mtok: MicroUsd
    cached_input_micro_usd_per_mtok: MicroUsd | None = None
    reasoning_micro_usd_per_mtok: MicroUsd | None = None


class ModelCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new model alias."""

    name: ModelName
    pricing: Pricing
    owned_by: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] = "gateway"
    context_window: Annotated[int, msgspec.Meta(gt=0, le=100_000_000)] | None = None
    capabilities: Annotated[list[Capability], msgspec.Meta(max_length=50)] = []


class ModelUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a model; omitted fields stay. `pricing` replaces all four prices."""

    pricing: Pricing | None = None
    owned_by: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    context_window: Annotated[int, msgspec.Meta(gt=0, le=100_000_000)] | None = None
    capabilities: Annotated[list[Capability], msgspec.Meta(max_length=50)] | None = None
    enabled: bool | None = None


class Model(msgspec.Struct):
    """A model as the API shows it."""

    id: uuid.UUID
    name: str
    owned_by: str
    context_window: int | None
    capabilities: list[str]
    pricing: Pricing
    enabled: bool
    created_at: datetime
    updated_at: datetime


class ModelList(msgspec.Struct):
    """Every model, by name."""

    items: list[Model]
