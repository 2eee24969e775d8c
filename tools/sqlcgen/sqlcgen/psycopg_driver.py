"""psycopg 3 (async): functions take an ``AsyncConnection`` and named ``%(name)s`` parameters.

Rows come back through psycopg's ``args_row`` row factory, so the cursor itself is typed
with the row dataclass and nothing is converted by hand. JSON parameters are wrapped in
``Jsonb`` (psycopg does not guess that a dict is JSON); JSON results arrive decoded.
"""

from __future__ import annotations

from .model import Function, Module, Package
from .pgtypes import JSON_ALIAS, Import
from .render import INDENT, by_number, call, function_types, return_annotation, signature, type_imports
from .sqltext import rewrite_placeholders

JSON_TYPE = JSON_ALIAS.type()
_CONNECTION = "AsyncConnection[object]"


class PsycopgDriver:
    """Renders functions for psycopg's AsyncConnection."""

    name = "psycopg"
    json_type = JSON_TYPE

    def sql(self, function: Function) -> str:
        """The query with ``$n`` turned into ``%(param)s`` (and ``%`` doubled when parameters exist)."""
        params = by_number(function.params)
        return rewrite_placeholders(
            function.sql, lambda n: f"%({params[n].name})s", double_percent=bool(function.params)
        )

    def imports(self, module: Module) -> set[Import]:
        """Everything the module's functions need, row classes from tables.py included."""
        result: set[Import] = {("psycopg", "AsyncConnection")}
        for function in module.functions:
            result |= type_imports(function_types(function))
            if function.row is not None and function.row.module == "tables":
                result.add((".tables", function.row.name))
            if function.cmd in (":one", ":many"):
                factory = "args_row" if function.row is not None else "scalar_row"
                result.add(("psycopg.rows", factory))
            if any(p.is_json for p in function.params):
                result.add(("psycopg.types.json", "Jsonb"))
        return result

    def function(self, function: Function, constant: str) -> list[str]:
        """The body of one generated function, signature included."""
        lines = signature(function, _CONNECTION)
        args: list[str | list[str]] = [constant]
        if function.params:
            args.append([f'"{p.name}": {self._bind(p.name, p.is_json, p.nullable)}' for p in function.params])
        if function.cmd == ":exec":
            return [*lines, *call("await conn.execute", args, INDENT)]
        if function.cmd == ":execrows":
            return [*lines, *call("cur = await conn.execute", args, INDENT), f"{INDENT}return cur.rowcount"]
        factory = f"args_row({function.row.name})" if function.row is not None else "scalar_row"
        lines.append(f"{INDENT}async with conn.cursor(row_factory={factory}) as cur:")
        lines.extend(call("await cur.execute", args, INDENT * 2))
        fetch = "fetchone" if function.cmd == ":one" else "fetchall"
        if function.row is not None:
            return [*lines, f"{INDENT * 2}return await cur.{fetch}()"]
        # scalar_row yields Any: the annotation on the local is where the column's type is stated.
        scalar = f"{INDENT * 2}scalar: {return_annotation(function)} = await cur.{fetch}()"
        return [*lines, scalar, f"{INDENT}return scalar"]

    @staticmethod
    def _bind(name: str, is_json: bool, nullable: bool) -> str:
        if not is_json:
            return name
        return f"None if {name} is None else Jsonb({name})" if nullable else f"Jsonb({name})"

    def extra_files(self, package: Package) -> dict[str, list[str]]:
        """psycopg needs no support module."""
        return {}

    def module_doc(self, source: str) -> str:
        """The docstring of a generated query module."""
        return f"Typed psycopg (async) functions for the queries in {source}."
