"""Licensing workflow (行政许可): the commitment route, the green channel, post-commitment checks.

For permit approval systems at the Art. 27(1) decision point. Three steps, each one call:

1. :func:`check_applicant` (or :func:`acheck_applicant`) checks the applicant and says whether
   the credit-commitment route (信用承诺制, Art. 28) is open and why, which green-channel
   measures (绿色通道, 容缺受理: Art. 40(1)) apply, and which restrictions withhold facilitation
   (Art. 41(1), (2)).
2. :func:`approve_by_commitment` records an approval on the commitment route and computes the
   post-commitment verification due date (Art. 30: within two months of the approval).
3. :func:`report_commitment_breach` (or :func:`areport_commitment_breach`) reports a commitment
   found false (虚假承诺) or unfulfilled (未履行承诺) at that verification back to the credit
   platform as an Art. 22 push with its document, through the client's durable outbox, once
   however often it is called.

Every result carries the underlying :class:`~credit_sdk.Decision`, whose ``query_id`` links the
query log (Art. 25) and the feedback (Art. 46).

>>> import datetime as dt
>>> from credit_sdk import QueryContext
>>> from credit_sdk.adapters.licensing import approve_by_commitment, check_applicant
>>> ctx = QueryContext(organ="230100-SCJGJ", operator="u1024", matter_code="LIC-FOOD",
...                    purpose="food business licence application 2026-118")
>>> check = check_applicant(client, "91230100MA1C2X3Y48", ctx)       # doctest: +SKIP
>>> if check.commitment_route:                                       # doctest: +SKIP
...     approval = approve_by_commitment(check, case_id="2026-118",
...                                      approved_on=dt.date(2026, 3, 2))
...     approval.verification_due
datetime.date(2026, 5, 2)

**Counting the two months (Art. 30).** Calendar months from the day of the approval: the due
date is the same day of the month two months later, or that month's last day when it has no
such day (31 December → 28 or 29 February), which is how periods in months are counted under
the Civil Code (Art. 201, 202). The due date is not moved off weekends or holidays: it is the
organ's own deadline, and moving it would only make it later. The number of months comes from
the client's policy profile (``commitment_verification_months``, 2 under the draft).

**Reporting a breach.** A commitment found false or unfulfilled is public credit information
the organ produced (catalogue category ``commitment_breach``), so the report is an **Art. 22
push** (:meth:`CreditClient.push_information`) carrying its effective legal document (the
organ's decision on the finding), due at the platform within five working days of the day it
was found. It goes to the durable outbox of the client's query log and is delivered once by the
client's background sender (``client.flush()`` delivers now); its record id is the reserved
measure id and the case (``ART30-FALSE-COMMITMENT:2026-118``), and its idempotency key is
derived from what it says, so reporting the same breach again sends nothing new.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from credit_sdk import (
    AppliedMeasure,
    AsyncCreditClient,
    Authorization,
    BasisDocument,
    CreditClient,
    Decision,
    DutyReceipt,
    Identifier,
    InformationPush,
    InvalidQuery,
    Lang,
    Outcome,
    QueryContext,
    ReasonCode,
    Scenario,
    TriggerRef,
    bilingual,
    code_label,
    parse_identifier,
    period_last_day,
    shown,
)

from ._common import plain_text

__all__ = [
    "LICENSING_SCENARIOS",
    "CommitmentApproval",
    "CommitmentBreach",
    "CommitmentBreachReport",
    "CommitmentRoute",
    "LicensingCheck",
    "acheck_applicant",
    "approve_by_commitment",
    "areport_commitment_breach",
    "check_applicant",
    "report_commitment_breach",
    "verification_due",
]

#: Where the commitment route exists (Art. 28): administrative licensing (行政许可) and
#: certification matters (证明事项).
LICENSING_SCENARIOS = frozenset({Scenario.ADMIN_LICENSING, Scenario.CERTIFICATION})

_CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
_MAX_DETAIL = 400  # the contract bounds a feedback reason to 500 characters, label included

_ROUTE_TEXT: dict[ReasonCode, str] = {
    ReasonCode.COMMITMENT_ALLOWED: (
        "可以自愿选择信用承诺制办理 (Art. 28 ¶1): the applicant may choose the commitment route"
    ),
    ReasonCode.SEVERE_DISHONESTY: (
        "严重失信主体在信用修复完成前不得适用信用承诺制，按照一般程序办理 (Art. 28 ¶1): a "
        "severely dishonest subject may not use the commitment route until credit repair"
    ),
    ReasonCode.FALSE_COMMITMENT: (
        "作出过虚假承诺、未履行承诺的信用主体在信用修复完成前不得适用信用承诺制 (Art. 28 ¶1): a "
        "false or unfulfilled commitment closes the route until credit repair"
    ),
    ReasonCode.RECORD_DISPUTED: (
        "严重失信信息处于异议处理中 (Art. 53)：暂按一般程序办理，待异议处理结果 — a severe "
        "record is under objection: use the ordinary procedure until it is decided"
    ),
    ReasonCode.PLATFORM_UNAVAILABLE: (
        "未能取得信用信息，不得视为可以适用信用承诺制 (fail closed): no credit data; use the "
        "ordinary procedure or check again later"
    ),
}

_NEXT_STEPS = (
    "依法予以指导或者责令限期整改；仍不履行承诺、逾期未整改或者整改后仍不符合法定条件的，依法撤销"
    "行政许可决定或者依法予以行政处罚 (Art. 30): guide or order rectification within a time "
    "limit; if the commitment is still not kept, revoke the licence or impose a penalty"
)


def verification_due(approved_on: dt.date, months: int = 2) -> dt.date:
    """Art. 30: the last day for verifying a commitment approved on ``approved_on``.

    Calendar months, same day of the month or the month's last day (see the module docs).

    >>> verification_due(dt.date(2026, 3, 2))
    datetime.date(2026, 5, 2)
    >>> verification_due(dt.date(2026, 12, 31))
    datetime.date(2027, 2, 28)
    """
    if not isinstance(approved_on, dt.date) or isinstance(approved_on, dt.datetime):
        raise InvalidQuery("approved_on must be a date", rule="commitment_approval")
    if months < 1:
        raise InvalidQuery("the verification period is at least one month", rule="commitment")
    due = period_last_day(approved_on, months=months)
    if due is None:
        raise InvalidQuery(
            "the verification date falls beyond the calendar", rule="commitment_approval"
        )
    return due


@dataclass(frozen=True, slots=True)
class CommitmentRoute:
    """Art. 28: whether the applicant may use the credit-commitment route (信用承诺制), and why.

    ``reason`` is the engine's reason code (``COMMITMENT_ALLOWED``, ``SEVERE_DISHONESTY``,
    ``FALSE_COMMITMENT``, ``RECORD_DISPUTED``, ``PLATFORM_UNAVAILABLE``); ``triggered_by`` the
    report items that close the route. Truthy when the route is open.
    """

    allowed: bool
    reason: ReasonCode
    explanation: str
    triggered_by: tuple[TriggerRef, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "reason": self.reason.value,
            "explanation": self.explanation,
            "triggered_by": [t.describe() for t in self.triggered_by],
        }


@dataclass(frozen=True, slots=True)
class LicensingCheck:
    """The result of checking an applicant at a licensing or certification window.

    * ``commitment_route``: Art. 28 (see :class:`CommitmentRoute`);
    * ``green_channel``: Art. 40(1) incentives that apply (绿色通道, 容缺受理、简化程序);
    * ``facilitation_withheld``: Art. 41(1), (2) restrictions (不得适用/取消便利化服务);
    * ``decision``: everything else (all restrictions, held measures, reasons), and the
      ``query_id`` that feedback refers to.

    ``needs_review`` is true for ``REVIEW`` and ``INDETERMINATE``: a person must look, and an
    indeterminate check is never a clear one.
    """

    decision: Decision
    commitment_route: CommitmentRoute
    green_channel: tuple[AppliedMeasure, ...]
    facilitation_withheld: tuple[AppliedMeasure, ...]
    verification_months: int = 2

    def __repr__(self) -> str:
        return (
            f"LicensingCheck({self.subject}, {self.outcome.value}, "
            f"commitment_route={self.commitment_route.allowed}, "
            f"green_channel={[m.measure_id for m in self.green_channel]})"
        )

    @property
    def outcome(self) -> Outcome:
        return self.decision.outcome

    @property
    def query_id(self) -> str | None:
        return self.decision.query_id

    @property
    def subject(self) -> str:
        """The applicant, masked."""
        return self.decision.subject

    @property
    def needs_review(self) -> bool:
        return self.decision.outcome in (Outcome.REVIEW, Outcome.INDETERMINATE)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the case file (the applicant masked)."""
        return {
            "subject": self.subject,
            "scenario": self.decision.scenario,
            "outcome": self.outcome.value,
            "query_id": self.query_id,
            "commitment_route": self.commitment_route.to_dict(),
            "green_channel": [m.to_dict() for m in self.green_channel],
            "facilitation_withheld": [m.to_dict() for m in self.facilitation_withheld],
            "restrictions": [m.to_dict() for m in self.decision.restrictions],
            "held_for_review": [m.to_dict() for m in self.decision.held_for_review],
            "verification_months": self.verification_months,
            "as_of": self.decision.provenance.as_of.isoformat(),
        }

    def render(self, lang: Lang = "zh-en") -> str:
        """What the case officer at the window reads: Chinese first (``lang``: ``"zh-en"``,
        ``"zh"`` or ``"en"``). Every withheld facilitation measure and every other
        restriction is shown with its legal basis (设定依据) and implementing body (实施主体)."""
        route = self.commitment_route
        outcome = self.outcome.value
        lines = [
            bilingual("行政许可信用核查", "Licensing credit check", lang),
            f"  {bilingual('申请人', 'Applicant', lang)}: {self.subject}",
            f"  {bilingual('核查结论', 'Outcome', lang)}: "
            f"{code_label('outcome', outcome, lang)} [{outcome}]",
        ]
        if self.outcome is Outcome.INDETERMINATE:
            lines += [
                f"  {bilingual('原因', 'Reason', lang)}: {shown(a.message, lang)}"
                for a in self.decision.advisories
            ]
        route_text = (
            bilingual("可以适用", "open", lang) if route else bilingual("不得适用", "closed", lang)
        )
        lines += [
            f"  {bilingual('信用承诺制', 'Commitment route', lang)} (Art. 28): {route_text}",
            f"    {route.explanation}",
        ]
        lines += [
            f"    {bilingual('触发信息', 'Triggered by', lang)}: {t.describe(lang)}"
            for t in route.triggered_by
        ]
        lines.append(
            f"  {bilingual('绿色通道', 'Green channel', lang)} (Art. 40(1)): "
            f"{_titles(self.green_channel, lang)}"
        )
        if self.facilitation_withheld:
            lines.append(
                f"  {bilingual('不适用便利化服务', 'Facilitation withheld', lang)} (Art. 41):"
            )
            _details(lines, self.facilitation_withheld, lang)
        others = [m for m in self.decision.restrictions if m not in self.facilitation_withheld]
        if others:
            lines.append(f"  {bilingual('其他失信约束和惩戒措施', 'Other restrictions', lang)}:")
            _details(lines, tuple(others), lang)
        if self.decision.held_for_review:
            lines.append(f"  {bilingual('待复核', 'Held for review', lang)} (Art. 53):")
            _details(lines, self.decision.held_for_review, lang)
        if route:
            lines.append(
                f"  {bilingual('承诺后核查', 'Verification', lang)} (Art. 30): "
                + bilingual(
                    f"许可决定作出后{self.verification_months}个月内核查",
                    f"within {self.verification_months} months of the licence",
                    lang,
                )
            )
        lines.append(f"  {bilingual('查询编号', 'Query id', lang)}: {self.query_id}")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class CommitmentApproval:
    """A licence or certification granted on the commitment route, and when its
    verification (承诺后核查, Art. 30) is due."""

    check: LicensingCheck
    case_id: str
    approved_on: dt.date
    verification_due: dt.date

    def __repr__(self) -> str:
        return (
            f"CommitmentApproval({self.case_id!r}, {self.check.subject}, "
            f"approved_on={self.approved_on}, verification_due={self.verification_due})"
        )

    @property
    def decision(self) -> Decision:
        return self.check.decision

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "subject": self.check.subject,
            "query_id": self.check.query_id,
            "approved_on": self.approved_on.isoformat(),
            "verification_due": self.verification_due.isoformat(),
        }


