"""Django: settings-based configuration, a middleware for named routes, and a view decorator.

Configure once in ``settings.py``::

    CREDIT_SDK = {
        "CLIENT": "permits.credit.client",        # a CreditClient, or a function returning it
        "CONTEXT": "permits.credit.query_context",  # optional: request -> QueryContext
        "POLICY": None,                             # optional: a RefusalPolicy (or its path)
        "ROUTES": {                                 # optional, for the middleware
            "licence-apply": {"scenario": "admin_licensing", "subject": "applicant_id"},
        },
    }
    MIDDLEWARE = [..., "credit_sdk.adapters.django.CreditCheckMiddleware"]

Values may be objects or dotted import paths. :class:`CreditCheckMiddleware` checks the views
whose URL name (``"namespace:name"`` or ``"name"``) is in ``ROUTES``, in Django's own
``process_view`` hook, and answers :class:`CheckRefused` raised by decorated service functions;
:func:`credit_check` decorates a view directly and needs no middleware. Either way a refused
request gets an RFC 9457 ``application/problem+json`` answer (403 restricted, 409 review, 503 +
``Retry-After`` indeterminate, 422 invalid identifier, 400 missing subject), and a request that
goes on carries the decision in ``request.credit_decision`` (and the view's ``decision``
argument if it declares one). Exceptions raised by views pass through untouched.

>>> from credit_sdk.adapters.django import credit_check             # doctest: +SKIP
>>> @require_POST  # doctest: +SKIP
... @credit_check("admin_licensing", subject="applicant_id")
... def apply(request, decision):
...     return JsonResponse({"outcome": decision.outcome})
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

try:
    from django.conf import settings
    from django.http import HttpRequest, HttpResponse
    from django.utils.module_loading import import_string
except ImportError as err:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "credit_sdk.adapters.django needs Django: pip install 'credit-sdk[django]'"
    ) from err

from credit_sdk import (
    ConfigurationError,
    CreditSDKError,
    Decision,
    QueryContext,
    Scenario,
)

from ._common import (
    DEFAULT_POLICY,
    AnyClient,
    CheckRefused,
    ClientSource,
    Places,
    Problem,
    RefusalPolicy,
    RouteCheck,
    Source,
    decide_request_async,
    decide_request_sync,
    error_problem,
    form_or_json,
    resolve_client,
)

__all__ = [
    "SETTING",
    "CheckRefused",
    "CreditCheckMiddleware",
    "RefusalPolicy",
    "credit_check",
    "decision_of",
    "problem_response",
]

#: The settings name: ``settings.CREDIT_SDK``.
SETTING = "CREDIT_SDK"
_ATTRIBUTE = "credit_decision"

_View = TypeVar("_View", bound=Callable[..., Any])


def problem_response(problem: Problem) -> HttpResponse:
    """A Django response for a problem document."""
    response = HttpResponse(
        problem.json_bytes(), status=problem.status, content_type=problem.content_type
    )
    for name, value in problem.headers.items():
        response[name] = value
    return response


def decision_of(request: HttpRequest) -> Decision | None:
    """The decision checked for ``request`` (``request.credit_decision``), or ``None``."""
    value = getattr(request, _ATTRIBUTE, None)
    return value if isinstance(value, Decision) else None


# --- settings -------------------------------------------------------------------------------


def _config() -> Mapping[str, Any]:
    value = getattr(settings, SETTING, None)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"settings.{SETTING} must be a dict")
    return value


def _load(value: Any) -> Any:
    # Dotted paths keep settings.py free of imports of the application's own modules.
    return import_string(value) if isinstance(value, str) else value


def _client(explicit: ClientSource | None) -> AnyClient:
    source = explicit if explicit is not None else _load(_config().get("CLIENT"))
    return resolve_client(source, f"credit-sdk Django adapter (settings.{SETTING}['CLIENT'])")


def _policy(explicit: RefusalPolicy | None) -> RefusalPolicy:
    if explicit is not None:
        return explicit
    value = _load(_config().get("POLICY"))
    if value is None:
        return DEFAULT_POLICY
    if not isinstance(value, RefusalPolicy):
        raise ConfigurationError(f"settings.{SETTING}['POLICY'] must be a RefusalPolicy")
    return value


def _default_context() -> QueryContext | Callable[..., Any] | None:
    value = _load(_config().get("CONTEXT"))
    if value is not None and not (isinstance(value, QueryContext) or callable(value)):
        raise ConfigurationError(
            f"settings.{SETTING}['CONTEXT'] must be a QueryContext or a function of the request"
        )
    return cast("QueryContext | Callable[..., Any] | None", value)


def _route(value: Any) -> RouteCheck:
    if isinstance(value, RouteCheck):
        return value
    if isinstance(value, str):
        return RouteCheck(Scenario.parse(value))
    if not isinstance(value, Mapping) or "scenario" not in value:
        raise ConfigurationError(
            f"settings.{SETTING}['ROUTES'] values must be a scenario, a RouteCheck, or a dict "
            "with 'scenario' (and optionally 'subject', 'context', 'authorization', 'policy')"
        )
    unknown = set(value) - {"scenario", "subject", "context", "authorization", "policy"}
    if unknown:
        raise ConfigurationError(f"settings.{SETTING}['ROUTES']: unknown keys {sorted(unknown)}")
    subject = value.get("subject", "subject")
    return RouteCheck(
        Scenario.parse(value["scenario"]),
        subject,
        _load(value.get("context")),
        _load(value.get("authorization")),
        _load(value.get("policy")),
    )


def _with_default_context(spec: RouteCheck) -> RouteCheck:
    if spec.context is not None:
        return spec
    default = _default_context()
    if default is None:
        return spec
    return RouteCheck(spec.scenario, spec.subject, default, spec.authorization, spec.policy)


# --- the request --------------------------------------------------------------------------


def _places(request: HttpRequest, path: Mapping[str, Any]) -> Callable[[], Places]:
    def places() -> Places:
        if request.content_type == "application/json":
            body: Mapping[str, Any] = form_or_json(request.content_type, request.body)
        else:
            body = request.POST
        return [("path", path), ("body", body), ("query", request.GET)]

    return functools.cache(places)


def _check(request: HttpRequest, spec: RouteCheck, path: Mapping[str, Any], client: Any) -> Any:
    spec = _with_default_context(spec)
    return decide_request_sync(
        _client(client),
        spec,
        request,
        _places(request, path),
        request.headers.get,
        spec.policy_or(_policy(None)),
    )


class CreditCheckMiddleware:
    """Checks the views named in ``settings.CREDIT_SDK["ROUTES"]`` before they run, and answers
    :class:`CheckRefused` with its problem document.

    Synchronous (Django runs it in a thread under ASGI); the client must be a blocking
    :class:`~credit_sdk.CreditClient`.

    >>> MIDDLEWARE = [..., "credit_sdk.adapters.django.CreditCheckMiddleware"]  # doctest: +SKIP
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def __repr__(self) -> str:
        return "CreditCheckMiddleware()"

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        routes = _config().get("ROUTES") or {}
        match = request.resolver_match
        if not routes or match is None:
            return None
        declared = routes.get(match.view_name)
        if declared is None and match.url_name is not None:
            declared = routes.get(match.url_name)
        if declared is None:
            return None
        result = _check(request, _route(declared), view_kwargs, None)
        if isinstance(result, Problem):
            return problem_response(result)
        setattr(request, _ATTRIBUTE, result)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Our own refusal, and the SDK's request errors raised in a view (a workflow helper's
        # InvalidIdentifier or AuthorizationError...), are answered as problems; configuration
        # errors and every other exception go on to Django.
        if isinstance(exception, CheckRefused):
            return problem_response(exception.problem)
        if isinstance(exception, CreditSDKError):
            problem = error_problem(exception, _policy(None))
            if problem is not None:
                return problem_response(problem)
        return None


