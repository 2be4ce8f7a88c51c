"""Starlette (and any ASGI app): a credit check in front of the routes that declare a scenario.

:class:`CreditCheckMiddleware` is plain ASGI middleware, wired with Starlette's own
``Middleware``. Use it in one of two ways:

* **on a route** (the route declares its scenario): Starlette's per-route middleware,
  ``Route(..., middleware=[Middleware(CreditCheckMiddleware, client=..., scenario=...)])``;
* **on the app**, with a mapping from route path (optionally ``"METHOD /path"``) to a
  :class:`RouteCheck`; requests to other paths pass through untouched.

A request that the :class:`RefusalPolicy` refuses is answered with an RFC 9457 problem document
(``application/problem+json``: 403 restricted, 409 review, 503 + ``Retry-After`` indeterminate);
otherwise the handler runs and finds the decision in ``request.state.credit_decision`` (or
:func:`decision_of`). Exceptions raised by the application pass through untouched.

>>> from starlette.applications import Starlette                 # doctest: +SKIP
>>> from starlette.middleware import Middleware  # doctest: +SKIP
>>> from starlette.routing import Route  # doctest: +SKIP
>>> async def apply(request):  # doctest: +SKIP
...     decision = decision_of(request)
...     return JSONResponse({"outcome": decision.outcome})
>>> app = Starlette(routes=[Route("/licences", apply, methods=["POST"], middleware=[
...     Middleware(CreditCheckMiddleware, client=client, scenario="admin_licensing",
...                subject="applicant_id", context=query_context)])])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

try:
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import compile_path
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
except ImportError as err:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "credit_sdk.adapters.starlette needs Starlette: pip install 'credit-sdk[starlette]'"
    ) from err

from credit_sdk import ConfigurationError, Decision, QueryContext, Scenario

from ._common import (
    DEFAULT_POLICY,
    CheckRefused,
    ClientSource,
    Places,
    Problem,
    RefusalPolicy,
    RouteCheck,
    Source,
    decide_request_async,
    form_or_json,
    resolve_client,
)

__all__ = [
    "DECISION_KEY",
    "CheckRefused",
    "CreditCheckMiddleware",
    "RefusalPolicy",
    "RouteCheck",
    "check_refused_handler",
    "decision_of",
    "problem_response",
]

#: Where the decision is kept: ``request.state.credit_decision`` (the ASGI ``scope["state"]``).
DECISION_KEY = "credit_decision"


def problem_response(problem: Problem) -> Response:
    """A Starlette response for a problem document.

    >>> problem_response(refused.problem).status_code              # doctest: +SKIP
    403
    """
    return Response(
        content=problem.json_bytes(),
        status_code=problem.status,
        headers=dict(problem.headers),
        media_type=problem.content_type,
    )


async def check_refused_handler(request: Request, exc: Exception) -> Response:
    """An exception handler that answers :class:`CheckRefused` (raised by a decorated service
    function inside a view) with its problem document.

    >>> app = Starlette(routes=...,
    ...                 exception_handlers={CheckRefused: check_refused_handler})
    ... # doctest: +SKIP
    """
    if not isinstance(exc, CheckRefused):  # pragma: no cover - registered for CheckRefused only
        raise exc
    return problem_response(exc.problem)


def decision_of(request: Request) -> Decision | None:
    """The decision the middleware attached to ``request``, or ``None`` if it checked nothing."""
    value = getattr(request.state, DECISION_KEY, None)
    return value if isinstance(value, Decision) else None


class _BodyTooLarge(Exception):
    """The body the middleware needed to read is over its ``max_body_bytes``."""


class _Body:
    """The request body, read once when someone needs it, then replayed to each reader.

    The middleware's own lookups (and the host's functions given the middleware's request) and
    the application downstream each get their own ``receive`` that replays the same bytes.
    """

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self._limit = limit
        self._chunks: list[bytes] | None = None
        self._disconnected = False

    async def read(self) -> bytes:
        if self._chunks is None:
            self._chunks = []
            size = 0
            while True:
                message = await self._receive()
                if message["type"] == "http.disconnect":
                    self._disconnected = True
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self._limit:
                    # Buffering is bounded: a body too large to look a subject up in is refused
                    # before it can exhaust memory.
                    raise _BodyTooLarge
                self._chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        return b"".join(self._chunks)

    def replay(self) -> Receive:
        """A ``receive`` for one reader: the whole body as one message, then the live channel
        (for the disconnect)."""
        replayed = False

        async def receive() -> Message:
            nonlocal replayed
            if replayed:
                return await self._receive()
            replayed = True
            body = await self.read()
            if self._disconnected:
                return {"type": "http.disconnect"}
            return {"type": "http.request", "body": body, "more_body": False}

        return receive

    @property
    def touched(self) -> bool:
        return self._chunks is not None


class CreditCheckMiddleware:
    """ASGI middleware that runs a credit check before the routes that declare a scenario.

    ``client``: a :class:`~credit_sdk.CreditClient` (run in Starlette's threadpool) or an
    :class:`~credit_sdk.AsyncCreditClient` (awaited; create it in the app's lifespan so it
    lives on the server's event loop), or a function returning one. ``scenario`` with
    ``subject``/``context``/``authorization`` checks every request through this middleware (the
    per-route form); ``routes`` maps paths (``"/licences/{case}"``, or ``"POST /licences"``) to
    :class:`RouteCheck` objects (the app-wide form). ``subject`` names a field looked up in the
    path parameters, then a JSON or form body, then the query string, or is a function of the
    :class:`~starlette.requests.Request` (sync or async). ``context`` is a
    :class:`~credit_sdk.QueryContext`, a function of the request returning one (the logged-in
    officer, the organ, the matter), or ``None`` to read ``organ``, ``operator``,
    ``matter_code`` and ``purpose`` fields (then ``X-Credit-*`` headers).

    >>> app.add_middleware(CreditCheckMiddleware, client=client, routes={   # doctest: +SKIP
    ...     "POST /licences": RouteCheck("admin_licensing", subject="applicant_id",
    ...                                  context=query_context)})
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        client: ClientSource,
        scenario: Scenario | str | None = None,
        subject: Source = "subject",
        context: QueryContext | Callable[..., Any] | None = None,
        authorization: Callable[..., Any] | None = None,
        routes: Mapping[str, RouteCheck | Scenario | str] | None = None,
        policy: RefusalPolicy | None = None,
        max_body_bytes: int = 1 << 20,
    ) -> None:
        self._max_body = max_body_bytes
        if (scenario is None) == (routes is None):
            raise ConfigurationError(
                "CreditCheckMiddleware needs either scenario=... (one route) or routes={...}"
            )
        self.app = app
        self._client = client
        self._policy = policy or DEFAULT_POLICY
        self._single: RouteCheck | None = None
        self._routes: list[tuple[str | None, Any, RouteCheck]] = []
        if scenario is not None:
            self._single = RouteCheck(
                Scenario.parse(scenario), subject, context, authorization, policy
            )
        else:
            assert routes is not None
            for key, value in routes.items():
                if not isinstance(value, RouteCheck):
                    value = RouteCheck(Scenario.parse(value))
                method, _, path = key.strip().rpartition(" ")
                regex, _fmt, convertors = compile_path(path.strip())
                self._routes.append((method.strip().upper() or None, (regex, convertors), value))

    def __repr__(self) -> str:
        if self._single is not None:
            return f"CreditCheckMiddleware(scenario={self._single.scenario.value!r})"
        return f"CreditCheckMiddleware(routes={len(self._routes)})"

    def _match(self, scope: Scope) -> tuple[RouteCheck, dict[str, Any]] | None:
        params = dict(scope.get("path_params") or {})
        if self._single is not None:
            return self._single, params
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        for method, (regex, convertors), check in self._routes:
            if method is not None and scope["method"] != method:
                continue
            found = regex.match(path)
            if found:
                matched = {k: convertors[k].convert(v) for k, v in found.groupdict().items()}
                return check, {**params, **matched}
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        matched = self._match(scope)
        if matched is None:
            await self.app(scope, receive, send)
            return
        check, path_params = matched
        body = _Body(receive, self._max_body)
        request = Request(scope, body.replay())
        places_cache: list[Places] = []

        async def places() -> Places:
            if not places_cache:
                content = form_or_json(request.headers.get("content-type", ""), await body.read())
                places_cache.append(
                    [("path", path_params), ("body", content), ("query", request.query_params)]
                )
            return places_cache[0]

        policy = check.policy_or(self._policy)
        try:
            result = await decide_request_async(
                resolve_client(self._client, "CreditCheckMiddleware"),
                check,
                request,
                places,
                request.headers.get,
                policy,
                run_sync=run_in_threadpool,
            )
        except _BodyTooLarge:
            result = Problem(
                413,
                {
                    "type": policy.problem_type("request-too-large"),
                    "title": "Request body too large for the credit check",
                    "status": 413,
                    "detail": f"the body exceeds {self._max_body} bytes",
                },
                {"Cache-Control": "no-store"},
            )
        if isinstance(result, Problem):
            await problem_response(result)(scope, receive, send)
            return
        scope.setdefault("state", {})[DECISION_KEY] = result
        # An untouched body streams to the app as it came; a read one is replayed. The app's
        # own exceptions are not ours to handle: they propagate unchanged.
        await self.app(scope, body.replay() if body.touched else receive, send)
