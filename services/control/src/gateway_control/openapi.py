"""The OpenAPI document: its config, and every error response described as control sends it.

Litestar documents validation failures with its own `{status_code, detail, extra}` body, but
control renders every error as `{"error": {code, message, details, request_id}}` (errors.py).
`document_errors` rewrites the built document so each documented error status — and a
`default` response covering the others (401, 404, 409, 422, 429, 503...) — names that shape,
which generated clients and schemathesis' response-schema check then rely on.

Every request body struct forbids unknown fields (`forbid_unknown_fields=True`, a 400), which
Litestar does not express; `forbid_extra_request_fields` adds `additionalProperties: false`
to them so the document says what the service enforces.
"""

from __future__ import annotations

from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
    SecurityScheme,
)

SECURITY_SCHEME = "BearerToken"
ERROR_SCHEMA = "ErrorResponse"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def openapi_config() -> OpenAPIConfig:
    """Title, version, path (/schema) and the bearer security scheme."""
    return OpenAPIConfig(
        title="Open Model Gateway control API",
        version="1.0.0",
        path="/schema",
        components=Components(
            security_schemes={
                SECURITY_SCHEME: SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
            }
        ),
        use_handler_docstrings=True,
    )


def _error_schema() -> Schema:
    nullable_string = Schema(type=[OpenAPIType.STRING, OpenAPIType.NULL])
    body = Schema(
        type=OpenAPIType.OBJECT,
        required=["code", "message", "details", "request_id"],
        properties={
            "code": Schema(type=OpenAPIType.STRING, description="Stable machine-readable error code"),
            "message": Schema(type=OpenAPIType.STRING),
            "details": Schema(description="Extra context (a parameter name, validation errors) or null"),
            "request_id": nullable_string,
        },
    )
    return Schema(type=OpenAPIType.OBJECT, required=["error"], properties={"error": body})


def _error_response(description: str) -> OpenAPIResponse:
    content = {"application/json": OpenAPIMediaType(schema=Reference(f"#/components/schemas/{ERROR_SCHEMA}"))}
    return OpenAPIResponse(description=description, content=content)


def _operations(openapi: OpenAPI) -> list[Operation]:
    found: list[Operation] = []
    for item in (openapi.paths or {}).values():
        for method in _METHODS:
            operation = getattr(item, method, None)
            if isinstance(operation, Operation):
                found.append(operation)
    return found


def document_errors(openapi: OpenAPI) -> None:
    """Point every error response of every operation at the ErrorResponse component (in place)."""
    if openapi.components.schemas is None:
        openapi.components.schemas = {}
    openapi.components.schemas[ERROR_SCHEMA] = _error_schema()
    for operation in _operations(openapi):
        responses = operation.responses if operation.responses is not None else {}
        for status, response in list(responses.items()):
            if status[0] in "45":
                description = response.description if isinstance(response, OpenAPIResponse) else "Error"
                responses[status] = _error_response(description)
        responses.setdefault("default", _error_response("Error (see the `code` for which)"))
        operation.responses = responses


def _refs(schema: object) -> list[str]:
    """Component names referenced anywhere inside `schema`."""
    if isinstance(schema, Reference):
        return [schema.ref.rsplit("/", 1)[-1]]
    if not isinstance(schema, Schema):
        return []
    nested: list[object] = [schema.items, schema.additional_properties]
    nested += list((schema.properties or {}).values())
    nested += list(schema.one_of or []) + list(schema.any_of or []) + list(schema.all_of or [])
    return [name for child in nested for name in _refs(child)]


def forbid_extra_request_fields(openapi: OpenAPI) -> None:
    """Mark every component reachable from a request body as `additionalProperties: false` (in place)."""
    components = openapi.components.schemas or {}
    pending: list[str] = []
    for operation in _operations(openapi):
        body = operation.request_body
        if body is not None and not isinstance(body, Reference):
            pending += [name for media in (body.content or {}).values() for name in _refs(media.schema)]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        component = components.get(name)
        if name in seen or not isinstance(component, Schema):
            continue
        seen.add(name)
        if component.properties is not None:
            component.additional_properties = False
        pending += _refs(component)
