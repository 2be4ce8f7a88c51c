"""Decorators for plain service functions and methods, sync and async: no web framework needed.

``@credit_check(client, scenario, subject=..., context=...)`` runs a check before the function
body. The subject, query context and authorisation come from the call's arguments, by name
(``"applicant_id"``, or a dotted path such as ``"application.applicant.id_number"``) or by a
function of the bound arguments (a mapping from parameter name to value, defaults applied).
Then, under the :class:`RefusalPolicy`:

* an outcome the policy refuses (by default ``RESTRICTED``, ``REVIEW``, ``INDETERMINATE``)
  raises :class:`CheckRefused`, which carries the decision and its problem document;
* any other outcome runs the function, passing the decision as its ``decision`` argument when
  it declares one (give it the default :data:`INJECTED` so that type checkers do not ask
  callers for it). ``policy=RefusalPolicy.never()`` refuses nothing: the function decides.

SDK errors (an invalid identifier, a missing authorisation, an unwritable query log) propagate
as they are, and so does everything the function raises.

>>> from credit_sdk.adapters.decorators import INJECTED, credit_check   # doctest: +SKIP
>>> @credit_check(client, "admin_licensing", subject="application.applicant_id",  # doctest: +SKIP
...               context="ctx")
... def approve(application, ctx, *, decision: Decision = INJECTED) -> bool:
...     return decision.commitment_eligible
>>> approve(application, ctx)      # CheckRefused for a severe-list applicant  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar, cast

from credit_sdk import AsyncCreditClient, ConfigurationError, Decision, QueryContext, Scenario

from ._common import (
    DEFAULT_POLICY,
    CheckRefused,
    ClientSource,
    RefusalPolicy,
    Source,
    check_async,
    check_sync,
    context_from_fields,
    decision_problem,
    ensure_authorization,
    ensure_context,
    field_value,
    missing,
    resolve_client,
    subject_text,
)

__all__ = ["INJECTED", "CheckRefused", "RefusalPolicy", "credit_check"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: The parameter through which the decision is passed in.
DECISION_PARAMETER = "decision"


class _Injected:
    """The default of a decorated function's ``decision`` parameter (see :data:`INJECTED`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<decision passed in by credit_check>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # introspection (copy, inspect, pickle) asks for these
        raise ConfigurationError(
            f"no credit decision here (asked for .{name}): the function was called without "
            "its credit_check decorator"
        )


#: Default for the ``decision`` parameter of a decorated function, so that type checkers do not
#: ask callers for it: ``def grant(application, *, decision: Decision = INJECTED)``. The
#: decorator always passes the real decision; the default is never seen inside the function.
INJECTED: Any = _Injected()