class CommitmentBreach(StrEnum):
    """What the Art. 30 verification found."""

    FALSE = "false"  # 虚假承诺
    UNFULFILLED = "unfulfilled"  # 未履行承诺

    @property
    def measure_id(self) -> str:
        """The reserved id the push's record id starts with."""
        return (
            "ART30-FALSE-COMMITMENT"
            if self is CommitmentBreach.FALSE
            else ("ART30-UNFULFILLED-COMMITMENT")
        )

    @property
    def label_zh(self) -> str:
        return "虚假承诺" if self is CommitmentBreach.FALSE else "未履行承诺"


@dataclass(frozen=True, slots=True)
class CommitmentBreachReport:
    """A breach queued as an Art. 22 push with its document (Art. 30, 22).

    ``receipt`` is the push's :class:`~credit_sdk.DutyReceipt`: its record id
    (``ART30-FALSE-COMMITMENT:<case>``), idempotency key (the same report twice is one push),
    due date (five working days from ``found_on``) and ``late``. ``within_verification_period``
    says whether it was found by the Art. 30 due date. ``next_steps`` restates what Art. 30
    requires of the organ.
    """

    approval: CommitmentApproval
    breach: CommitmentBreach
    found_on: dt.date
    receipt: DutyReceipt
    within_verification_period: bool
    next_steps: str = _NEXT_STEPS

    def __repr__(self) -> str:
        return (
            f"CommitmentBreachReport({self.approval.case_id!r}, {self.breach.value}, "
            f"found_on={self.found_on}, due={self.receipt.due})"
        )


