"""The plugin entry point: GenerateRequest JSON on stdin, GenerateResponse JSON on stdout."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from .drivers import drivers
from .files import LayoutError, package_files
from .model import ModelError, build_package
from .request import GenerateRequest, RequestError, encode_response, parse_request

KNOWN_OPTIONS = frozenset({"driver", "schema"})


class OptionsError(ValueError):
    """The plugin options in sqlc.yaml are missing or wrong."""


def generate(request: GenerateRequest) -> Mapping[str, str]:
    """Every file to write for one sqlc codegen entry, by path relative to its ``out``."""
    unknown = set(request.options) - KNOWN_OPTIONS
    if unknown:
        raise OptionsError(f"unknown plugin options {sorted(unknown)} (known: {sorted(KNOWN_OPTIONS)})")
    available = drivers()
    driver = available.get(request.options.get("driver", ""))
    if driver is None:
        raise OptionsError(f"plugin option 'driver' must be one of {sorted(available)}")
    schema = request.options.get("schema", "")
    if not schema:
        raise OptionsError(
            "plugin option 'schema' (the Postgres schema whose tables get row types) is required"
        )
    package = build_package(request, schema, driver.json_type)
    return package_files(package, driver, request.sqlc_version, ", ".join(request.schema_paths))


def main() -> int:
    """Run the plugin once; errors go to stderr, which sqlc shows, with exit status 1."""
    try:
        files = generate(parse_request(sys.stdin.buffer.read()))
    except (RequestError, OptionsError, ModelError, LayoutError) as exc:
        print(f"sqlcgen: {exc}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(encode_response(files))
    return 0
