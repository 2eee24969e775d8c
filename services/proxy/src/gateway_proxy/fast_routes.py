"""Exact-path dispatch in front of Starlette: the fixed routes without its middleware stack.

Starlette serves a request through `ServerErrorMiddleware`, `ExceptionMiddleware`, the router's
scan of every route's regex and `request_response`'s wrappers: each one a coroutine and, for the
first two, a wrapped `send`, on every request. `FastRoutes` serves each route whose path has no
parameter (all the OpenAI POST endpoints, `/v1/models`, the probes and `/metrics`) straight from
a `(method, path)` dict: the request context middleware, then the endpoint, its errors rendered
by the same exception handlers Starlette would use. Everything else (`/v1/models/{id}`, unknown
URLs, wrong methods, the lifespan) goes to the Starlette app unchanged, so both paths answer
alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway_proxy.context import request_context

ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


class FastRoutes:
    """ASGI app: a parameterless route served through `wrap(endpoint runner)`, the rest by `fallback`.

    `wrap` adds the per-request middleware (the request context) around the endpoint runner, as
    the fallback app's own middleware does around its router.
    """

    def __init__(
        self,
        fallback: Starlette,
        routes: Sequence[BaseRoute],
        handlers: Mapping[type[Exception], ExceptionHandler],
        wrap: Callable[[ASGIApp], ASGIApp],
    ) -> None:
        self._fallback = fallback
        self._handlers = dict(handlers)
        self._routes: dict[tuple[str, str], Route] = {}
        for route in routes:
            if isinstance(route, Route) and not route.param_convertors and route.methods:
                for method in route.methods:
                    self._routes[(method, route.path)] = route
        self._serve = wrap(self._run_endpoint)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = None
        if scope["type"] == "http" and not scope.get("root_path"):
            route = self._routes.get((scope["method"], scope["path"]))
        if route is None:
            await self._fallback(scope, receive, send)
            return
        scope["app"] = self._fallback
        scope["route"] = route  # the metrics' route label, as Starlette's router sets it
        scope["endpoint"] = route.endpoint
        await self._serve(scope, receive, send)

    async def _run_endpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: Route = scope["route"]
        endpoint: Endpoint = route.endpoint
        request = Request(scope, receive, send)
        try:
            response = await endpoint(request)
            await response(scope, receive, send)
        except Exception as exc:
            handler = self._handler_for(exc)
            # After the response started, as in Starlette, the error is the server's to log.
            if handler is None or request_context(scope).status:
                raise
            response = await handler(request, exc)
            await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> ExceptionHandler | None:
        for cls in type(exc).__mro__:
            handler = self._handlers.get(cls)
            if handler is not None:
                return handler
        return None
