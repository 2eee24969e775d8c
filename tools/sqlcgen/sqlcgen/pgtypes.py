"""Postgres types as Python annotations.

Only types both drivers decode to the same Python values are mapped; anything else is an
error naming the query and column, so a new type is a deliberate addition here rather than
a silent ``object``. JSON is the one driver-dependent type and is resolved by the driver.
"""

from __future__ import annotations

from dataclasses import dataclass

from .request import Column

# An import a generated module needs: (module, name) for ``from module import name``,
# (module, None) for ``import module``.
Import = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class PyType:
    """A Python annotation plus the imports it needs."""

    annotation: str
    imports: frozenset[Import] = frozenset()

    def optional(self) -> PyType:
        """The same type, ``| None``."""
        return PyType(f"{self.annotation} | None", self.imports)

    def listed(self) -> PyType:
        """A list of this type (one array dimension)."""
        return PyType(f"list[{self.annotation}]", self.imports)


class UnsupportedTypeError(ValueError):
    """A column or parameter has a Postgres type the generator does not map."""


JSON_TYPES = frozenset({"json", "jsonb"})

_UUID = PyType("uuid.UUID", frozenset({("uuid", None)}))
_STR = PyType("str")
_INT = PyType("int")
_BOOL = PyType("bool")
_FLOAT = PyType("float")
_DECIMAL = PyType("decimal.Decimal", frozenset({("decimal", None)}))
_DATETIME = PyType("datetime.datetime", frozenset({("datetime", None)}))
_DATE = PyType("datetime.date", frozenset({("datetime", None)}))
_TIME = PyType("datetime.time", frozenset({("datetime", None)}))
_TIMEDELTA = PyType("datetime.timedelta", frozenset({("datetime", None)}))
_BYTES = PyType("bytes")


@dataclass(frozen=True, slots=True)
class Alias:
    """A type alias defined in the generated tables.py, for types too long to spell inline."""

    name: str
    lines: tuple[str, ...]
    imports: frozenset[Import]

    def type(self) -> PyType:
        """The alias as an annotation, imported from tables.py."""
        return PyType(self.name, frozenset({(".tables", self.name)}))


JSON_ALIAS = Alias(
    "JsonValue",
    (
        'JsonValue: TypeAlias = "Mapping[str, JsonValue] | Sequence[JsonValue]'
        ' | str | int | float | bool | None"',
        '"""A JSON value as psycopg decodes it (objects arrive as dicts, arrays as lists)."""',
    ),
    frozenset({("collections.abc", "Mapping"), ("collections.abc", "Sequence"), ("typing", "TypeAlias")}),
)
# Both drivers return an address for a plain host and an interface when a prefix is stored.
INET_ALIAS = Alias(
    "IpAddress",
    (
        "IpAddress: TypeAlias = IPv4Address | IPv6Address | IPv4Interface | IPv6Interface",
        '"""An inet value: an address, or an interface when a prefix length is stored."""',
    ),
    frozenset(
        {
            ("typing", "TypeAlias"),
            ("ipaddress", "IPv4Address"),
            ("ipaddress", "IPv6Address"),
            ("ipaddress", "IPv4Interface"),
            ("ipaddress", "IPv6Interface"),
        }
    ),
)
CIDR_ALIAS = Alias(
    "IpNetwork",
    ("IpNetwork: TypeAlias = IPv4Network | IPv6Network", '"""A cidr value."""'),
    frozenset({("typing", "TypeAlias"), ("ipaddress", "IPv4Network"), ("ipaddress", "IPv6Network")}),
)
ALIASES = {alias.name: alias for alias in (JSON_ALIAS, INET_ALIAS, CIDR_ALIAS)}

_SCALARS: dict[str, PyType] = {
    "uuid": _UUID,
    "text": _STR,
    "varchar": _STR,
    "character varying": _STR,
    "bpchar": _STR,
    "char": _STR,
    "character": _STR,
    "name": _STR,
    "citext": _STR,
    "int2": _INT,
    "smallint": _INT,
    "int4": _INT,
    "integer": _INT,
    "int": _INT,
    "int8": _INT,
    "bigint": _INT,
    "serial": _INT,
    "serial4": _INT,
    "bigserial": _INT,
    "serial8": _INT,
    "smallserial": _INT,
    "bool": _BOOL,
    "boolean": _BOOL,
    "float4": _FLOAT,
    "real": _FLOAT,
    "float8": _FLOAT,
    "double precision": _FLOAT,
    "numeric": _DECIMAL,
    "decimal": _DECIMAL,
    "timestamptz": _DATETIME,
    "timestamp with time zone": _DATETIME,
    "timestamp": _DATETIME,
    "timestamp without time zone": _DATETIME,
    "date": _DATE,
    "time": _TIME,
    "time without time zone": _TIME,
    "interval": _TIMEDELTA,
    "bytea": _BYTES,
    "inet": INET_ALIAS.type(),
    "cidr": CIDR_ALIAS.type(),
}


def base_type_name(column: Column) -> str:
    """The column's type name without a ``pg_catalog.`` qualifier, lower-cased.

    sqlc reports the qualifier either in the type's schema or inside its name.
    """
    return column.type.name.lower().removeprefix("pg_catalog.")


def scalar_type(column: Column, json_type: PyType) -> PyType:
    """The Python type of one (non-array, non-null) value of the column."""
    name = base_type_name(column)
    if name in JSON_TYPES:
        return json_type
    if column.type.schema not in ("", "pg_catalog") or "." in name:
        raise UnsupportedTypeError(f"type {column.type.schema}.{column.type.name} (user-defined types)")
    try:
        return _SCALARS[name]
    except KeyError:
        raise UnsupportedTypeError(f"type {column.type.name!r}") from None


def column_type(column: Column, json_type: PyType, *, nullable: bool, nullable_elements: bool) -> PyType:
    """The full annotation of a column or parameter: arrays become lists, NULL becomes ``| None``."""
    result = scalar_type(column, json_type)
    if column.is_array or column.array_dims > 0:
        if nullable_elements:
            result = result.optional()
        for _ in range(max(column.array_dims, 1)):
            result = result.listed()
    if nullable:
        result = result.optional()
    return result
