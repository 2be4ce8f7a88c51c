"""What a check returns: the outcome, the measures with their legal basis, and the reasons.

Every measure that **is** applied carries its legal basis (设定依据), implementing body (实施主体)
and the records that triggered it; every record or measure that **is not** carries a
:class:`ReasonCode`. Nothing is filtered silently.

>>> decision.outcome                       # doctest: +SKIP
<Outcome.RESTRICTED: 'RESTRICTED'>
>>> print(decision.explain())              # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, NamedTuple

from credit_sdk._catalog import Ground
from credit_sdk._explain import describe_trigger, render
from credit_sdk._labels import Lang
from credit_sdk._sheet import verification_sheet

__all__ = [
    "Advisory",
    "AppliedMeasure",
    "CommitmentEligibility",
    "Decision",
    "Exclusion",
    "Outcome",
    "Provenance",
    "QueryStamp",
    "ReasonCode",
    "Supervision",
    "TriggerRef",
]


class Outcome(StrEnum):
    CLEAR = "CLEAR"  # nothing applies
    INCENTIVES = "INCENTIVES"  # only incentives apply
    RESTRICTED = "RESTRICTED"  # at least one restriction or punishment applies
    REVIEW = "REVIEW"  # something depends on a disputed record: a person must look
    INDETERMINATE = "INDETERMINATE"  # no usable data: never read as CLEAR


class ReasonCode(StrEnum):
    """Why something was applied, left out, or flagged."""

    APPLIED = "APPLIED"
    # records left out
    RECORD_EXPIRED = "RECORD_EXPIRED"  # Art. 51: publication period over
    RECORD_REPAIRED = "RECORD_REPAIRED"  # Art. 54: credit repaired
    RECORD_REVOKED = "RECORD_REVOKED"  # Art. 52: basis revoked / annulled / changed
    RECORD_CORRECTED = "RECORD_CORRECTED"  # Art. 53, 55: objection or statement upheld
    RECORD_DISPUTED = "RECORD_DISPUTED"  # Art. 53: objection pending
    RECORD_NOT_YET_EFFECTIVE = "RECORD_NOT_YET_EFFECTIVE"  # found/listed after as_of
    MEMBERSHIP_REMOVED = "MEMBERSHIP_REMOVED"  # removed from a list (term ended, performed)
    EXCLUDED_MINOR_PENALTY = "EXCLUDED_MINOR_PENALTY"  # Art. 19 last ¶
    NO_EFFECTIVE_BASIS = "NO_EFFECTIVE_BASIS"  # Art. 37 last ¶, 38: no effective document
    REMINDER_ONLY = "REMINDER_ONLY"  # Art. 43 ¶2: minor, corrected: a reminder, no measure
    NOT_RELATED = "NOT_RELATED"  # Art. 43: no published measure relates it to this scenario
    INFORMATION_ONLY = "INFORMATION_ONLY"  # neutral information (registration, permits)
    OUTSIDE_CATALOGUE = "OUTSIDE_CATALOGUE"  # Art. 19 ¶1, 65(2): not in the information catalogue
    WITHHELD_AT_SUBJECT_REQUEST = "WITHHELD_AT_SUBJECT_REQUEST"  # Art. 51 ¶1
    # measures left out
    MEASURE_UNPUBLISHED = "MEASURE_UNPUBLISHED"  # Art. 39: not published / not in force
    NOT_TARGETED = "NOT_TARGETED"  # Art. 39, 44, 45: the measure does not target this subject
    POINTS_BELOW_THRESHOLD = "POINTS_BELOW_THRESHOLD"  # Art. 47 incentive not reached
    INCENTIVE_SUPPRESSED_BY_DISHONESTY = "INCENTIVE_SUPPRESSED_BY_DISHONESTY"
    HELD_FOR_REVIEW = "HELD_FOR_REVIEW"  # depends only on disputed records
    VOLUNTARY_MEASURE = "VOLUNTARY_MEASURE"  # Art. 48: information, never an obligation
    # advisories
    PERIOD_OUT_OF_RANGE = "PERIOD_OUT_OF_RANGE"  # Art. 51: stated period outside the legal range
    ENTITY_TYPE_UNKNOWN = "ENTITY_TYPE_UNKNOWN"  # Art. 39: entity type not told by report or code
    SEVERE_NOT_MINOR = "SEVERE_NOT_MINOR"  # Art. 43 ¶2: severe information flagged minor
    TERM_NOT_STATED = "TERM_NOT_STATED"  # Art. 38 ¶1: a severe listing decision states no term
    PROHIBITED_FIELDS_DROPPED = "PROHIBITED_FIELDS_DROPPED"  # Art. 20
    STALE_DATA = "STALE_DATA"  # served from cache past freshness (failure policy)
    PLATFORM_UNAVAILABLE = "PLATFORM_UNAVAILABLE"  # no data: INDETERMINATE
    # commitment eligibility (Art. 28)
    COMMITMENT_ALLOWED = "COMMITMENT_ALLOWED"
    SEVERE_DISHONESTY = "SEVERE_DISHONESTY"
    FALSE_COMMITMENT = "FALSE_COMMITMENT"


class TriggerRef(NamedTuple):
    """A report item that triggered (or would have triggered) a measure."""

    source: str  # "record", "membership", "commitment", "linked_party", "integrity_points"
    item_id: str
    ground: Ground
    category: str | None = None
    domain: str | None = None
    role: str = "subject"
    via_organisation: str | None = None  # masked USCC of the organisation (Art. 45)
    disputed: bool = False
    found_by: str | None = None  # the unit that found it (认定单位 / 提供单位)
    document: str | None = None  # the number of its effective legal document (文号)

    def __repr__(self) -> str:
        # category, domain, found_by and document are the platform's text (untrusted, possibly
        # personal): a repr (tracebacks, debug logs) shows their length only. describe() and
        # to_dict() are where a case officer reads them.
        def text(value: str | None) -> str:
            return "None" if value is None else f"<text: {len(value)} chars>"

        return (
            f"TriggerRef(source={self.source!r}, item_id={self.item_id!r}, "
            f"ground={self.ground!r}, category={text(self.category)}, "
            f"domain={text(self.domain)}, role={self.role!r}, "
            f"via_organisation={self.via_organisation!r}, disputed={self.disputed!r}, "
            f"found_by={text(self.found_by)}, document={text(self.document)})"
        )

    def describe(self, lang: Lang = "zh-en") -> str:
        """Which list or record, which unit found it, under which document number:
        ``名单 list entry M-1 严重失信主体名单 …；认定单位 found by …；文号 document …``."""
        return describe_trigger(_trigger_dict(self), lang)


class AppliedMeasure(NamedTuple):
    """A published measure that applies, with its five Art. 39 elements."""

    measure_id: str
    list_id: str
    list_version: str
    kind: str  # incentive | restriction | punishment
    title: str
    content: str
    target: str
    legal_basis: tuple[str, ...]
    implementing_body: str
    range_item: str
    publication: str
    voluntary: bool
    score_adjustment: float | None
    reason: ReasonCode
    triggered_by: tuple[TriggerRef, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "measure_id": self.measure_id,
            "list_id": self.list_id,
            "list_version": self.list_version,
            "kind": self.kind,
            "title": self.title,
            "content": self.content,
            "target": self.target,
            "legal_basis": list(self.legal_basis),
            "implementing_body": self.implementing_body,
            "range_item": self.range_item,
            "publication": self.publication,
            "voluntary": self.voluntary,
            "score_adjustment": self.score_adjustment,
            "reason": self.reason.value,
            "triggered_by": [_trigger_dict(t) for t in self.triggered_by],
        }


class Exclusion(NamedTuple):
    """Something left out, and why."""

    reason: ReasonCode
    item_id: str | None = None  # record / membership / commitment id
    measure_id: str | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason.value,
            "item_id": self.item_id,
            "measure_id": self.measure_id,
            "detail": self.detail,
        }


class Advisory(NamedTuple):
    """Something the case officer should know that changes no measure."""

    code: ReasonCode
    message: str
    item_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "message": self.message, "item_id": self.item_id}


class CommitmentEligibility(NamedTuple):
    """Art. 28: may the subject use the credit-commitment route (信用承诺制)?"""

    eligible: bool
    reason: ReasonCode
    triggered_by: tuple[TriggerRef, ...] = ()

    def __bool__(self) -> bool:
        return self.eligible


class Supervision(NamedTuple):
    """Art. 31, 32: supervision tier and the factor to apply to the normal spot-check rate."""

    tier: str  # low | normal | high
    spot_check_factor: float
    basis: str


class Provenance(NamedTuple):
    """Everything needed to replay the decision: same inputs, same decision."""

    report_id: str | None
    lists: tuple[tuple[str, str, str], ...]  # (list_id, version, sha256)
    policy_profile: str
    sdk_version: str
    as_of: dt.date


class QueryStamp(NamedTuple):
    """Who asked, when, for which matter and why: the query-log intent of the check that made
    a decision (Art. 23, 25), as the verification sheet prints it. Set by the client; ``None``
    on a bare :func:`~credit_sdk.decide`."""

    requested_at: dt.datetime
    organ: str
    operator: str
    matter_code: str
    purpose: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "requested_at": self.requested_at.isoformat(),
            "organ": self.organ,
            "operator": self.operator,
            "matter_code": self.matter_code,
            "purpose": self.purpose,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The result of matching one report against the published lists for one scenario."""

    outcome: Outcome
    scenario: str
    subject: str  # masked identifier
    subject_kind: str
    restrictions: tuple[AppliedMeasure, ...]
    incentives: tuple[AppliedMeasure, ...]
    voluntary: tuple[AppliedMeasure, ...]
    held_for_review: tuple[AppliedMeasure, ...]
    exclusions: tuple[Exclusion, ...]
    advisories: tuple[Advisory, ...]
    commitment: CommitmentEligibility
    supervision: Supervision
    provenance: Provenance
    flags: frozenset[str] = field(default_factory=frozenset)
    # The query-log id of the check that produced this decision (set by the client; None for a
    # bare decide()): what feedback (Art. 46) and the log (Art. 25) refer to.
    query_id: str | None = None
    # Who asked, when, for which matter and why (set by the client with query_id).
    query: QueryStamp | None = None

    @property
    def commitment_eligible(self) -> bool:
        """Art. 28: whether the credit-commitment route is open (see :attr:`commitment`)."""
        return self.commitment.eligible

    @property
    def supervision_tier(self) -> str:
        return self.supervision.tier

    @property
    def applied_measure_ids(self) -> tuple[str, ...]:
        return tuple(m.measure_id for m in (*self.restrictions, *self.incentives))

    @property
    def measures(self) -> tuple[AppliedMeasure, ...]:
        """Restrictions and incentives that apply (voluntary and held ones excluded)."""
        return (*self.restrictions, *self.incentives)

    def with_flags(self, *flags: str) -> Decision:
        return replace(self, flags=self.flags | frozenset(flags))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (no raw identifier: the subject is masked)."""
        return {
            "outcome": self.outcome.value,
            "scenario": self.scenario,
            "subject": self.subject,
            "subject_kind": self.subject_kind,
            "restrictions": [m.to_dict() for m in self.restrictions],
            "incentives": [m.to_dict() for m in self.incentives],
            "voluntary": [m.to_dict() for m in self.voluntary],
            "held_for_review": [m.to_dict() for m in self.held_for_review],
            "exclusions": [e.to_dict() for e in self.exclusions],
            "advisories": [a.to_dict() for a in self.advisories],
            "commitment_eligible": self.commitment.eligible,
            "commitment_reason": self.commitment.reason.value,
            "commitment_triggered_by": _triggers(self.commitment),
            "supervision": {
                "tier": self.supervision.tier,
                "spot_check_factor": self.supervision.spot_check_factor,
                "basis": self.supervision.basis,
            },
            "provenance": {
                "report_id": self.provenance.report_id,
                "lists": [
                    {"list_id": i, "version": v, "sha256": h} for i, v, h in self.provenance.lists
                ],
                "policy_profile": self.provenance.policy_profile,
                "sdk_version": self.provenance.sdk_version,
                "as_of": self.provenance.as_of.isoformat(),
            },
            "flags": sorted(self.flags),
            "query_id": self.query_id,
            "query": self.query.to_dict() if self.query is not None else None,
        }

    def explain(self, lang: Lang = "zh-en") -> str:
        """Render the decision for a case officer: Chinese first and English after
        (``lang="zh-en"``, the default), or Chinese (``"zh"``) or English (``"en"``) only.

        >>> print(decision.explain("zh"))      # doctest: +SKIP
        信用核查结果
          信用主体: 9123**********017F（法人和非法人组织）
          ...
        """
        return render(self.to_dict(), lang)

    def to_html(self, lang: Lang = "zh-en", *, log: Any = None) -> str:
        """The printable verification sheet (联合奖惩核查单) of this decision: one
        self-contained A4 HTML page, Chinese first (see :func:`~credit_sdk.verification_sheet`).
        Give the ``log`` the check was written to (a :class:`~credit_sdk.QueryLog`) to print
        the query's position in its hash chain.

        >>> Path("sheet.html").write_text(decision.to_html(log=query_log), encoding="utf-8")
        ... # doctest: +SKIP
        """
        return verification_sheet([self], lang=lang, log=log)


def _trigger_dict(t: TriggerRef) -> dict[str, Any]:
    return {
        "source": t.source,
        "item_id": t.item_id,
        "ground": t.ground,
        "category": t.category,
        "domain": t.domain,
        "role": t.role,
        "via_organisation": t.via_organisation,
        "disputed": t.disputed,
        "found_by": t.found_by,
        "document": t.document,
    }


def _triggers(c: CommitmentEligibility) -> list[dict[str, Any]]:
    return [_trigger_dict(t) for t in c.triggered_by]