# --- step 1: check the applicant ----------------------------------------------------------------


def check_applicant(
    client: CreditClient,
    applicant: str | Identifier,
    ctx: QueryContext,
    *,
    scenario: Scenario | str = Scenario.ADMIN_LICENSING,
    authorization: Authorization | None = None,
    as_of: dt.date | None = None,
) -> LicensingCheck:
    """Check an applicant at a licensing (or certification) window, Art. 27(1), 28, 40(1).

    Raises what :meth:`CreditClient.check` raises (an invalid identifier or context before any
    I/O; ``AuditError`` when the query cannot be logged). A platform failure gives an
    ``INDETERMINATE`` check whose commitment route is closed.

    >>> check = check_applicant(client, "91230100MA1C2X3Y48", ctx)      # doctest: +SKIP
    >>> check.commitment_route.allowed, [m.measure_id for m in check.green_channel]
    ... # doctest: +SKIP
    (True, ['HLJ-INC-40.1-01'])
    """
    scen = _licensing_scenario(scenario)
    decision = client.check(applicant, scen, ctx, authorization=authorization, as_of=as_of)
    return _licensing_check(decision, client.profile.commitment_verification_months)


async def acheck_applicant(
    client: AsyncCreditClient,
    applicant: str | Identifier,
    ctx: QueryContext,
    *,
    scenario: Scenario | str = Scenario.ADMIN_LICENSING,
    authorization: Authorization | None = None,
    as_of: dt.date | None = None,
) -> LicensingCheck:
    """Async twin of :func:`check_applicant`.

    >>> check = await acheck_applicant(client, "91230100MA1C2X3Y48", ctx)   # doctest: +SKIP
    """
    scen = _licensing_scenario(scenario)
    decision = await client.check(applicant, scen, ctx, authorization=authorization, as_of=as_of)
    return _licensing_check(decision, client.profile.commitment_verification_months)


