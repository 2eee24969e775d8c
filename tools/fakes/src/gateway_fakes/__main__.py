"""`python -m gateway_fakes KIND --host 127.0.0.1 --port 8090 --api-key KEY` (KIND: see `kinds.py`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from gateway_fakes.kinds import FAKE_KINDS
from gateway_fakes.server import serve


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and serve the chosen fake until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m gateway_fakes", description="Run a fake provider upstream."
    )
    parser.add_argument("kind", choices=sorted(FAKE_KINDS), help="which provider's wire format to speak")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--api-key", default=None, help="the only key the fake accepts")
    args = parser.parse_args(argv)
    kind = FAKE_KINDS[args.kind]
    serve(kind.factory(args.api_key or kind.default_key), args.host, args.port)


if __name__ == "__main__":
    main()
