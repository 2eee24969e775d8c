"""GET /v1/models and /v1/models/{id}: only what the key may use, in OpenAI's list format."""

from __future__ import annotations

from typing import TYPE_CHECKING

import openai
import pytest

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness


async def test_list_shows_every_model_to_an_unscoped_key(running: Harness) -> None:
    key, _ = await running.create_key()
    page = await running.client(key).models.list()
    names = [m.id for m in page.data]
    assert names == sorted(names)
    assert {"demo", "secret-model", "demo-drop"} <= set(names)
    model = next(m for m in page.data if m.id == "demo")
    assert (model.object, model.owned_by, model.created) == ("model", "test", 1_700_000_000)


async def test_list_and_retrieve_respect_the_key_scope(running: Harness) -> None:
    key, _ = await running.create_key(
        allowed_models=["demo", "demo-500"], tenant_models=["demo", "secret-model"]
    )
    client = running.client(key)
    page = await client.models.list()
    assert [m.id for m in page.data] == ["demo"]
    assert (await client.models.retrieve("demo")).id == "demo"
    with pytest.raises(openai.NotFoundError) as raised:
        await client.models.retrieve("secret-model")
    assert raised.value.response.json()["error"]["code"] == "model_not_found"


async def test_models_need_a_key(running: Harness) -> None:
    async with running.http() as http:
        response = await http.get("/v1/models")
    assert response.status_code == 401