def _licensing_scenario(scenario: Scenario | str) -> Scenario:
    scen = Scenario.parse(scenario)
    if scen not in LICENSING_SCENARIOS:
        raise InvalidQuery(
            "the licensing helper is for admin_licensing and certification (Art. 28: the "
            f"commitment route exists only there), not {scen.value!r}",
            rule="scenario",
        )
    return scen


def _licensing_check(decision: Decision, months: int) -> LicensingCheck:
    eligibility = decision.commitment
    explanation = _ROUTE_TEXT.get(
        eligibility.reason, f"{eligibility.reason.value} (Art. 28): see decision.explain()"
    )
    return LicensingCheck(
        decision=decision,
        commitment_route=CommitmentRoute(
            allowed=eligibility.eligible,
            reason=eligibility.reason,
            explanation=explanation,
            triggered_by=tuple(eligibility.triggered_by),
        ),
        green_channel=tuple(m for m in decision.incentives if _in_item(m, "40.1")),
        facilitation_withheld=tuple(
            m for m in decision.restrictions if _in_item(m, "41.1") or _in_item(m, "41.2")
        ),
        verification_months=months,
    )


def _in_item(measure: AppliedMeasure, item: str) -> bool:
    return measure.range_item == item or measure.range_item.startswith(item + ".")


