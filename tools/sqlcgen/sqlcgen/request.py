"""The part of sqlc's GenerateRequest the generator reads, parsed from its JSON form.

sqlc's process plugin protocol (``format: json``) writes the protobuf message
``plugin.GenerateRequest`` (sqlc's ``protos/plugin/codegen.proto``) to the plugin's stdin in
protojson form: ``settings``, ``catalog`` (every schema sqlc derived from the migrations),
``queries`` (each with its SQL rewritten to ``$1``-style placeholders, its result columns and
its parameters), ``sqlc_version`` and ``plugin_options`` (the ``options`` mapping of the
codegen entry, JSON-encoded then base64-encoded as protobuf ``bytes`` are in protojson).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass


class RequestError(ValueError):
    """The request does not have the shape this generator understands."""


@dataclass(frozen=True, slots=True)
class TypeName:
    """A Postgres type as sqlc names it: ``schema`` is often empty, sometimes ``pg_catalog``."""

    schema: str
    name: str


@dataclass(frozen=True, slots=True)
class Column:
    """A result column, table column or parameter as sqlc describes it."""

    name: str
    not_null: bool
    is_array: bool
    array_dims: int
    type: TypeName
    table_schema: str | None
    table_name: str | None
    embeds_table: bool


@dataclass(frozen=True, slots=True)
class Parameter:
    """A query parameter: its ``$number`` in the rewritten SQL and what sqlc inferred for it."""

    number: int
    column: Column


@dataclass(frozen=True, slots=True)
class Query:
    """One annotated query from a queries file."""

    name: str
    cmd: str
    text: str
    filename: str
    comments: tuple[str, ...]
    columns: tuple[Column, ...]
    params: tuple[Parameter, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A table of the catalog, with its columns in declaration order."""

    schema: str
    name: str
    columns: tuple[Column, ...]


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    """What the generator needs from one sqlc codegen invocation."""

    sqlc_version: str
    schema_paths: tuple[str, ...]
    queries_paths: tuple[str, ...]
    tables: tuple[Table, ...]
    queries: tuple[Query, ...]
    options: Mapping[str, str]


def _obj(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise RequestError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _list(value: object, where: str) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RequestError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _str(value: object, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RequestError(f"{where}: expected a string, got {type(value).__name__}")
    return value


def _int(value: object, where: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(f"{where}: expected an integer, got {type(value).__name__}")
    return value


def _parse_column(raw: object, where: str) -> Column:
    data = _obj(raw, where)
    type_data = _obj(data.get("type") or {}, f"{where}.type")
    table_raw = data.get("table")
    table = _obj(table_raw, f"{where}.table") if table_raw else None
    return Column(
        name=_str(data.get("name"), f"{where}.name"),
        not_null=bool(data.get("not_null")),
        is_array=bool(data.get("is_array")),
        array_dims=_int(data.get("array_dims"), f"{where}.array_dims"),
        type=TypeName(
            schema=_str(type_data.get("schema"), f"{where}.type.schema"),
            name=_str(type_data.get("name"), f"{where}.type.name"),
        ),
        table_schema=_str(table.get("schema"), f"{where}.table.schema") if table else None,
        table_name=_str(table.get("name"), f"{where}.table.name") if table else None,
        embeds_table=bool(data.get("embed_table")),
    )


def _parse_query(raw: object, index: int) -> Query:
    where = f"queries[{index}]"
    data = _obj(raw, where)
    return Query(
        name=_str(data.get("name"), f"{where}.name"),
        cmd=_str(data.get("cmd"), f"{where}.cmd"),
        text=_str(data.get("text"), f"{where}.text"),
        filename=_str(data.get("filename"), f"{where}.filename"),
        comments=tuple(
            _str(c, f"{where}.comments[{i}]") for i, c in enumerate(_list(data.get("comments"), where))
        ),
        columns=tuple(
            _parse_column(c, f"{where}.columns[{i}]") for i, c in enumerate(_list(data.get("columns"), where))
        ),
        params=tuple(
            Parameter(
                number=_int(_obj(p, f"{where}.params[{i}]").get("number"), f"{where}.params[{i}].number"),
                column=_parse_column(_obj(p, f"{where}.params[{i}]").get("column"), f"{where}.params[{i}]"),
            )
            for i, p in enumerate(_list(data.get("params"), where))
        ),
    )


def _parse_tables(catalog: Mapping[str, object]) -> tuple[Table, ...]:
    tables: list[Table] = []
    for s_index, raw_schema in enumerate(_list(catalog.get("schemas"), "catalog.schemas")):
        schema = _obj(raw_schema, f"catalog.schemas[{s_index}]")
        schema_name = _str(schema.get("name"), f"catalog.schemas[{s_index}].name")
        for t_index, raw_table in enumerate(_list(schema.get("tables"), f"catalog.schemas[{s_index}]")):
            where = f"catalog.schemas[{s_index}].tables[{t_index}]"
            table = _obj(raw_table, where)
            rel = _obj(table.get("rel"), f"{where}.rel")
            columns = tuple(
                _parse_column(c, f"{where}.columns[{i}]")
                for i, c in enumerate(_list(table.get("columns"), where))
            )
            tables.append(
                Table(schema=schema_name, name=_str(rel.get("name"), f"{where}.rel.name"), columns=columns)
            )
    return tuple(tables)


def _parse_options(encoded: str) -> dict[str, str]:
    if not encoded:
        return {}
    try:
        decoded = json.loads(base64.b64decode(encoded))
    except ValueError as exc:
        raise RequestError(f"plugin_options is not base64-encoded JSON: {exc}") from exc
    options = _obj(decoded, "plugin_options")
    return {key: _str(value, f"plugin_options.{key}") for key, value in options.items()}


def parse_request(raw: bytes) -> GenerateRequest:
    """Parse the JSON GenerateRequest sqlc wrote to stdin into typed, immutable values."""
    try:
        data = _obj(json.loads(raw), "request")
    except ValueError as exc:
        raise RequestError(f"stdin is not JSON (is the plugin configured with format: json?): {exc}") from exc
    settings = _obj(data.get("settings") or {}, "settings")
    return GenerateRequest(
        sqlc_version=_str(data.get("sqlc_version"), "sqlc_version"),
        schema_paths=tuple(
            _str(q, f"settings.schema[{i}]") for i, q in enumerate(_list(settings.get("schema"), "settings"))
        ),
        queries_paths=tuple(
            _str(q, f"settings.queries[{i}]")
            for i, q in enumerate(_list(settings.get("queries"), "settings"))
        ),
        tables=_parse_tables(_obj(data.get("catalog") or {}, "catalog")),
        queries=tuple(_parse_query(q, i) for i, q in enumerate(_list(data.get("queries"), "queries"))),
        options=_parse_options(_str(data.get("plugin_options"), "plugin_options")),
    )


def encode_response(files: Mapping[str, str]) -> bytes:
    """Encode a GenerateResponse (``files``: name and base64 ``contents``) as sqlc reads it."""
    payload = {
        "files": [
            {"name": name, "contents": base64.b64encode(contents.encode()).decode("ascii")}
            for name, contents in sorted(files.items())
        ]
    }
    return json.dumps(payload).encode()
