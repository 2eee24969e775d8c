"""From sqlc's request to what gets generated: row classes, functions, modules.

sqlc infers nullability well for table columns but not for expressions (every function
call and cast is reported NOT NULL), and it has no notion of NULL array elements. A query
can correct both with a directive line among its leading comments::

    -- sqlcgen: nullable=ip,last_seen nullable_elements=user_ids

``nullable`` names result columns that may be NULL; ``nullable_elements`` names array
parameters whose elements may be NULL. Directive lines are left out of the docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from . import naming
from .pgtypes import JSON_TYPES, PyType, UnsupportedTypeError, base_type_name, column_type
from .request import Column, GenerateRequest, Query, Table

DIRECTIVE_PREFIX = "sqlcgen:"
SUPPORTED_COMMANDS = frozenset({":one", ":many", ":exec", ":execrows"})
# Modules the generator writes besides one per queries file.
RESERVED_MODULES = frozenset({"__init__", "tables", "connection"})
# Locals of the generated functions, which parameters must not shadow.
RESERVED_PARAMS = frozenset({"conn", "cur", "record", "records", "scalar", "tag"})


class ModelError(ValueError):
    """A query cannot be turned into a typed function."""


@dataclass(frozen=True, slots=True)
class Field:
    """A field of a row dataclass."""

    name: str
    type: PyType


@dataclass(frozen=True, slots=True)
class RowClass:
    """A frozen dataclass for a table's rows or a query's result rows."""

    name: str
    doc: str
    fields: tuple[Field, ...]
    module: str


@dataclass(frozen=True, slots=True)
class Param:
    """A keyword-only parameter of a generated function, bound to ``$number``."""

    name: str
    number: int
    type: PyType
    is_json: bool
    nullable: bool


@dataclass(frozen=True, slots=True)
class Function:
    """One generated function: its SQL, its parameters and what it returns."""

    name: str
    constant: str
    cmd: str
    doc: tuple[str, ...]
    sql: str
    params: tuple[Param, ...]
    row: RowClass | None
    scalar: PyType | None


@dataclass(frozen=True, slots=True)
class Module:
    """The module generated from one queries file."""

    name: str
    source: str
    functions: tuple[Function, ...]
    rows: tuple[RowClass, ...]


@dataclass(frozen=True, slots=True)
class Package:
    """Everything generated for one sqlc ``sql`` entry."""

    schema: str
    source_dir: str
    tables: tuple[RowClass, ...]
    modules: tuple[Module, ...]


@dataclass(frozen=True, slots=True)
class _Directives:
    nullable: frozenset[str]
    nullable_elements: frozenset[str]


def _split_comments(query: Query) -> tuple[tuple[str, ...], _Directives]:
    doc: list[str] = []
    values: dict[str, set[str]] = {"nullable": set(), "nullable_elements": set()}
    for comment in query.comments:
        text = comment.strip()
        if not text.startswith(DIRECTIVE_PREFIX):
            doc.append(text)
            continue
        for item in text.removeprefix(DIRECTIVE_PREFIX).split():
            key, _, raw = item.partition("=")
            if key not in values or not raw:
                raise ModelError(
                    f"{query.name}: unknown directive {item!r} (known: nullable=, nullable_elements=)"
                )
            values[key].update(name for name in raw.split(",") if name)
    directives = _Directives(frozenset(values["nullable"]), frozenset(values["nullable_elements"]))
    return tuple(doc), directives


def _table_row(table: Table, json_type: PyType) -> RowClass:
    names = naming.unique([naming.identifier(c.name) for c in table.columns])
    fields = []
    for name, column in zip(names, table.columns, strict=True):
        try:
            annotation = column_type(column, json_type, nullable=not column.not_null, nullable_elements=False)
        except UnsupportedTypeError as exc:
            raise ModelError(f"table {table.schema}.{table.name} column {column.name}: {exc}") from exc
        fields.append(Field(name, annotation))
    return RowClass(
        name=naming.pascal_case(naming.singular(table.name)),
        doc=f"A row of {table.schema}.{table.name}.",
        fields=tuple(fields),
        module="tables",
    )


def _result_fields(query: Query, directives: _Directives, json_type: PyType) -> tuple[Field, ...]:
    unknown = directives.nullable - {c.name for c in query.columns}
    if unknown:
        raise ModelError(f"{query.name}: nullable= names no result column: {sorted(unknown)}")
    names = naming.unique([naming.identifier(c.name) for c in query.columns])
    fields = []
    for name, column in zip(names, query.columns, strict=True):
        if column.embeds_table:
            raise ModelError(f"{query.name}: sqlc.embed() is not supported")
        nullable = not column.not_null or column.name in directives.nullable
        try:
            annotation = column_type(column, json_type, nullable=nullable, nullable_elements=False)
        except UnsupportedTypeError as exc:
            raise ModelError(f"{query.name} column {column.name}: {exc}") from exc
        fields.append(Field(name, annotation))
    return tuple(fields)


def _params(query: Query, directives: _Directives, json_type: PyType) -> tuple[Param, ...]:
    ordered = sorted(query.params, key=lambda p: p.number)
    unknown = directives.nullable_elements - {p.column.name for p in ordered if p.column.is_array}
    if unknown:
        raise ModelError(f"{query.name}: nullable_elements= names no array parameter: {sorted(unknown)}")
    names = naming.unique(
        [naming.identifier(p.column.name or f"p{p.number}", RESERVED_PARAMS) for p in ordered]
    )
    params = []
    for name, param in zip(names, ordered, strict=True):
        column: Column = param.column
        try:
            annotation = column_type(
                column,
                json_type,
                nullable=not column.not_null,
                nullable_elements=column.name in directives.nullable_elements,
            )
        except UnsupportedTypeError as exc:
            raise ModelError(f"{query.name} parameter {column.name or param.number}: {exc}") from exc
        is_json = base_type_name(column) in JSON_TYPES and not column.is_array
        params.append(Param(name, param.number, annotation, is_json, not column.not_null))
    return tuple(params)


def _matching_table_row(
    query: Query, fields: tuple[Field, ...], tables: dict[str, RowClass]
) -> RowClass | None:
    """The table's row class when the query returns exactly a whole table row (``RETURNING *``)."""
    sources = {(c.table_schema, c.table_name) for c in query.columns}
    if len(sources) != 1:
        return None
    ((_, table_name),) = sources
    row = tables.get(table_name or "")
    return row if row is not None and row.fields == fields else None


