"""The OpenAPI rewrites: control's error shape everywhere, request bodies closed to extra fields."""

from __future__ import annotations

import msgspec
from gateway_control.openapi import ERROR_SCHEMA, document_errors, forbid_extra_request_fields
from litestar import Litestar, get, post
from litestar.params import JSONBody


class Inner(msgspec.Struct, forbid_unknown_fields=True):
    value: int


class Body(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    inner: Inner


class Reply(msgspec.Struct):
    name: str


@post("/things", sync_to_thread=False)
def create_thing(data: JSONBody[Body]) -> Reply:
    return Reply(name=data.name)


@get("/things", sync_to_thread=False)
def list_things() -> list[Reply]:
    return [Reply(name="one")]


def test_errors_and_request_bodies_are_rewritten() -> None:
    app = Litestar(route_handlers=[create_thing, list_things])
    openapi = app.openapi_schema
    document_errors(openapi)
    forbid_extra_request_fields(openapi)
    schema = openapi.to_schema()
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    post_responses = schema["paths"]["/things"]["post"]["responses"]
    assert post_responses["400"]["content"]["application/json"]["schema"] == ref
    assert post_responses["default"]["content"]["application/json"]["schema"] == ref
    assert "201" in post_responses
    get_responses = schema["paths"]["/things"]["get"]["responses"]
    assert get_responses["default"]["content"]["application/json"]["schema"] == ref
    error = schema["components"]["schemas"][ERROR_SCHEMA]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "details", "request_id"]
    components = schema["components"]["schemas"]
    body_name = next(name for name in components if name.endswith("Body"))
    inner_name = next(name for name in components if name.endswith("Inner"))
    reply_name = next(name for name in components if name.endswith("Reply"))
    assert components[body_name]["additionalProperties"] is False
    assert components[inner_name]["additionalProperties"] is False  # reached through the body
    assert "additionalProperties" not in components[reply_name]  # responses are left open