def _arguments(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    bound = signature.bind_partial(*args, **kwargs)
    bound.apply_defaults()
    values = dict(bound.arguments)
    # **kwargs collected by the function are looked up as if they were named parameters.
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD and isinstance(values.get(name), dict):
            values = {**values.pop(name), **values}
    return values


def _value(source: Source | None, arguments: Mapping[str, Any]) -> Any:
    if source is None:
        return None
    if isinstance(source, str):
        return field_value(source, [("arguments", arguments)])
    return source(arguments)


def _context(source: QueryContext | Source | None, arguments: Mapping[str, Any]) -> QueryContext:
    if isinstance(source, QueryContext):
        return source
    if source is None:
        # The first QueryContext argument, else arguments named organ, operator, matter_code,
        # purpose: a service function usually receives its context from its caller.
        for value in arguments.values():
            if isinstance(value, QueryContext):
                return value
        return context_from_fields([("arguments", arguments)])
    value = _value(source, arguments)
    if value is None and isinstance(source, str):
        raise missing("context", source, ["arguments"])
    return ensure_context(value)


def credit_check(
    client: ClientSource | str,
    scenario: Scenario | str,
    *,
    subject: Source,
    context: QueryContext | Source | None = None,
    authorization: Source | None = None,
    policy: RefusalPolicy | None = None,
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Check a subject before a function runs; refuse the call or pass the decision in.

    ``client``: a :class:`~credit_sdk.CreditClient` or :class:`~credit_sdk.AsyncCreditClient`,
    a function returning one (so the decorator can be applied before the client exists), or
    the name of an argument holding it (``"self.credit"`` for a service object's client).
    Blocking functions need a ``CreditClient``; ``async def`` functions take either (a
    ``CreditClient`` runs in a worker thread). ``subject``: an argument name or dotted path, or
    a function of the bound arguments. ``context``: a :class:`~credit_sdk.QueryContext`, an
    argument name or function, or ``None`` (the first ``QueryContext`` argument, else arguments
    named ``organ``, ``operator``, ``matter_code``, ``purpose``). ``authorization``: an
    argument name or function giving the subject's :class:`~credit_sdk.Authorization`.

    >>> class Reviews:                                                 # doctest: +SKIP
    ...     @credit_check(get_client, "qualification_review", subject="candidate.id_number",
    ...                   authorization="candidate.consent")
    ...     async def qualify(self, candidate, ctx, *, decision: Decision = INJECTED):
    ...         return decision.outcome
    """
    parsed = Scenario.parse(scenario)
    chosen = policy or DEFAULT_POLICY
    if (
        context is not None
        and not isinstance(context, QueryContext | str)
        and not callable(context)
    ):
        raise ConfigurationError("context must be a QueryContext, an argument name or a function")

    def decorate(fn: Callable[_P, _R]) -> Callable[_P, _R]:
        where = f"credit_check on {fn.__qualname__}"
        signature = inspect.signature(fn)
        takes_decision = DECISION_PARAMETER in signature.parameters
        call_signature = signature
        if takes_decision:
            # Callers never pass the decision: bind their arguments without it.
            call_signature = signature.replace(
                parameters=[p for n, p in signature.parameters.items() if n != DECISION_PARAMETER]
            )
        if isinstance(client, AsyncCreditClient) and not inspect.iscoroutinefunction(fn):
            raise ConfigurationError(
                f"{fn.__qualname__} is blocking: an AsyncCreditClient checks only async "
                "functions; use a CreditClient"
            )

        def prepare(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
            arguments = _arguments(call_signature, args, kwargs)
            value = _value(subject, arguments)
            if value is None or value == "":
                name = subject if isinstance(subject, str) else getattr(subject, "__name__", "?")
                raise missing("subject", name, ["arguments"])
            ctx = _context(context, arguments)
            grant = ensure_authorization(_value(authorization, arguments))
            if isinstance(client, str):
                active = resolve_client(field_value(client, [("arguments", arguments)]), where)
            else:
                active = resolve_client(client, where)
            return active, subject_text(value), ctx, grant

        def finish(decision: Decision, kwargs: dict[str, Any]) -> None:
            status = chosen.status_for_outcome(decision.outcome)
            if status is not None:
                raise CheckRefused(
                    decision, status=status, problem=decision_problem(decision, status, chosen)
                )
            if takes_decision:
                kwargs[DECISION_PARAMETER] = decision

        if inspect.iscoroutinefunction(fn):
            async_fn = cast(Callable[..., Any], fn)

            @functools.wraps(fn)
            async def async_checked(*args: Any, **kwargs: Any) -> Any:
                active, subject_value, ctx, grant = prepare(args, kwargs)
                decision = await check_async(active, parsed, subject_value, ctx, grant)
                finish(decision, kwargs)
                return await async_fn(*args, **kwargs)

            return cast(Callable[_P, _R], async_checked)

        @functools.wraps(fn)
        def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            active, subject_value, ctx, grant = prepare(args, kwargs)
            decision = check_sync(active, parsed, subject_value, ctx, grant)
            finish(decision, kwargs)
            return fn(*args, **kwargs)

        return checked

    return decorate
