"""`python -m gateway_fakes openai --host 127.0.0.1 --port 8090 --api-key KEY`."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence

from starlette.applications import Starlette

from gateway_fakes.openai import DEFAULT_API_KEY, create_openai_fake
from gateway_fakes.server import serve

# Fake upstream kind -> factory taking the API key it accepts.
FAKES: Mapping[str, Callable[[str], Starlette]] = {"openai": create_openai_fake}


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and serve the chosen fake until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m gateway_fakes", description="Run a fake provider upstream."
    )
    parser.add_argument("kind", choices=sorted(FAKES), help="which provider's wire format to speak")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="the only key the fake accepts")
    args = parser.parse_args(argv)
    serve(FAKES[args.kind](args.api_key), args.host, args.port)


if __name__ == "__main__":
    main()
