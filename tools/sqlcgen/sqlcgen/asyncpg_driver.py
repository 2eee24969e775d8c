"""asyncpg: functions take anything with asyncpg's query methods and positional ``$n`` parameters.

asyncpg ships no type information, so the generated code never imports it: the functions
accept the ``Executor`` protocol written to ``connection.py``, which ``asyncpg.Connection``
and ``asyncpg.Pool`` satisfy. JSON is passed and returned as text, which is asyncpg's own
behaviour unless a codec is registered on the connection.
"""

from __future__ import annotations

from .model import Function, Module, Package
from .pgtypes import Import, PyType
from .render import INDENT, call, docstring, function_types, return_annotation, signature, type_imports

JSON_TYPE = PyType("str")
_CONNECTION = "Executor"

_CONNECTION_MODULE = '''
from collections.abc import Iterator, Sequence
from typing import Any, Protocol


class Record(Protocol):
    """A result row: asyncpg.Record indexes and iterates over column values."""

    def __getitem__(self, index: int, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class Executor(Protocol):
    """The asyncpg methods the generated queries call; asyncpg.Connection and asyncpg.Pool fit.

    Pass a Connection (from ``pool.acquire()``) to run several queries in one transaction;
    a Pool runs each call on whichever connection it hands out.
    """

    async def execute(self, query: str, *args: object) -> str: ...

    async def fetch(self, query: str, *args: object) -> Sequence[Record]: ...

    async def fetchrow(self, query: str, *args: object) -> Record | None: ...

    async def fetchval(self, query: str, *args: object) -> Any: ...
'''


class AsyncpgDriver:
    """Renders functions for asyncpg connections and pools."""

    name = "asyncpg"
    json_type = JSON_TYPE

    def sql(self, function: Function) -> str:
        """asyncpg speaks ``$n`` natively: the text is used as sqlc wrote it."""
        return function.sql

    def imports(self, module: Module) -> set[Import]:
        """Everything the module's functions need, row classes from tables.py included."""
        result: set[Import] = {(".connection", "Executor")}
        for function in module.functions:
            result |= type_imports(function_types(function))
            if function.row is not None and function.row.module == "tables":
                result.add((".tables", function.row.name))
        return result

    def function(self, function: Function, constant: str) -> list[str]:
        """The body of one generated function, signature included."""
        lines = signature(function, _CONNECTION)
        args: list[str | list[str]] = [constant, *(p.name for p in function.params)]
        if function.cmd == ":exec":
            return [*lines, *call("await conn.execute", args, INDENT)]
        if function.cmd == ":execrows":
            lines.extend(call("tag = await conn.execute", args, INDENT))
            # The command tag ends with the row count: "UPDATE 3", "INSERT 0 5", "DELETE 1".
            return [*lines, f'{INDENT}return int(tag.rpartition(" ")[2])']
        row = function.row
        if function.cmd == ":one" and row is None:
            lines.extend(call(f"scalar: {return_annotation(function)} = await conn.fetchval", args, INDENT))
            return [*lines, f"{INDENT}return scalar"]
        if function.cmd == ":one" and row is not None:
            lines.extend(call("record = await conn.fetchrow", args, INDENT))
            return [*lines, f"{INDENT}return None if record is None else {row.name}(*record)"]
        lines.extend(call("records = await conn.fetch", args, INDENT))
        item = f"{row.name}(*record)" if row is not None else "record[0]"
        return [*lines, f"{INDENT}return [{item} for record in records]"]

    def extra_files(self, package: Package) -> dict[str, list[str]]:
        """``connection.py``: the Executor protocol."""
        doc = docstring(["The connection interface the generated asyncpg queries use."], "")
        return {"connection": [*doc, *_CONNECTION_MODULE.splitlines()]}

    def module_doc(self, source: str) -> str:
        """The docstring of a generated query module."""
        return f"Typed asyncpg functions for the queries in {source}."
