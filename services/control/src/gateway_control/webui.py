"""The built admin console (web/dist), served by control in development.

`make dev` builds the UI into web/dist; when that directory exists next to this source tree,
control serves it at "/" (index.html for "/"). The router is registered after the API routes and
Litestar matches static paths before the catch-all file path, so /api, /internal, /healthz,
/readyz, /metrics and /schema are unaffected. An installed package (a container image) has no
web/dist beside it and serves no UI: in Kubernetes the UI ships as its own image (web/Dockerfile).
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.static_files import create_static_files_router

# services/control/src/gateway_control/webui.py -> the repository root is four levels up.
WEB_DIST = Path(__file__).resolve().parents[4] / "web" / "dist"


def web_ui_routers(dist: Path = WEB_DIST) -> list[Router]:
    """A static-files router for the built UI at "/", or nothing when it has not been built."""
    if not (dist / "index.html").is_file():
        return []
    return [create_static_files_router(path="/", directories=[dist], html_mode=True, name="web-ui")]
