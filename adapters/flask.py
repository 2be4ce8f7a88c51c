"""Flask: an extension (``init_app``) that gives the app its credit client, and a view decorator.

``CreditSDK(app, client=client)`` (or ``CreditSDK(client=client)`` then ``init_app(app)`` in an
app factory) keeps the client in ``app.extensions["credit_sdk"]`` and answers
:class:`CheckRefused` (raised by decorated service functions) as problem+json. The decorator
``@credit_check(scenario, subject=..., context=...)`` checks a view's subject before the view
runs: a refused request is answered with an RFC 9457 ``application/problem+json`` document
(403 restricted, 409 review, 503 + ``Retry-After`` indeterminate, 422 invalid identifier, 400
missing subject); otherwise the view runs with the decision in ``g.credit_decision``, and as its
``decision`` argument if it declares one. Exceptions raised by the view pass through untouched.

The client must be a blocking :class:`~credit_sdk.CreditClient` (Flask views are synchronous).

>>> from flask import Flask                                          # doctest: +SKIP
>>> from credit_sdk.adapters.flask import CreditSDK, credit_check  # doctest: +SKIP
>>> app = Flask(__name__)  # doctest: +SKIP
>>> CreditSDK(app, client=client, context=query_context)  # doctest: +SKIP
>>> @app.post("/reviews/<int:case>")  # doctest: +SKIP
... @credit_check("qualification_review", subject="candidate_id", authorization=consent)
... def review(case, decision):
...     return {"outcome": decision.outcome}
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

try:
    from flask import Flask, current_app, g, request
    from flask.typing import ResponseReturnValue
    from werkzeug.wrappers import Response
except ImportError as err:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "credit_sdk.adapters.flask needs Flask: pip install 'credit-sdk[flask]'"
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
    CheckRefused,
    ClientSource,
    Places,
    Problem,
    RefusalPolicy,
    RouteCheck,
    Source,
    decide_request_sync,
    error_problem,
    resolve_client,
)

__all__ = [
    "EXTENSION_KEY",
    "CheckRefused",
    "CreditSDK",
    "RefusalPolicy",
    "credit_check",
    "decision_of",
    "problem_response",
]

#: The key of the extension's state in ``app.extensions``.
EXTENSION_KEY = "credit_sdk"
_G_KEY = "credit_decision"

_View = TypeVar("_View", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class _State:
    client: ClientSource
    policy: RefusalPolicy
    context: QueryContext | Callable[..., Any] | None


def problem_response(problem: Problem) -> Response:
    """A Flask response for a problem document."""
    return current_app.response_class(
        problem.json_bytes(),
        status=problem.status,
        headers=dict(problem.headers),
        content_type=problem.content_type,
    )


def decision_of() -> Decision | None:
    """The decision checked for the current request (``g.credit_decision``), or ``None``."""
    value = g.get(_G_KEY)
    return value if isinstance(value, Decision) else None


def _refused(exc: CheckRefused) -> Response:
    return problem_response(exc.problem)


#: SDK errors a view (or a workflow helper it calls) may raise that answer the request:
#: each becomes its own problem type (invalid-identifier 422, authorization-required 403,
#: invalid-query 400/422, audit-unavailable 503, platform-unavailable 503).
_REQUEST_ERRORS = (InvalidIdentifier, AuthorizationError, InvalidQuery, AuditError, PlatformError)


def _sdk_error(exc: CreditSDKError) -> Response:
    state = current_app.extensions.get(EXTENSION_KEY)
    policy = state.policy if isinstance(state, _State) else DEFAULT_POLICY
    problem = error_problem(exc, policy)
    if problem is None:  # errors_as_problems=False: the app's own handling
        raise exc
    return problem_response(problem)


class CreditSDK:
    """The Flask extension: one client (and default policy and query context) per app.

    ``context`` is the app-wide default for views that do not name one: a
    :class:`~credit_sdk.QueryContext`, or a function of the request returning one (typically
    built from the logged-in officer); ``None`` reads the fields ``organ``, ``operator``,
    ``matter_code`` and ``purpose`` (then ``X-Credit-*`` headers).

    >>> credit = CreditSDK(client=client)                              # doctest: +SKIP
    >>> def create_app():  # doctest: +SKIP
    ...     app = Flask(__name__)
    ...     credit.init_app(app)
    ...     return app
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        client: ClientSource | None = None,
        policy: RefusalPolicy | None = None,
        context: QueryContext | Callable[..., Any] | None = None,
    ) -> None:
        self.client = client
        self.policy = policy
        self.context = context
        if app is not None:
            self.init_app(app)

    def init_app(
        self,
        app: Flask,
        *,
        client: ClientSource | None = None,
        policy: RefusalPolicy | None = None,
        context: QueryContext | Callable[..., Any] | None = None,
    ) -> None:
        """Attach the extension to ``app``; arguments override those given to the constructor."""
        chosen = client if client is not None else self.client
        if chosen is None:
            raise ConfigurationError("CreditSDK.init_app: a credit client is required")
        app.extensions[EXTENSION_KEY] = _State(
            client=chosen,
            policy=policy or self.policy or DEFAULT_POLICY,
            context=context if context is not None else self.context,
        )
        app.register_error_handler(CheckRefused, _refused)
        for error in _REQUEST_ERRORS:
            app.register_error_handler(error, _sdk_error)

    def __repr__(self) -> str:
        return f"CreditSDK(client={type(self.client).__name__})"

    check = staticmethod(lambda *a, **k: credit_check(*a, **k))