def _function(query: Query, tables: dict[str, RowClass], module: str, json_type: PyType) -> Function:
    if query.cmd not in SUPPORTED_COMMANDS:
        raise ModelError(
            f"{query.name}: {query.cmd} is not supported (use {', '.join(sorted(SUPPORTED_COMMANDS))})"
        )
    doc, directives = _split_comments(query)
    name = naming.identifier(query.name)
    row: RowClass | None = None
    scalar: PyType | None = None
    if query.cmd in (":one", ":many"):
        fields = _result_fields(query, directives, json_type)
        if not fields:
            raise ModelError(f"{query.name}: {query.cmd} needs result columns (use :exec or :execrows)")
        if len(fields) == 1:
            scalar = fields[0].type
        else:
            row = _matching_table_row(query, fields, tables) or RowClass(
                naming.pascal_case(query.name) + "Row", f"A row returned by {name}.", fields, module
            )
    return Function(
        name=name,
        constant="_" + name.upper(),
        cmd=query.cmd,
        doc=doc or (f"Run the {query.name} query.",),
        sql=query.text,
        params=_params(query, directives, json_type),
        row=row,
        scalar=scalar,
    )


def build_package(request: GenerateRequest, schema: str, json_type: PyType) -> Package:
    """Turn a GenerateRequest into the package to render: table rows of ``schema``, query modules."""
    schema_tables = [t for t in request.tables if t.schema == schema]
    if not schema_tables:
        raise ModelError(f"no tables in schema {schema!r}: is the plugin option 'schema' right?")
    table_rows = [_table_row(t, json_type) for t in schema_tables]
    by_name = {t.name: row for t, row in zip(schema_tables, table_rows, strict=True)}
    grouped: dict[str, list[Query]] = {}
    for query in request.queries:
        grouped.setdefault(query.filename, []).append(query)
    modules = []
    for filename in sorted(grouped):
        module_name = naming.identifier(PurePosixPath(filename).stem)
        if module_name in RESERVED_MODULES:
            raise ModelError(f"{filename}: the module name {module_name!r} is reserved; rename the file")
        functions = tuple(_function(q, by_name, module_name, json_type) for q in grouped[filename])
        names = [f.name for f in functions]
        if len(set(names)) != len(names):
            raise ModelError(f"{filename}: two queries map to the same function name")
        local_rows = tuple(f.row for f in functions if f.row is not None and f.row.module == module_name)
        modules.append(Module(module_name, filename, functions, local_rows))
    source_dir = (
        request.queries_paths[0] if len(request.queries_paths) == 1 else ", ".join(request.queries_paths)
    )
    return Package(schema=schema, source_dir=source_dir, tables=tuple(table_rows), modules=tuple(modules))
