"""Request ids: a sane client-supplied one is kept, anything else is replaced."""

from __future__ import annotations

import re

import pytest
from gateway_proxy.context import choose_request_id


@pytest.mark.parametrize("value", ["abc", "req_123-ABC.x", "a" * 128])
def test_sane_ids_are_kept(value: str) -> None:
    assert choose_request_id(value) == value


@pytest.mark.parametrize("value", [None, "", "a" * 129, "has space", "semi;colon", "ünïcode", "new\nline"])
def test_other_ids_are_replaced_by_random_hex(value: str | None) -> None:
    chosen = choose_request_id(value)
    assert chosen != value
    assert re.fullmatch(r"[0-9a-f]{32}", chosen)
    assert choose_request_id(value) != chosen  # drawn afresh each time
