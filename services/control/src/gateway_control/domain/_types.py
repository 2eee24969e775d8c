"""Constrained field types shared by the request schemas of several contexts."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import Parameter

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")]
"""A display name: 1-200 characters, no leading or trailing whitespace."""

ModelName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$")
]
"""A model alias as clients send it in `model` (no spaces)."""

PageLimit = Annotated[int, Parameter(query="limit", ge=1, le=500, description="Page size")]
PageOffset = Annotated[int, Parameter(query="offset", ge=0, le=1_000_000, description="Items to skip")]

MicroUsd = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
"""Integer micro-USD (bounded well inside bigint and exact in JSON doubles)."""
