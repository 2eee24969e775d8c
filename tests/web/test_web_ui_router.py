"""gateway_control.webui: the built UI is mounted only when it exists, and never shadows the API."""

from __future__ import annotations

from pathlib import Path

from gateway_control.webui import WEB_DIST, web_ui_routers
from litestar import Litestar, get
from litestar.testing import TestClient


@get("/api/v1/ping", sync_to_thread=False)
def ping() -> dict[str, str]:
    return {"pong": "yes"}


def test_nothing_is_mounted_without_a_build(tmp_path: Path) -> None:
    assert web_ui_routers(tmp_path / "dist") == []
    (tmp_path / "dist").mkdir()
    assert web_ui_routers(tmp_path / "dist") == [], "a dist without index.html is not a build"


def test_the_build_is_served_at_the_root_next_to_the_api(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text('<div id="root"></div>')
    (dist / "assets" / "app.js").write_text("console.log(1)")
    app = Litestar([ping, *web_ui_routers(dist)])
    with TestClient(app) as client:
        assert client.get("/").text == '<div id="root"></div>'
        assert client.get("/assets/app.js").text == "console.log(1)"
        assert client.get("/api/v1/ping").json() == {"pong": "yes"}
        assert client.get("/missing.js").status_code == 404


def test_the_default_location_is_the_repository_web_dist() -> None:
    assert Path(__file__).resolve().parents[2] / "web" / "dist" == WEB_DIST
