"""The drivers the generator can target, chosen by the plugin option ``driver``."""

from __future__ import annotations

from typing import Protocol

from .asyncpg_driver import AsyncpgDriver
from .model import Function, Module, Package
from .pgtypes import Import, PyType
from .psycopg_driver import PsycopgDriver


class Driver(Protocol):
    """How queries are run with one database driver."""

    @property
    def name(self) -> str:
        """The value of the ``driver`` option that selects this driver."""
        ...

    @property
    def json_type(self) -> PyType:
        """How JSON values are typed with this driver."""
        ...

    def sql(self, function: Function) -> str:
        """The query text in this driver's placeholder style."""
        ...

    def imports(self, module: Module) -> set[Import]:
        """The imports a query module needs."""
        ...

    def function(self, function: Function, constant: str) -> list[str]:
        """The lines of one generated function."""
        ...

    def extra_files(self, package: Package) -> dict[str, list[str]]:
        """Support modules (name without .py -> lines after the header)."""
        ...

    def module_doc(self, source: str) -> str:
        """The docstring of a query module."""
        ...


def drivers() -> dict[str, Driver]:
    """Every driver by option value."""
    available: list[Driver] = [PsycopgDriver(), AsyncpgDriver()]
    return {driver.name: driver for driver in available}
