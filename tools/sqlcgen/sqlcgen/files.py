"""Assembling the generated package: ``__init__.py``, ``tables.py`` and one module per queries file."""

from __future__ import annotations

from .drivers import Driver
from .model import Function, Module, Package
from .pgtypes import ALIASES, PyType
from .render import LINE_LENGTH, dataclass_lines, docstring, header, imports_block, type_imports
from .sqltext import python_literal

_SQL_WIDTH = 100
_DEFINITION_STARTS = ("@", "class ", "def ", "async def ")


class LayoutError(ValueError):
    """Generated code would break the line length (usually an SQL line with no whitespace to wrap at)."""


def _join(chunks: list[list[str]]) -> str:
    """Top-level chunks laid out as ruff expects: two blank lines apart, except that an
    assignment right after the imports gets one."""
    lines: list[str] = []
    for index, chunk in enumerate(chunks):
        if index == 1 and not chunk[0].startswith(_DEFINITION_STARTS):
            lines.append("")
        elif index > 0:
            lines.extend(["", ""])
        lines.extend(chunk)
    return "\n".join(lines) + "\n"


def _all_types(package: Package) -> list[PyType]:
    types = [f.type for row in package.tables for f in row.fields]
    for module in package.modules:
        types.extend(p.type for fn in module.functions for p in fn.params)
        types.extend(f.type for row in module.rows for f in row.fields)
        types.extend(fn.scalar for fn in module.functions if fn.scalar is not None)
    return types


def _tables_file(package: Package, sqlc_version: str, source: str) -> str:
    imports = type_imports(f.type for row in package.tables for f in row.fields)
    imports.add(("dataclasses", "dataclass"))
    used = {name for module, name in type_imports(_all_types(package)) if module == ".tables"}
    aliases = [alias for name, alias in sorted(ALIASES.items()) if name in used]
    for alias in aliases:
        imports |= alias.imports
    imports = {i for i in imports if i[0] != ".tables"}
    doc = docstring([f"Row types of the tables in schema {package.schema}."], "")
    top = [*header(sqlc_version, source), *doc, "", *imports_block(imports)]
    alias_chunks = [list(alias.lines) for alias in aliases]
    return _join([top, *alias_chunks, *(dataclass_lines(row) for row in package.tables)])


def _function_chunks(function: Function, driver: Driver) -> list[list[str]]:
    constant = [f"{function.constant} = {python_literal(driver.sql(function), _SQL_WIDTH)}"]
    body = driver.function(function, function.constant)
    # The docstring goes right after the signature, which ends at the first line ending in ":".
    split = next(i for i, line in enumerate(body) if line.endswith(":")) + 1
    return [constant, [*body[:split], *docstring(function.doc, "    "), *body[split:]]]


def _query_file(module: Module, driver: Driver, sqlc_version: str, source: str) -> str:
    imports = driver.imports(module)
    imports |= type_imports(f.type for row in module.rows for f in row.fields)
    if module.rows:
        imports.add(("dataclasses", "dataclass"))
    doc = docstring([driver.module_doc(module.source)], "")
    top = [*header(sqlc_version, source), *doc, "", *imports_block(imports)]
    chunks = [top, *(dataclass_lines(row) for row in module.rows)]
    for function in module.functions:
        chunks.extend(_function_chunks(function, driver))
    return _join(chunks)


def _init_file(package: Package, driver: Driver, sqlc_version: str, names: list[str]) -> str:
    doc = docstring(
        [
            f"Typed {driver.name} access to schema {package.schema}, generated from {package.source_dir}.",
            "",
            "Modules: " + ", ".join(names) + ".",
            "Regenerate with `make sqlc`; never edit these files by hand.",
        ],
        "",
    )
    return "\n".join([*header(sqlc_version, package.source_dir), *doc]) + "\n"


def package_files(package: Package, driver: Driver, sqlc_version: str, schema_source: str) -> dict[str, str]:
    """Every generated file by name (relative to the codegen ``out`` directory)."""
    files = {"tables.py": _tables_file(package, sqlc_version, schema_source)}
    for module in package.modules:
        source = f"{package.source_dir.rstrip('/')}/{module.source}"
        files[f"{module.name}.py"] = _query_file(module, driver, sqlc_version, source)
    for name, lines in driver.extra_files(package).items():
        files[f"{name}.py"] = _join([[*header(sqlc_version, "tools/sqlcgen"), *lines]])
    names = sorted(name.removesuffix(".py") for name in files)
    files["__init__.py"] = _init_file(package, driver, sqlc_version, names)
    for name, text in files.items():
        for number, line in enumerate(text.splitlines(), start=1):
            if len(line) > LINE_LENGTH:
                raise LayoutError(f"{name}:{number} is {len(line)} characters long: {line.strip()[:60]}...")
    return files
