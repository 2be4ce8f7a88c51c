"""FastAPI: a dependency that runs a credit check for a route and hands the decision to it.

``credit_check(scenario, subject=..., context=...)`` returns a dependency for ``Depends``. It
runs the check (a :class:`~credit_sdk.CreditClient` in FastAPI's threadpool, an
:class:`~credit_sdk.AsyncCreditClient` awaited), and either returns the
:class:`~credit_sdk.Decision` to the handler or refuses the request under the
:class:`RefusalPolicy`: 403 restricted, 409 review, 503 + ``Retry-After`` indeterminate, 422 for
an invalid identifier, 400 for a missing subject. ``install(app, client)`` gives the app its
client and renders refusals as RFC 9457 ``application/problem+json``; without it a refusal is
still a refusal, in FastAPI's default ``{"detail": {...}}`` shape.

``subject``, ``context`` and ``authorization`` may be FastAPI dependencies themselves: a
function whose parameters FastAPI fills in (the request body model, a header, the logged-in
officer from your own auth dependency...). A string ``subject`` names a field looked up in the
path parameters, then the JSON or form body, then the query string.

>>> from fastapi import Depends, FastAPI                             # doctest: +SKIP
>>> from credit_sdk import Decision, QueryContext  # doctest: +SKIP
>>> from credit_sdk.adapters.fastapi import credit_check, install  # doctest: +SKIP
>>> app = FastAPI()  # doctest: +SKIP
>>> install(app, client)  # doctest: +SKIP
>>> def query_context(application: Application) -> QueryContext:  # doctest: +SKIP
...     return QueryContext(organ="230100-SCJGJ", operator="u1024", matter_code="LIC-FOOD",
...                         purpose=f"food business licence application {application.number}")
>>> @app.post("/licences")  # doctest: +SKIP
... def apply(application: Application,
...           decision: Decision = Depends(credit_check(
...               "admin_licensing", subject="applicant_id", context=query_context))):
...     return {"outcome": decision.outcome, "commitment": decision.commitment_eligible}
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

try:
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.concurrency import run_in_threadpool
    from starlette.middleware.exceptions import ExceptionMiddleware
    from starlette.responses import Response
except ImportError as err:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "credit_sdk.adapters.fastapi needs FastAPI: pip install 'credit-sdk[fastapi]'"
    ) from err

from credit_sdk import (
    AuditError,
    AuthorizationError,
    ConfigurationError,
    CreditSDKError,
    Decision,
    InvalidIdentifier,
    InvalidQuery,
    PlatformError,
    QueryContext,
    Scenario,
)

from ._common import (
    DEFAULT_POLICY,
    AnyClient,
    CheckRefused,
    ClientSource,
    Problem,
    RefusalPolicy,
    Source,
    check_async,
    context_from_fields,
    ensure_authorization,
    ensure_context,
    error_problem,
    field_value,
    form_or_json,
    gate,
    missing,
    resolve_client,
    subject_text,
)
from .starlette import DECISION_KEY, decision_of, problem_response

__all__ = [
    "CheckRefused",
    "CreditProblem",
    "RefusalPolicy",
    "credit_check",
    "decision_of",
    "install",
    "problem_response",
]

_STATE_CLIENT = "credit_sdk_client"
_STATE_POLICY = "credit_sdk_policy"


class CreditProblem(HTTPException):
    """A request refused by a credit check (or by a bad subject), as an ``HTTPException``.

    ``problem`` is the RFC 9457 document, ``decision`` the decision when there is one. With
    :func:`install` it is answered as ``application/problem+json``; without, FastAPI's own
    handler answers with the same status and headers and the document under ``detail``.
    """

    def __init__(self, problem: Problem) -> None:
        super().__init__(
            status_code=problem.status, detail=dict(problem.body), headers=dict(problem.headers)
        )
        self.problem = problem
        self.decision = problem.decision

    def __repr__(self) -> str:
        return f"CreditProblem({self.problem!r})"


async def _problem_handler(request: Request, exc: Exception) -> Response:
    if isinstance(exc, CreditProblem | CheckRefused):
        return problem_response(exc.problem)
    if isinstance(exc, CreditSDKError):
        # Raised in a route, e.g. by a workflow helper: its own problem type and status.
        policy = getattr(request.app.state, _STATE_POLICY, None) or DEFAULT_POLICY
        problem = error_problem(exc, policy)
        if problem is not None:
            return problem_response(problem)
    raise exc


#: SDK errors a route (or a workflow helper it calls) may raise that answer the request.
_REQUEST_ERRORS = (InvalidIdentifier, AuthorizationError, InvalidQuery, AuditError, PlatformError)


def install(
    app: FastAPI, client: ClientSource | None = None, *, policy: RefusalPolicy | None = None
) -> None:
    """Give ``app`` its credit client and default policy, and answer refusals as problem+json
    (FastAPI exception handlers for :class:`CreditProblem`, :class:`CheckRefused` raised by
    decorated service functions, and the SDK's request errors raised in a route, e.g. a
    workflow helper's ``AuthorizationError`` or ``InvalidIdentifier``). Works when called
    before the app starts or inside its lifespan.

    >>> app = FastAPI(lifespan=lifespan)                                # doctest: +SKIP
    >>> install(app, client)  # doctest: +SKIP
    """
    if client is not None:
        setattr(app.state, _STATE_CLIENT, client)
    if policy is not None:
        setattr(app.state, _STATE_POLICY, policy)
    for error in (CreditProblem, CheckRefused, *_REQUEST_ERRORS):
        _add_handler(app, error)


def _add_handler(app: FastAPI, error: type[Exception]) -> None:
    """Register the problem handler for ``error``, also when the app has already started.

    Called inside the lifespan (where an ``AsyncCreditClient`` is created), ``install`` runs
    after Starlette built its middleware stack, whose exception middleware took a copy of the
    handlers: registering on the app alone would leave refusals answered as ``{"detail": ...}``.
    The built stack's exception middleware gets the handler too; if it cannot be found, this
    refuses loudly rather than answer refusals in the wrong form.
    """
    app.add_exception_handler(error, _problem_handler)
    node: Any = getattr(app, "middleware_stack", None)
    if node is None:
        return  # not started: the stack will be built with the handler
    for _ in range(64):  # a middleware chain is short; never loop on a cycle
        if isinstance(node, ExceptionMiddleware):
            handlers = getattr(node, "_exception_handlers", None)
            if isinstance(handlers, dict):
                handlers[error] = _problem_handler
                return
        node = getattr(node, "app", None)
        if node is None:
            break
    raise ConfigurationError(
        "install(app, client) was called after the app started and the credit problem handlers "
        "could not be added to it: call install(app) when the app is created (before it "
        "starts), and install(app, client) in the lifespan to give it the client"
    )


class _Failed:
    """What a host dependency produced when it raised an SDK error (e.g. a bad QueryContext)."""

    __slots__ = ("error",)

    def __init__(self, error: CreditSDKError) -> None:
        self.error = error


def _nothing() -> None:
    return None


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a host dependency so that SDK errors it raises become a problem answer (422, 403)
    rather than a 500, keeping its signature for FastAPI's injection."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except CreditSDKError as err:
                return _Failed(err)

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CreditSDKError as err:
            return _Failed(err)

    return wrapper


def _unwrap(value: Any) -> Any:
    if isinstance(value, _Failed):
        raise value.error
    return value


async def _places(request: Request) -> list[tuple[str, Any]]:
    # FastAPI has read the body already when the route declares one; Starlette caches it.
    content = form_or_json(request.headers.get("content-type", ""), await request.body())
    return [("path", request.path_params), ("body", content), ("query", request.query_params)]


def credit_check(
    scenario: Scenario | str,
    *,
    subject: Source = "subject",
    context: QueryContext | Callable[..., Any] | None = None,
    authorization: Callable[..., Any] | None = None,
    client: ClientSource | None = None,
    policy: RefusalPolicy | None = None,
) -> Callable[..., Awaitable[Decision]]:
    """A dependency that checks the route's subject in ``scenario`` and returns the decision.

    ``subject``: a field name, or a dependency returning the identifier. ``context``: a
    :class:`~credit_sdk.QueryContext`, a dependency returning one, or ``None`` (fields
    ``organ``, ``operator``, ``matter_code``, ``purpose``, then ``X-Credit-*`` headers).
    ``authorization``: a dependency returning the subject's
    :class:`~credit_sdk.Authorization` (needed for natural persons in personnel,
    qualification, election and honours scenarios), or ``None``. ``client`` and ``policy``
    default to what :func:`install` gave the app. The decision is also kept in
    ``request.state.credit_decision``.

    >>> @app.post("/licences")                                         # doctest: +SKIP
    ... async def apply(decision: Decision = Depends(credit_check("admin_licensing",
    ...                 subject="applicant_id", context=query_context))):
    ...     ...
    """
    checked = Scenario.parse(scenario)
    field_name = subject if isinstance(subject, str) else None
    subject_dep = _nothing if isinstance(subject, str) else _guarded(subject)
    context_dep = (
        _guarded(context)
        if context is not None and not isinstance(context, QueryContext)
        else _nothing
    )
    auth_dep = _guarded(authorization) if authorization is not None else _nothing
    # Sub-dependencies: FastAPI fills in the host functions' own parameters (body model, headers,
    # the logged-in officer) and caches them per request, so nothing is parsed twice.
    subject_param, context_param, auth_param = (
        Depends(subject_dep),
        Depends(context_dep),
        Depends(auth_dep),
    )

    async def credit_check_dependency(
        request: Request,
        subject_value: Any = subject_param,
        context_value: Any = context_param,
        grant_value: Any = auth_param,
    ) -> Decision:
        chosen = policy or getattr(request.app.state, _STATE_POLICY, None) or DEFAULT_POLICY
        source = client if client is not None else getattr(request.app.state, _STATE_CLIENT, None)
        active: AnyClient = resolve_client(source, "credit_check (pass client= or install())")
        try:
            if field_name is not None:
                places = await _places(request)
                value = field_value(field_name, places)
                if value is None or value == "":
                    raise missing("subject", field_name, [label for label, _ in places])
            else:
                value = _unwrap(subject_value)
            if isinstance(context, QueryContext):
                ctx = context
            elif context is not None:
                ctx = ensure_context(_unwrap(context_value))
            else:
                ctx = context_from_fields(await _places(request), request.headers.get)
            grant = ensure_authorization(_unwrap(grant_value))
            decision = await check_async(
                active, checked, subject_text(value), ctx, grant, run_sync=run_in_threadpool
            )
        except CreditSDKError as err:
            problem = error_problem(err, chosen, field_name=field_name)
            if problem is None:
                raise
            raise CreditProblem(problem) from err
        refusal = gate(decision, chosen)
        if refusal is not None:
            raise CreditProblem(refusal)
        setattr(request.state, DECISION_KEY, decision)
        return decision

    credit_check_dependency.__qualname__ = f"credit_check[{checked.value}]"
    return credit_check_dependency