def _titles(measures: tuple[AppliedMeasure, ...], lang: Lang = "zh-en") -> str:
    if not measures:
        return bilingual("无", "none", lang)
    return "；".join(f"{m.title} [{m.measure_id}]" for m in measures)


def _article(item: str) -> str:
    parts = item.split(".")
    text = f"Art. {parts[0]}" + (f"({parts[1]})" if len(parts) > 1 else "")
    return text + (parts[2] if len(parts) > 2 else "")


def _details(lines: list[str], measures: tuple[AppliedMeasure, ...], lang: Lang) -> None:
    for m in measures:
        lines.append(f"    {m.title} [{m.measure_id}; {_article(m.range_item)}]")
        lines.append(
            f"      {bilingual('设定依据', 'Legal basis', lang)}: {'；'.join(m.legal_basis)}"
        )
        lines.append(
            f"      {bilingual('实施主体', 'Implementing body', lang)}: {m.implementing_body}"
        )
        lines += [
            f"      {bilingual('触发信息', 'Triggered by', lang)}: {t.describe(lang)}"
            for t in m.triggered_by
        ]


# --- step 2: approve on the commitment route ----------------------------------------------------


def approve_by_commitment(
    check: LicensingCheck, *, case_id: str, approved_on: dt.date
) -> CommitmentApproval:
    """Record an approval on the commitment route and compute its Art. 30 verification date.

    Raises :class:`~credit_sdk.InvalidQuery` when the route is closed for this applicant
    (Art. 28): the application goes through the ordinary procedure instead.

    >>> approval = approve_by_commitment(check, case_id="2026-118",
    ...                                  approved_on=dt.date(2026, 3, 2))  # doctest: +SKIP
    >>> approval.verification_due                                         # doctest: +SKIP
    datetime.date(2026, 5, 2)
    """
    if not check.commitment_route:
        raise InvalidQuery(
            "the commitment route is closed for this applicant: "
            f"{check.commitment_route.explanation}",
            rule="commitment_route",
        )
    _plain_text(case_id, "case_id")
    due = verification_due(approved_on, check.verification_months)
    return CommitmentApproval(check, case_id.strip(), approved_on, due)


# --- step 3: report a breach found at the verification ------------------------------------------


