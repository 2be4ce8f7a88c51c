"""What every adapter shares, without importing any web framework.

An adapter does four things at a decision point (Art. 27): find the subject and the query
context in a request (or in a function call), run the check, decide from the outcome whether
the request goes on, and, when it does not, answer with an RFC 9457 problem document
(``application/problem+json``) that a case officer and a client program can both read. This
module holds those pieces; the framework modules only wire them the framework's own way.

* :class:`RefusalPolicy`: which outcomes refuse the request and with which status (default
  ``RESTRICTED`` → 403, ``REVIEW`` → 409, ``INDETERMINATE`` → 503 with ``Retry-After``), or
  :meth:`RefusalPolicy.never` to let everything through and only attach the decision.
* :class:`Problem`: a problem document built from a :class:`~credit_sdk.Decision` or from an
  SDK error. Subjects appear masked only (``9123**********017F``); raw identifiers never
  appear in a body, a header, a log line or a repr.
* :class:`CheckRefused`: the typed error that decorators raise, carrying the decision.
* :class:`RouteCheck`: a scenario plus where its subject, query context and authorisation come
  from; what a route declares.

>>> from credit_sdk import Outcome
>>> policy = RefusalPolicy().allow(Outcome.REVIEW)        # review cases go on to the handler
>>> policy.status_for_outcome(Outcome.RESTRICTED), policy.status_for_outcome(Outcome.REVIEW)
(403, None)
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeAlias, TypeVar
from urllib.parse import parse_qsl

from credit_sdk import (
    AppliedMeasure,
    AsyncCreditClient,
    AuditError,
    Authorization,
    AuthorizationError,
    ConfigurationError,
    CreditClient,
    CreditSDKError,
    Decision,
    Identifier,
    InvalidIdentifier,
    InvalidQuery,
    Lang,
    Outcome,
    PlatformError,
    QueryContext,
    Scenario,
    bilingual,
    code_label,
    parse_identifier,
)

__all__ = [
    "CONTEXT_FIELDS",
    "CONTEXT_HEADERS",
    "DEFAULT_POLICY",
    "PROBLEM_JSON",
    "AnyClient",
    "CheckRefused",
    "ClientSource",
    "Places",
    "Problem",
    "RefusalPolicy",
    "RouteCheck",
    "Source",
    "check_async",
    "check_sync",
    "context_from_fields",
    "decide_request_async",
    "decide_request_sync",
    "decision_problem",
    "ensure_authorization",
    "ensure_context",
    "error_problem",
    "field_value",
    "form_or_json",
    "gate",
    "maybe_await",
    "missing",
    "resolve_client",
    "subject_text",
]

_log = logging.getLogger("credit_sdk.adapters")

_T = TypeVar("_T")

PROBLEM_JSON = "application/problem+json"

AnyClient: TypeAlias = CreditClient | AsyncCreditClient
#: A client, or a function returning the shared client (so that a decorator can be applied at
#: import time, before the client exists).
ClientSource: TypeAlias = AnyClient | Callable[[], AnyClient]
#: Where a value comes from: a field name (looked up by the adapter), or a function of the
#: request (web adapters) or of the call's bound arguments (decorators).
Source: TypeAlias = str | Callable[..., Any]

#: The four fields of a :class:`~credit_sdk.QueryContext`, looked up by name when a route does
#: not say how to build its context.
CONTEXT_FIELDS = ("organ", "operator", "matter_code", "purpose")
#: Request headers consulted for those fields after the path, body and query string.
CONTEXT_HEADERS = {
    "organ": "X-Credit-Organ",
    "operator": "X-Credit-Operator",
    "matter_code": "X-Credit-Matter-Code",
    "purpose": "X-Credit-Purpose",
}

_DEFAULT_STATUSES: Mapping[Outcome, int] = MappingProxyType(
    {Outcome.RESTRICTED: 403, Outcome.REVIEW: 409, Outcome.INDETERMINATE: 503}
)

_TITLES = {
    Outcome.RESTRICTED: ("适用失信约束措施", "Credit restrictions apply"),
    Outcome.REVIEW: (
        "信用信息异议处理中，需人工复核",
        "Credit information under objection: review required",
    ),
    Outcome.INDETERMINATE: ("无法判定，核查未完成", "Credit check indeterminate: failed closed"),
    Outcome.INCENTIVES: ("适用守信激励措施", "Credit incentives apply"),
    Outcome.CLEAR: ("未发现需适用的措施", "No credit measure applies"),
}

#: Titles of the request-error problems, by problem type slug (Chinese, English).
_ERROR_TITLES = {
    "invalid-identifier": ("证件号码或统一社会信用代码无效", "Invalid identifier"),
    "authorization-required": (
        "信息主体的授权不允许本次查询",
        "The subject's authorisation does not allow this query (Art. 25, 56)",
    ),
    "invalid-query": ("查询条件不完整或不符合要求", "The credit query cannot be made as asked"),
    "audit-unavailable": (
        "查询日志无法写入，核查暂不可用",
        "Credit check unavailable: query log not writable",
    ),
    "platform-unavailable": (
        "信用信息平台不可用，核查未完成",
        "Credit platform unavailable: failed closed",
    ),
}


# --- the policy -----------------------------------------------------------------------------


def _outcome(value: Outcome | str) -> Outcome:
    try:
        return Outcome(value)
    except ValueError:
        accepted = ", ".join(o.value for o in Outcome)
        from credit_sdk._errors import vocabulary_word

        shown = repr(value) if vocabulary_word(value) else "(not shown)"
        raise ConfigurationError(
            f"RefusalPolicy: unknown outcome {shown}; outcomes are {accepted}"
        ) from None


@dataclass(frozen=True, slots=True)
class RefusalPolicy:
    """Which outcomes refuse a request, with which HTTP status, and how problems are typed.

    An outcome mapped to a status refuses the request (web adapters answer with a problem
    document; decorators raise :class:`CheckRefused`); an outcome not in the mapping goes on,
    and the handler receives the decision. ``INDETERMINATE`` refused with 503 carries
    ``Retry-After: retry_after``: the platform may come back, the subject is never treated as
    clear (fail closed).

    ``errors_as_problems``: invalid identifiers (422), missing subjects (400), missing or
    insufficient authorisations (403), an unwritable query log and platform errors raised under
    ``raise_on_unavailable`` (503) become problem documents; with ``False`` they propagate to the
    framework's own error handling instead. Configuration errors always propagate: they are
    bugs in the host, not answers to the request.

    >>> from credit_sdk import Outcome
    >>> RefusalPolicy.never().status_for_outcome(Outcome.RESTRICTED) is None
    True
    >>> RefusalPolicy().refuse(Outcome.REVIEW, 423).status_for_outcome(Outcome.REVIEW)
    423
    """

    statuses: Mapping[Outcome, int] = field(default_factory=lambda: _DEFAULT_STATUSES)
    retry_after: int = 30
    problem_type_base: str = "urn:credit-sdk:problem:"
    errors_as_problems: bool = True
    #: The language of problem ``title`` and ``detail``: ``"zh-en"`` (Chinese first, the
    #: default), ``"zh"`` or ``"en"``. ``type`` and the other members never change with it.
    lang: Lang = "zh-en"

    def __post_init__(self) -> None:
        if self.lang not in ("zh-en", "zh", "en"):
            raise ConfigurationError("RefusalPolicy.lang must be one of zh-en, zh, en")
        normalised: dict[Outcome, int] = {}
        for outcome, status in dict(self.statuses).items():
            key = _outcome(outcome)
            if not isinstance(status, int) or isinstance(status, bool):
                raise TypeError(
                    f"RefusalPolicy: the status for {key.value} must be int, not "
                    f"{type(status).__name__}"
                )
            if not 400 <= status <= 599:
                raise ConfigurationError(
                    f"RefusalPolicy: the status for {key.value} must be an HTTP error status "
                    f"(400-599), got {status}"
                )
            normalised[key] = status
        if self.retry_after < 0:
            raise ConfigurationError("RefusalPolicy.retry_after must not be negative")
        object.__setattr__(self, "statuses", MappingProxyType(normalised))

    @classmethod
    def never(cls) -> RefusalPolicy:
        """Let every outcome through and only attach the decision (the handler decides)."""
        return cls(statuses={})

    def refuse(self, outcome: Outcome | str, status: int) -> RefusalPolicy:
        """A copy that refuses ``outcome`` with ``status``."""
        return self._with({**self.statuses, _outcome(outcome): status})

    def allow(self, *outcomes: Outcome | str) -> RefusalPolicy:
        """A copy that lets ``outcomes`` through to the handler."""
        drop = {_outcome(o) for o in outcomes}
        return self._with({o: s for o, s in self.statuses.items() if o not in drop})

    def _with(self, statuses: Mapping[Outcome, int]) -> RefusalPolicy:
        return RefusalPolicy(
            statuses=statuses,
            retry_after=self.retry_after,
            problem_type_base=self.problem_type_base,
            errors_as_problems=self.errors_as_problems,
            lang=self.lang,
        )

    def status_for_outcome(self, outcome: Outcome) -> int | None:
        """The refusing status for ``outcome``, or ``None`` when it goes on."""
        return self.statuses.get(outcome)

    def refuses(self, decision: Decision) -> bool:
        return decision.outcome in self.statuses

    def problem_type(self, slug: str) -> str:
        return f"{self.problem_type_base}{slug}"


DEFAULT_POLICY = RefusalPolicy()


# --- problem documents ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """An RFC 9457 problem document, with the headers that go with it.

    ``body`` holds ``type``, ``title``, ``status``, ``detail`` and the extension members;
    ``decision`` is the decision it was built from (``None`` for request errors).

    >>> Problem(status=400, body={"status": 400}).content_type
    'application/problem+json'
    """

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
    decision: Decision | None = None

    content_type = PROBLEM_JSON

    def json_bytes(self) -> bytes:
        # ensure_ascii=False: measure titles and legal bases are Chinese legal text.
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def all_headers(self) -> dict[str, str]:
        """Headers for the response, ``Content-Type`` included."""
        return {"Content-Type": PROBLEM_JSON, **self.headers}

    def __repr__(self) -> str:
        return f"Problem(status={self.status}, type={self.body.get('type')!r})"


def _measure_summary(m: AppliedMeasure) -> dict[str, Any]:
    return {
        "measure_id": m.measure_id,
        "title": m.title,
        "kind": m.kind,
        "legal_basis": list(m.legal_basis),
        "implementing_body": m.implementing_body,
        "range_item": m.range_item,
    }


def _reason_codes(decision: Decision) -> list[str]:
    """Every reason code the decision carries, except the uninformative ``APPLIED``: why the
    commitment route is closed (Art. 28), why measures were held or left out, advisories and
    flags."""
    codes = {a.code.value for a in decision.advisories}
    codes.update(e.reason.value for e in decision.exclusions)
    codes.update(m.reason.value for m in (*decision.restrictions, *decision.held_for_review))
    if not decision.commitment_eligible:
        codes.add(decision.commitment.reason.value)
    codes.update(decision.flags)
    codes.discard("APPLIED")
    return sorted(codes)


def _scenario_text(value: str, lang: Lang) -> str:
    try:
        scenario = Scenario.parse(value)
    except InvalidQuery:
        return value
    return f"{bilingual(scenario.label_zh, scenario.value, lang)} (Art. {scenario.article_item})"


def _decision_detail(decision: Decision, lang: Lang) -> str:
    who, where = decision.subject, _scenario_text(decision.scenario, lang)
    if decision.outcome is Outcome.RESTRICTED:
        n = len(decision.restrictions)
        zh = f"主体 {who} 在{where}事项中适用 {n} 项已公布的失信约束措施，每项均列明设定依据。"
        en = (
            "1 published restriction applies" if n == 1 else f"{n} published restrictions apply"
        ) + f" to subject {who} for {where}; each is listed with its legal basis."
    elif decision.outcome is Outcome.REVIEW:
        zh = f"主体 {who}（{where}）的措施依赖异议处理中的信息（第五十三条），须经人工复核。"
        en = (
            f"a measure for subject {who} ({where}) depends on information under objection "
            "(Art. 53): a case officer must review the case before it goes on."
        )
    elif decision.outcome is Outcome.INDETERMINATE:
        zh = f"未取得主体 {who}（{where}）的可用信用信息，核查未完成；请稍后重试，不得视为无失信。"
        en = (
            f"no usable credit data for subject {who} ({where}): the check failed closed; try "
            "again later, and do not treat the subject as clear."
        )
    else:
        label = code_label("outcome", decision.outcome.value, "zh")
        zh = f"主体 {who}（{where}）的核查结论：{label}。"
        en = f"outcome {decision.outcome.value} for subject {who} ({where})."
    return bilingual(zh, en, lang)


def decision_problem(decision: Decision, status: int, policy: RefusalPolicy) -> Problem:
    """The problem document for a decision that refuses a request.

    Members beyond RFC 9457's: ``outcome``, ``scenario``, ``subject`` (masked) and
    ``subject_kind``, ``restrictions`` and ``held_for_review`` (title, kind, legal basis,
    implementing body, range item of each), ``reason_codes``, ``commitment_eligible`` and
    ``query_id`` (what the query log and feedback refer to).
    """
    body: dict[str, Any] = {
        "type": policy.problem_type(f"credit-{decision.outcome.value.lower()}"),
        "title": bilingual(*_TITLES[decision.outcome], policy.lang),
        "status": status,
        "detail": _decision_detail(decision, policy.lang),
        "outcome": decision.outcome.value,
        "scenario": decision.scenario,
        "subject": decision.subject,
        "subject_kind": decision.subject_kind,
        "restrictions": [_measure_summary(m) for m in decision.restrictions],
        "held_for_review": [_measure_summary(m) for m in decision.held_for_review],
        "reason_codes": _reason_codes(decision),
        "commitment_eligible": decision.commitment_eligible,
        "query_id": decision.query_id,
    }
    headers = {"Cache-Control": "no-store"}
    if decision.outcome is Outcome.INDETERMINATE and status in (429, 503):
        headers["Retry-After"] = str(policy.retry_after)
    return Problem(status=status, body=body, headers=headers, decision=decision)


def _error_body(
    policy: RefusalPolicy, slug: str, status: int, detail: tuple[str, str], **extra: Any
) -> dict[str, Any]:
    return {
        "type": policy.problem_type(slug),
        "title": bilingual(*_ERROR_TITLES[slug], policy.lang),
        "status": status,
        "detail": bilingual(*detail, policy.lang),
        **{k: v for k, v in extra.items() if v is not None},
    }


def error_problem(
    err: CreditSDKError, policy: RefusalPolicy, *, field_name: str | None = None
) -> Problem | None:
    """The problem document for an SDK error raised while checking, or ``None`` when the error
    must propagate (configuration errors, or ``errors_as_problems=False``).

    SDK messages never carry raw identifiers (see ``credit_sdk``'s error module), so the
    message is the ``detail``; ``rule`` names the rule that failed.
    """
    if not policy.errors_as_problems or isinstance(err, ConfigurationError):
        return None
    headers = {"Cache-Control": "no-store"}
    message = str(err)
    if isinstance(err, InvalidIdentifier):
        body = _error_body(
            policy, "invalid-identifier", 422,
            (f"标识不符合规则 {err.rule}。", message),
            rule=err.rule, identifier_kind=err.kind, field=field_name,
        )  # fmt: skip
        return Problem(422, body, headers)
    if isinstance(err, AuthorizationError):
        body = _error_body(
            policy, "authorization-required", 403,
            (f"查询自然人信息须有其有效授权（第二十五条、第五十六条），不符合规则 {err.rule}。",
             message),
            rule=err.rule,
        )  # fmt: skip
        return Problem(403, body, headers)
    if isinstance(err, InvalidQuery):
        status = 400 if err.rule.endswith("_missing") else 422
        body = _error_body(
            policy, "invalid-query", status, (f"查询条件不符合规则 {err.rule}。", message),
            rule=err.rule, field=field_name,
        )  # fmt: skip
        return Problem(status, body, headers)
    retry = {**headers, "Retry-After": str(policy.retry_after)}
    if isinstance(err, AuditError):
        # The query log is down: the check failed closed (Art. 25: no unlogged query).
        _log.error("credit check failed closed: the query log could not be written")
        body = _error_body(
            policy, "audit-unavailable", 503,
            ("查询无法按第二十五条记入查询日志，因此未予查询；请稍后重试。",
             "the query could not be logged as Art. 25 requires, so it was not made; try "
             "again later"),
        )  # fmt: skip
        return Problem(503, body, retry)
    if isinstance(err, PlatformError):
        body = _error_body(
            policy, "platform-unavailable", 503,
            (f"信用信息平台未给出可用答复（{type(err).__name__}）；请稍后重试，不得视为无失信。",
             f"the credit platform gave no usable answer ({type(err).__name__}); try again "
             "later, and do not treat the subject as clear"),
        )  # fmt: skip
        return Problem(503, body, retry)
    return None


def missing(what: str, name: str, places: Sequence[str]) -> InvalidQuery:
    """The error for a value the request does not carry (a 400 problem)."""
    where = ", ".join(places) if places else "the request"
    rule = "subject_missing" if what == "subject" else f"{what}_missing"
    return InvalidQuery(f"no {what} field {name!r} in {where}", rule=rule)


# --- the typed refusal ---------------------------------------------------------------------


class CheckRefused(CreditSDKError):
    """A call was refused because of its credit decision; the decision is attached.

    Raised by :mod:`credit_sdk.adapters.decorators` (and understood by every web adapter,
    which turns it into the same problem document as a refused request). The message names the
    outcome, the scenario and the masked subject, never a raw identifier.

    >>> try:                                                   # doctest: +SKIP
    ...     approve_licence(application)
    ... except CheckRefused as refused:
    ...     print(refused.decision.explain())
    """

    def __init__(
        self, decision: Decision, *, status: int = 403, problem: Problem | None = None
    ) -> None:
        self.decision = decision
        self.status = status
        self.problem = problem or decision_problem(decision, status, DEFAULT_POLICY)
        super().__init__(
            f"credit check refused the call: {decision.outcome.value} for subject "
            f"{decision.subject} ({decision.scenario})"
        )


# --- what a route declares ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RouteCheck:
    """A check a route (or a function) declares: the scenario, and where the subject, the query
    context and the subject's authorisation come from.

    ``subject`` is a field name or a function; ``context`` is a :class:`~credit_sdk.QueryContext`,
    a function returning one, or ``None`` (the four fields by name, see
    :data:`CONTEXT_FIELDS`); ``authorization`` is ``None`` or a function returning an
    :class:`~credit_sdk.Authorization` (or ``None``). Functions receive the framework's
    request (web adapters) and may be ``async`` where the framework is.

    >>> RouteCheck("admin_licensing", subject="applicant_id").scenario
    <Scenario.ADMIN_LICENSING: 'admin_licensing'>
    """

    scenario: Scenario
    subject: Source = "subject"
    context: QueryContext | Callable[..., Any] | None = None
    authorization: Callable[..., Any] | None = None
    policy: RefusalPolicy | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "scenario", Scenario.parse(self.scenario))
        if not (isinstance(self.subject, str) and self.subject) and not callable(self.subject):
            raise ConfigurationError("RouteCheck.subject must be a field name or a function")
        if self.context is not None and not (
            isinstance(self.context, QueryContext) or callable(self.context)
        ):
            raise ConfigurationError(
                "RouteCheck.context must be a QueryContext, a function returning one, or None"
            )
        if self.authorization is not None and not callable(self.authorization):
            raise ConfigurationError("RouteCheck.authorization must be a function or None")

    def policy_or(self, default: RefusalPolicy) -> RefusalPolicy:
        return self.policy if self.policy is not None else default


# --- finding values -------------------------------------------------------------------------


def form_or_json(content_type: str, body: bytes) -> Mapping[str, Any]:
    """The fields of a JSON object or URL-encoded form body; empty for anything else."""
    media = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return {}
    if media == "application/json" or media.endswith("+json"):
        from credit_sdk._bounded import loads

        try:
            # Within bounds: a request body of 3,000 nested brackets must not raise
            # RecursionError inside the host's view.
            data = loads(body, what="request body", error=ValueError)
        except ValueError:
            return {}  # the framework answers a malformed body; the subject is then missing
        return data if isinstance(data, dict) else {}
    if media == "application/x-www-form-urlencoded":
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return {}
    return {}


def field_value(name: str, places: Iterable[tuple[str, Mapping[str, Any]]]) -> Any:
    """The first value named ``name`` in ``places`` (label, mapping), or ``None``.

    A dotted name walks into nested objects or attributes: ``"applicant.id"``.
    """
    head, _, rest = name.partition(".")
    for _label, mapping in places:
        if head in mapping:
            value = mapping[head]
            return _walk(value, rest) if rest else value
    return None


def _walk(value: Any, path: str) -> Any:
    for part in path.split("."):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
    return value


def subject_text(value: Any) -> str | Identifier:
    """Accept text or an :class:`~credit_sdk.Identifier`; anything else is an invalid
    identifier (a number sent as JSON ``123`` is not one: identifiers are text)."""
    if isinstance(value, str | Identifier):
        return value
    raise InvalidIdentifier(
        f"the subject must be text, got {type(value).__name__}", rule="type", kind=None
    )


def context_from_fields(
    places: Sequence[tuple[str, Mapping[str, Any]]],
    header: Callable[[str], str | None] | None = None,
) -> QueryContext:
    """Build a :class:`~credit_sdk.QueryContext` from fields named ``organ``, ``operator``,
    ``matter_code`` and ``purpose`` (then the ``X-Credit-*`` headers); a missing one is an
    ``InvalidQuery`` with rule ``context_missing`` (a 400 problem)."""
    values: dict[str, Any] = {}
    absent = []
    for name in CONTEXT_FIELDS:
        value = field_value(name, places)
        if value is None and header is not None:
            value = header(CONTEXT_HEADERS[name])
        if value is None:
            absent.append(name)
        values[name] = value
    if absent:
        labels = [label for label, _ in places] + (["headers"] if header is not None else [])
        raise InvalidQuery(
            f"no query context: missing {', '.join(absent)} in {', '.join(labels)} "
            "(Art. 23, 25 need the organ, operator, matter and purpose of every query)",
            rule="context_missing",
        )
    return QueryContext(**values)


def resolve_client(source: ClientSource | None, where: str) -> AnyClient:
    """The client itself, or the result of the function that returns it."""
    if source is None:
        raise ConfigurationError(f"{where}: no credit client configured")
    if isinstance(source, CreditClient | AsyncCreditClient):
        return source
    if callable(source):
        client = source()
        if isinstance(client, CreditClient | AsyncCreditClient):
            return client
        raise ConfigurationError(
            f"{where}: the client function returned {type(client).__name__}, not a "
            "CreditClient or AsyncCreditClient"
        )
    raise ConfigurationError(
        f"{where}: expected a CreditClient, an AsyncCreditClient or a function returning one"
    )


def ensure_authorization(value: Any) -> Authorization | None:
    if value is None or isinstance(value, Authorization):
        return value
    raise ConfigurationError(
        f"the authorization function returned {type(value).__name__}, not an Authorization"
    )


def ensure_context(value: Any) -> QueryContext:
    if isinstance(value, QueryContext):
        return value
    raise ConfigurationError(
        f"the context function returned {type(value).__name__}, not a QueryContext"
    )


async def maybe_await(value: _T | Awaitable[_T]) -> _T:
    if inspect.isawaitable(value):
        return await value
    return value


# --- running the check ----------------------------------------------------------------------


def check_sync(
    client: AnyClient,
    scenario: Scenario,
    subject: str | Identifier,
    ctx: QueryContext,
    authorization: Authorization | None,
) -> Decision:
    """One check from blocking code; an :class:`~credit_sdk.AsyncCreditClient` is refused
    (it belongs to an event loop and cannot be driven from a worker thread)."""
    if isinstance(client, AsyncCreditClient):
        raise ConfigurationError(
            "an AsyncCreditClient cannot serve blocking code: use a CreditClient here"
        )
    return client.check(subject, scenario, ctx, authorization=authorization)


async def check_async(
    client: AnyClient,
    scenario: Scenario,
    subject: str | Identifier,
    ctx: QueryContext,
    authorization: Authorization | None,
    *,
    run_sync: Callable[[Callable[[], Decision]], Awaitable[Decision]] | None = None,
) -> Decision:
    """One check from async code: awaited on an :class:`~credit_sdk.AsyncCreditClient`, or run
    in a worker thread on a :class:`~credit_sdk.CreditClient` (its query log and HTTP calls
    block), via ``run_sync`` (default :func:`asyncio.to_thread`)."""
    if isinstance(client, AsyncCreditClient):
        return await client.check(subject, scenario, ctx, authorization=authorization)
    call = functools.partial(client.check, subject, scenario, ctx, authorization=authorization)
    if run_sync is None:
        return await asyncio.to_thread(call)
    return await run_sync(call)


def gate(decision: Decision, policy: RefusalPolicy) -> Problem | None:
    """The problem that refuses the request under ``policy``, or ``None`` when it goes on."""
    status = policy.status_for_outcome(decision.outcome)
    if status is None:
        return None
    # Masked subject and query id only: the query log has the rest (Art. 25).
    _log.info(
        "credit check refused a request: %s %s for %s (query %s)",
        status,
        decision.outcome.value,
        decision.subject,
        decision.query_id,
    )
    return decision_problem(decision, status, policy)


# --- one check for one request -------------------------------------------------------------

#: The places a request carries fields in, in lookup order: ``[("path", {...}), ("body", ...)]``.
Places: TypeAlias = Sequence[tuple[str, Mapping[str, Any]]]


def _field_name(spec: RouteCheck) -> str | None:
    return spec.subject if isinstance(spec.subject, str) else None


def _subject_from_places(spec: RouteCheck, places: Places) -> str | Identifier:
    assert isinstance(spec.subject, str)
    value = field_value(spec.subject, places)
    if value is None or value == "":
        raise missing("subject", spec.subject, [label for label, _ in places])
    return subject_text(value)


def decide_request_sync(
    client: AnyClient,
    spec: RouteCheck,
    request: Any,
    places: Callable[[], Places],
    header: Callable[[str], str | None],
    policy: RefusalPolicy,
) -> Decision | Problem:
    """Extract, check and gate one request in blocking code (Flask, Django).

    Returns the decision when the request goes on, or the problem that answers it. Only SDK
    errors become problems; anything the host's own functions raise propagates unchanged.
    """
    try:
        if isinstance(spec.subject, str):
            subject = _subject_from_places(spec, places())
        else:
            subject = subject_text(_no_coroutine(spec.subject(request)))
        if isinstance(spec.context, QueryContext):
            ctx = spec.context
        elif spec.context is not None:
            ctx = ensure_context(_no_coroutine(spec.context(request)))
        else:
            ctx = context_from_fields(places(), header)
        grant = (
            ensure_authorization(_no_coroutine(spec.authorization(request)))
            if spec.authorization is not None
            else None
        )
        decision = check_sync(client, spec.scenario, subject, ctx, grant)
    except CreditSDKError as err:
        problem = error_problem(err, policy, field_name=_field_name(spec))
        if problem is None:
            raise
        return problem
    return gate(decision, policy) or decision


async def decide_request_async(
    client: AnyClient,
    spec: RouteCheck,
    request: Any,
    places: Callable[[], Awaitable[Places]],
    header: Callable[[str], str | None],
    policy: RefusalPolicy,
    *,
    run_sync: Callable[[Callable[[], Decision]], Awaitable[Decision]] | None = None,
) -> Decision | Problem:
    """The async twin of :func:`decide_request_sync` (Starlette, FastAPI, async Django views);
    the host's functions may be ``async``."""
    try:
        if isinstance(spec.subject, str):
            subject = _subject_from_places(spec, await places())
        else:
            subject = subject_text(await maybe_await(spec.subject(request)))
        if isinstance(spec.context, QueryContext):
            ctx = spec.context
        elif spec.context is not None:
            ctx = ensure_context(await maybe_await(spec.context(request)))
        else:
            ctx = context_from_fields(await places(), header)
        grant = (
            ensure_authorization(await maybe_await(spec.authorization(request)))
            if spec.authorization is not None
            else None
        )
        decision = await check_async(client, spec.scenario, subject, ctx, grant, run_sync=run_sync)
    except CreditSDKError as err:
        problem = error_problem(err, policy, field_name=_field_name(spec))
        if problem is None:
            raise
        return problem
    return gate(decision, policy) or decision


def _no_coroutine(value: Any) -> Any:
    if inspect.isawaitable(value):
        if inspect.iscoroutine(value):
            value.close()  # never awaited: close it so no "never awaited" warning follows
        raise ConfigurationError(
            "an async function was given to a blocking adapter: use a plain function here"
        )
    return value


_ID_SHAPED = re.compile(r"[0-9A-Za-z]{15,18}")


def plain_text(value: object, what: str, use_instead: str) -> str:
    """Refuse empty text and text carrying an identifier (results and logs keep masked forms
    only, Art. 24); ``use_instead`` tells the caller what to write there instead."""
    rule = what.replace(" ", "_")
    if not isinstance(value, str) or not value.strip():
        raise InvalidQuery(f"{what} is required", rule=rule)
    for token in _ID_SHAPED.findall(value):
        try:
            parse_identifier(token)
        except ValueError:
            continue
        raise InvalidQuery(
            f"{what} contains an identifier; use {use_instead} (results keep identifiers "
            "masked, Art. 24)",
            rule=rule,
        )
    return value