def _state() -> _State:
    state = current_app.extensions.get(EXTENSION_KEY)
    if not isinstance(state, _State):
        raise ConfigurationError(
            "credit_check needs the CreditSDK extension: CreditSDK(app, client=...) or "
            "credit.init_app(app)"
        )
    return state


def _places() -> Places:
    body = request.get_json(silent=True)
    fields = body if isinstance(body, dict) else request.form
    return [("path", request.view_args or {}), ("body", fields), ("query", request.args)]


def credit_check(
    scenario: Scenario | str,
    *,
    subject: Source = "subject",
    context: QueryContext | Callable[..., Any] | None = None,
    authorization: Callable[..., Any] | None = None,
    policy: RefusalPolicy | None = None,
) -> Callable[[_View], _View]:
    """Decorate a Flask view: check its subject in ``scenario`` before it runs.

    ``subject``: a field name (URL rule variables, then the JSON or form body, then the query
    string; dotted names walk into JSON objects) or a function of the request. ``context`` and
    ``authorization``: a value or a function of the request (see :class:`CreditSDK`).
    ``policy`` overrides the app's :class:`RefusalPolicy`.

    >>> @app.post("/hiring/<int:post>")                                 # doctest: +SKIP
    ... @credit_check("civil_service_hiring", subject="candidate.id_number",
    ...               authorization=consent_from_form)
    ... def hire(post, decision):
    ...     ...
    """
    parsed = Scenario.parse(scenario)

    def decorate(view: _View) -> _View:
        if inspect.iscoroutinefunction(view):
            raise ConfigurationError(
                "credit_check (Flask) decorates synchronous views: the client is blocking"
            )
        takes_decision = "decision" in inspect.signature(view).parameters

        @functools.wraps(view)
        def checked_view(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            state = _state()
            spec = RouteCheck(
                parsed,
                subject,
                context if context is not None else state.context,
                authorization,
                policy,
            )
            result = decide_request_sync(
                resolve_client(state.client, "credit_check (Flask)"),
                spec,
                request,
                _places,
                request.headers.get,
                spec.policy_or(state.policy),
            )
            if isinstance(result, Problem):
                return problem_response(result)
            setattr(g, _G_KEY, result)
            if takes_decision:
                kwargs["decision"] = result
            # The view's own exceptions are not ours to handle: they propagate unchanged.
            return cast(ResponseReturnValue, view(*args, **kwargs))

        return cast(_View, checked_view)

    return decorate
