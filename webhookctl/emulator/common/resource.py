"""One route per path, so a 405 or an OPTIONS answer lists every method of the resource.

Starlette, given one `Route` per method on the same path, answers a wrong method from the
first route it finds, with an `Allow` header naming only that route's methods. RFC 9110
(15.5.6) wants every method the resource supports.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from webhookctl.emulator.common.http import empty_response, json_response

Endpoint = Callable[[Request], Awaitable[Response]]
# The vendor's body for a 405, given the method refused and the Allow list.
RefusalBody = Callable[[str, list[str]], object]


def allowed_methods(handlers: Mapping[str, Endpoint], implicit_head: bool) -> list[str]:
    methods = [method.upper() for method in handlers]
    if implicit_head and "GET" in methods and "HEAD" not in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")
    return methods


def resource(
    path: str,
    handlers: Mapping[str, Endpoint],
    refusal: RefusalBody,
    laravel: bool,
) -> Route:
    """A route dispatching on the method, as the vendor's framework routes.

    Laravel (`laravel=True`) serves HEAD wherever GET is served, and answers OPTIONS itself: 200,
    an empty body, `Allow` joined by bare commas (`implode(',', $methods)`). FastAPI serves HEAD
    only where it is declared and, without CORS, refuses OPTIONS like any undeclared method. A
    405's `Allow` is joined by ", " in both.
    """
    by_method = {method.upper(): handler for method, handler in handlers.items()}
    if laravel and "GET" in by_method:
        by_method.setdefault("HEAD", by_method["GET"])
    methods = allowed_methods(handlers, implicit_head=laravel)
    allow = ", ".join(methods)

    async def dispatch(request: Request) -> Response:
        handler = by_method.get(request.method)
        if handler is not None:
            return await handler(request)
        if request.method == "OPTIONS" and laravel:
            return empty_response(200, {"Allow": ",".join(methods)})
        return json_response(refusal(request.method, methods), 405, {"Allow": allow})

    return Route(path, _AnyMethod(dispatch), name=path)


class _AnyMethod:
    """An ASGI app: Starlette gives a plain function endpoint `methods=["GET"]` by default,
    but lets an app object see every method, so the 405 is ours to answer."""

    def __init__(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._endpoint(Request(scope, receive, send))
        await response(scope, receive, send)