def credit_check(
    scenario: Scenario | str,
    *,
    subject: Source = "subject",
    context: QueryContext | Callable[..., Any] | None = None,
    authorization: Callable[..., Any] | None = None,
    policy: RefusalPolicy | None = None,
    client: ClientSource | None = None,
) -> Callable[[_View], _View]:
    """Decorate a Django view (function, or ``async def`` view): check its subject in
    ``scenario`` before it runs.

    ``subject``: a field name (URL kwargs, then the JSON or form body, then the query string)
    or a function of the request. ``context``: a :class:`~credit_sdk.QueryContext`, a function
    of the request, or ``None`` for ``settings.CREDIT_SDK["CONTEXT"]`` (else the fields
    ``organ``, ``operator``, ``matter_code``, ``purpose``, then ``X-Credit-*`` headers).
    ``authorization``: a function of the request returning the subject's
    :class:`~credit_sdk.Authorization`. ``client`` and ``policy`` default to the settings.
    Async views may use an :class:`~credit_sdk.AsyncCreditClient`.

    >>> @credit_check("civil_service_hiring", subject="candidate_id",   # doctest: +SKIP
    ...               authorization=consent_from_form)
    ... def hire(request, post_id, decision):
    ...     ...
    """
    spec = RouteCheck(Scenario.parse(scenario), subject, context, authorization, policy)

    def decorate(view: _View) -> _View:
        takes_decision = "decision" in inspect.signature(view).parameters

        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                active = _with_default_context(spec)
                sync_places = _places(request, kwargs)

                async def places() -> Places:
                    return sync_places()

                result = await decide_request_async(
                    _client(client),
                    active,
                    request,
                    places,
                    request.headers.get,
                    active.policy_or(_policy(None)),
                )
                if isinstance(result, Problem):
                    return problem_response(result)
                setattr(request, _ATTRIBUTE, result)
                if takes_decision:
                    kwargs["decision"] = result
                return await view(request, *args, **kwargs)

            return cast(_View, async_checked)

        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            result = _check(request, spec, kwargs, client)
            if isinstance(result, Problem):
                return problem_response(result)
            setattr(request, _ATTRIBUTE, result)
            if takes_decision:
                kwargs["decision"] = result
            # The view's own exceptions are not ours to handle: they propagate unchanged.
            return view(request, *args, **kwargs)

        return cast(_View, checked)

    return decorate