def report_commitment_breach(
    client: CreditClient,
    approval: CommitmentApproval,
    *,
    subject: str | Identifier,
    breach: CommitmentBreach | str,
    found_on: dt.date,
    detail: str,
    implementing_department: str,
    document: BasisDocument,
) -> CommitmentBreachReport:
    """Report a commitment found false or unfulfilled at the Art. 30 verification.

    An Art. 22 push of the finding (category ``commitment_breach``) with ``document``, the
    effective decision on it, through the client's durable outbox. ``subject`` is the
    applicant's identifier (the decision keeps only its masked form; a different subject is
    refused). ``detail`` says what was found, without personal data (identifiers are refused).

    >>> report = report_commitment_breach(
    ...     client, approval, subject="91230100MA1C2X3Y48", breach="false",
    ...     found_on=dt.date(2026, 4, 20), detail="经营场所与承诺不符",
    ...     implementing_department="230100-SCJGJ", document=decision)  # doctest: +SKIP
    >>> report.receipt.record_id, report.receipt.due_on                  # doctest: +SKIP
    ('ART30-FALSE-COMMITMENT:2026-118', datetime.date(2026, 4, 27))
    """
    kind, ident, push = _breach_push(approval, subject, breach, found_on, detail, document)
    receipt = client.push_information(ident, push, organ=implementing_department)
    return _breach_report(approval, kind, found_on, receipt)


async def areport_commitment_breach(
    client: AsyncCreditClient,
    approval: CommitmentApproval,
    *,
    subject: str | Identifier,
    breach: CommitmentBreach | str,
    found_on: dt.date,
    detail: str,
    implementing_department: str,
    document: BasisDocument,
) -> CommitmentBreachReport:
    """Async twin of :func:`report_commitment_breach`."""
    kind, ident, push = _breach_push(approval, subject, breach, found_on, detail, document)
    receipt = await client.push_information(ident, push, organ=implementing_department)
    return _breach_report(approval, kind, found_on, receipt)


def _breach_push(
    approval: CommitmentApproval,
    subject: str | Identifier,
    breach: CommitmentBreach | str,
    found_on: dt.date,
    detail: str,
    document: BasisDocument,
) -> tuple[CommitmentBreach, Identifier, InformationPush]:
    if not isinstance(approval, CommitmentApproval):
        raise InvalidQuery("a CommitmentApproval is required", rule="commitment_breach")
    ident = subject if isinstance(subject, Identifier) else parse_identifier(subject)
    if ident.masked != approval.decision.subject:
        raise InvalidQuery(
            "subject is not the applicant the approval was decided for", rule="commitment_breach"
        )
    try:
        kind = CommitmentBreach(breach)
    except ValueError:
        raise InvalidQuery(
            "breach must be 'false' (虚假承诺) or 'unfulfilled' (未履行承诺)",
            rule="commitment_breach",
        ) from None
    if not isinstance(found_on, dt.date) or isinstance(found_on, dt.datetime):
        raise InvalidQuery("found_on must be a date", rule="commitment_breach")
    if found_on < approval.approved_on:
        raise InvalidQuery(
            "found_on is before the approval: a breach is found at the verification after it",
            rule="commitment_breach",
        )
    if not isinstance(detail, str) or not detail.strip() or len(detail) > _MAX_DETAIL:
        raise InvalidQuery(
            f"detail (what the verification found) is required, at most {_MAX_DETAIL} characters",
            rule="commitment_breach",
        )
    push = InformationPush(
        record_id=f"{kind.measure_id}:{approval.case_id}",
        category="commitment_breach",
        summary=f"{kind.label_zh} (Art. 30): {detail.strip()}",
        produced_on=found_on,
        document=document,
    )
    return kind, ident, push


def _breach_report(
    approval: CommitmentApproval,
    kind: CommitmentBreach,
    found_on: dt.date,
    receipt: DutyReceipt,
) -> CommitmentBreachReport:
    return CommitmentBreachReport(
        approval=approval,
        breach=kind,
        found_on=found_on,
        receipt=receipt,
        within_verification_period=found_on <= approval.verification_due,
    )


# --- small shared checks ------------------------------------------------------------------------


def _plain_text(value: object, what: str) -> str:
    return plain_text(value, what, "the case's own reference")
