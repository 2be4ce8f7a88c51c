"""The decision engine: the only place where legal matching happens.

:func:`decide` is pure and deterministic: the same report, scenario, date, catalog and profile
always give the same :class:`~credit_sdk.Decision`, so any decision can be replayed from the
provenance the query log keeps. It does no I/O.

>>> from datetime import date
>>> from credit_sdk import CreditReport, Scenario, decide, sample_report_path
>>> report = CreditReport.model_validate_json(sample_report_path("severe_list").read_text())
>>> decision = decide(report, Scenario.GOVERNMENT_PROCUREMENT, as_of=date(2026, 11, 29))
>>> decision.outcome                                                 # doctest: +SKIP
<Outcome.RESTRICTED: 'RESTRICTED'>
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from credit_sdk._catalog import Catalog, Ground, IndexedMeasure, InForce, MeasureKind
from credit_sdk._decision import (
    Advisory,
    AppliedMeasure,
    CommitmentEligibility,
    Decision,
    Exclusion,
    Outcome,
    Provenance,
    ReasonCode,
    Supervision,
    TriggerRef,
)
from credit_sdk._errors import require_type
from credit_sdk._information import InformationCatalogue
from credit_sdk._labels import GROUND_LABELS, ROLE_LABELS, label, said
from credit_sdk._models import (
    MARKET_TYPES,
    CommitmentStatus,
    CreditRecord,
    CreditReport,
    EntityType,
    EvaluationKind,
    ListMembership,
    ListType,
    MembershipStatus,
    RecordKind,
    RecordStatus,
    RemovalReason,
    RiskLevel,
    SubjectKind,
)
from credit_sdk._periods import _last_day, add_months
from credit_sdk._policy import (
    DisputePolicy,
    IncentivePolicy,
    PeriodAnchor,
    PeriodRule,
    PolicyProfile,
)
from credit_sdk._scenarios import Scenario
from credit_sdk._version import __version__

__all__ = ["add_months", "decide", "publication_last_day"]

_SEVERE_GROUNDS = frozenset({Ground.SEVERE_DISHONESTY, Ground.JUDGMENT_DEFAULTER})
_NEGATIVE = frozenset(
    {
        Ground.SEVERE_DISHONESTY,
        Ground.JUDGMENT_DEFAULTER,
        Ground.DISHONESTY,
        Ground.FALSE_COMMITMENT,
    }
)
_REMOVAL_REASON = {
    RemovalReason.REPAIRED: ReasonCode.RECORD_REPAIRED,
    RemovalReason.BASIS_REVOKED: ReasonCode.RECORD_REVOKED,
    RemovalReason.OBJECTION_UPHELD: ReasonCode.RECORD_CORRECTED,
    RemovalReason.STATEMENT_ACCEPTED: ReasonCode.RECORD_CORRECTED,
    RemovalReason.TERM_ENDED: ReasonCode.RECORD_EXPIRED,
    RemovalReason.PERFORMED: ReasonCode.MEMBERSHIP_REMOVED,
}
_ROLE_SUBJECT = "subject"


# Enum members bound once: attribute access on an enum class costs ~0.1 µs, and decide()
# touches dozens of them per call (see benchmarks/engine_bench.py).
_CS_FALSE = CommitmentStatus.FALSE
_CS_UNFULFILLED = CommitmentStatus.UNFULFILLED
_DP_APPLY = DisputePolicy.APPLY
_DP_REVIEW = DisputePolicy.REVIEW
_DP_SUSPEND = DisputePolicy.SUSPEND
_EK_INDUSTRY = EvaluationKind.INDUSTRY
_G_COMMENDATION = Ground.COMMENDATION
_G_DISHONESTY = Ground.DISHONESTY
_G_FALSE_COMMITMENT = Ground.FALSE_COMMITMENT
_G_INTEGRITY_POINTS = Ground.INTEGRITY_POINTS
_G_JUDGMENT_DEFAULTER = Ground.JUDGMENT_DEFAULTER
_G_RED_LIST = Ground.RED_LIST
_G_SEVERE_DISHONESTY = Ground.SEVERE_DISHONESTY
_IP_SUPPRESS = IncentivePolicy.SUPPRESS
_LT_RED_LIST = ListType.RED_LIST
_LT_SEVERE_DISHONESTY = ListType.SEVERE_DISHONESTY
_MK_INCENTIVE = MeasureKind.INCENTIVE
_MS_REMOVED = MembershipStatus.REMOVED
_PA_DECISION_DATE = PeriodAnchor.DECISION_DATE
_RC_APPLIED = ReasonCode.APPLIED
_RC_COMMITMENT_ALLOWED = ReasonCode.COMMITMENT_ALLOWED
_RC_EXCLUDED_MINOR_PENALTY = ReasonCode.EXCLUDED_MINOR_PENALTY
_RC_FALSE_COMMITMENT = ReasonCode.FALSE_COMMITMENT
_RC_INCENTIVE_SUPPRESSED_BY_DISHONESTY = ReasonCode.INCENTIVE_SUPPRESSED_BY_DISHONESTY
_RC_INFORMATION_ONLY = ReasonCode.INFORMATION_ONLY
_RC_MEASURE_UNPUBLISHED = ReasonCode.MEASURE_UNPUBLISHED
_RC_NOT_RELATED = ReasonCode.NOT_RELATED
_RC_NO_EFFECTIVE_BASIS = ReasonCode.NO_EFFECTIVE_BASIS
_RC_OUTSIDE_CATALOGUE = ReasonCode.OUTSIDE_CATALOGUE
_RC_NOT_TARGETED = ReasonCode.NOT_TARGETED
_RC_ENTITY_TYPE_UNKNOWN = ReasonCode.ENTITY_TYPE_UNKNOWN
_RC_SEVERE_NOT_MINOR = ReasonCode.SEVERE_NOT_MINOR
_MINOR_AND_CORRECTED = (
    "标注为轻微并已改正（Art. 43 ¶2）",
    "flagged minor and corrected (Art. 43 ¶2)",
)
_MINOR_PENALTY = (
    "其行政处罚属第十九条排除在目录外的轻微情形（Art. 19）",
    "its penalty is of the minor kind Art. 19 leaves out of the catalogue",
)
_RC_PERIOD_OUT_OF_RANGE = ReasonCode.PERIOD_OUT_OF_RANGE
_RC_POINTS_BELOW_THRESHOLD = ReasonCode.POINTS_BELOW_THRESHOLD
_RC_PROHIBITED_FIELDS_DROPPED = ReasonCode.PROHIBITED_FIELDS_DROPPED
_RC_RECORD_CORRECTED = ReasonCode.RECORD_CORRECTED
_RC_RECORD_DISPUTED = ReasonCode.RECORD_DISPUTED
_RC_RECORD_EXPIRED = ReasonCode.RECORD_EXPIRED
_RC_RECORD_NOT_YET_EFFECTIVE = ReasonCode.RECORD_NOT_YET_EFFECTIVE
_RC_RECORD_REPAIRED = ReasonCode.RECORD_REPAIRED
_RC_RECORD_REVOKED = ReasonCode.RECORD_REVOKED
_RC_REMINDER_ONLY = ReasonCode.REMINDER_ONLY
_RC_SEVERE_DISHONESTY = ReasonCode.SEVERE_DISHONESTY
_RC_TERM_NOT_STATED = ReasonCode.TERM_NOT_STATED
_RC_VOLUNTARY_MEASURE = ReasonCode.VOLUNTARY_MEASURE
_RC_WITHHELD_AT_SUBJECT_REQUEST = ReasonCode.WITHHELD_AT_SUBJECT_REQUEST
_RK_ADMINISTRATIVE = RecordKind.ADMINISTRATIVE
_RK_COMMENDATION = RecordKind.COMMENDATION
_RK_SEVERE_DISHONESTY = RecordKind.SEVERE_DISHONESTY
_RS_ARCHIVED = RecordStatus.ARCHIVED
_RS_REPAIRED = RecordStatus.REPAIRED
_RS_REVOKED = RecordStatus.REVOKED
_RL_HIGH = RiskLevel.HIGH
_RL_NORMAL = RiskLevel.NORMAL
_SK_NATURAL_PERSON = SubjectKind.NATURAL_PERSON


def _stated_months(
    stated: int | None, rule: PeriodRule, item_id: str, advisories: list[Advisory], to_max: bool
) -> int:
    """The publication period to apply, in months (Art. 51).

    Under the draft a stated period inside the legal range is used; one outside it is flagged and
    the nearest legal bound applies (publication may not outlast the maximum, Art. 51 ¶3). Under
    a profile whose publication runs to the maximum (national rules since 2026), the minimum only
    opens repair: the maximum applies whatever is stated, and a stated period outside the range
    is still flagged. With no stated period the maximum applies.
    """
    if stated is not None and not rule.min_months <= stated <= rule.max_months:
        applied = rule.max_months if to_max else min(max(stated, rule.min_months), rule.max_months)
        advisories.append(
            Advisory(
                _RC_PERIOD_OUT_OF_RANGE,
                said(
                    f"载明的公示期限 {stated} 个月超出法定范围 {rule.min_months}-{rule.max_months} "
                    f"个月（Art. 51），按 {applied} 个月适用",
                    f"stated publication period of {stated} months lies outside the legal range "
                    f"{rule.min_months}-{rule.max_months} months (Art. 51); {applied} months "
                    "applied",
                ),
                item_id,
            )
        )
        return applied
    if stated is None or to_max:
        return rule.max_months
    return stated


def publication_last_day(
    rec: CreditRecord, profile: PolicyProfile, advisories: list[Advisory] | None = None
) -> dt.date | None:
    """Last day on which ``rec`` is published (Art. 51, counted as Civil Code Art. 201-202
    count), or ``None`` while it has no end (long-term publication, a continuing act that has
    not ended, or an end beyond the calendar)."""
    sink: list[Advisory] = advisories if advisories is not None else []
    if (
        rec.consequences
        and rec.domain in profile.long_term_domains
        and not rec.consequences.isdisjoint(profile.long_term_consequences)
    ):
        return None
    if profile.period_anchor == _PA_DECISION_DATE and rec.basis is not None:
        anchor = rec.basis.issued_on
    else:
        anchor = rec.finding_date
    if rec.continuing and profile.continuing_acts_from_end:
        if rec.conduct_ended_on is None:
            return None
        anchor = max(anchor, rec.conduct_ended_on)
    severe = rec.kind is _RK_SEVERE_DISHONESTY
    if profile.sector_minimum_months:
        rule = (
            profile.severe_period_for(rec.domain)
            if severe
            else profile.dishonesty_period_for(rec.domain)
        )
    else:
        rule = profile.severe_period if severe else profile.dishonesty_period
    months = _stated_months(
        rec.publication_period_months,
        rule,
        rec.record_id,
        sink,
        profile.publication_runs_to_maximum,
    )
    return _last_day(anchor, months)


def _listing_last_day(m: ListMembership, rule: PeriodRule | None, run: _Run) -> dt.date | None:
    """Last day of a severe listing (Art. 38 ¶1): the term its written decision states, no
    longer and no shorter.

    A term outside the Art. 51 range of the profile is flagged for the listing unit, never
    stretched or cut (``rule`` is ``None`` where the information is published long-term, which
    keeps the information, not the listing, and leaves no upper bound to compare with). A
    decision that states no term lacks an Art. 38 element: it is flagged and bounded by the
    longest period the profile allows for severe information, since Art. 51 ¶3 stops its
    publication there.
    """
    mid = m.membership_id
    severe = run.profile.severe_period_for(m.domain)
    if m.term_end is None and not m.term_open_ended:
        run.advisories.append(
            Advisory(
                _RC_TERM_NOT_STATED,
                said(
                    "名单决定未载明期限（Art. 38 ¶1）：按严重失信信息最长公示期限 "
                    f"{severe.max_months} 个月计算（Art. 51）",
                    "the listing decision states no term (Art. 38 ¶1): the listing is taken to "
                    f"end with the longest severe period, {severe.max_months} months (Art. 51)",
                ),
                mid,
            )
        )
        return _last_day(m.listed_on, severe.max_months)
    last = m.term_end  # None: a stated term with no end (长期)
    earliest = _last_day(m.listed_on, severe.min_months)
    latest = None if rule is None else _last_day(m.listed_on, rule.max_months)
    too_short = last is not None and earliest is not None and last < earliest
    too_long = latest is not None and (last is None or last > latest)
    if too_short or too_long:
        stated_zh = "长期" if last is None else f"至 {last}"
        stated = "no end" if last is None else f"until {last}"
        bound_zh = (
            f"{severe.min_months}-{severe.max_months} 个月"
            if rule is not None
            else f"不少于 {severe.min_months} 个月"
        )
        bound = (
            f"{severe.min_months}-{severe.max_months} months"
            if rule is not None
            else f"at least {severe.min_months} months"
        )
        run.advisories.append(
            Advisory(
                _RC_PERIOD_OUT_OF_RANGE,
                said(
                    f"名单期限（{stated_zh}）超出法定范围 {bound_zh}（Art. 51）；按书面决定载明的"
                    "期限适用（Art. 38 ¶1），由列入单位复核",
                    f"the listing term, {stated}, lies outside the legal range {bound} "
                    "(Art. 51); applied as the written decision states it (Art. 38 ¶1), for the "
                    "listing unit to review",
                ),
                mid,
            )
        )
    return last


class _Run:
    """Working state of one decision."""

    __slots__ = ("advisories", "as_of", "catalogue", "declined", "exclusions", "profile")

    def __init__(
        self, as_of: dt.date, profile: PolicyProfile, catalogue: InformationCatalogue
    ) -> None:
        self.as_of = as_of
        self.profile = profile
        self.catalogue = catalogue
        self.exclusions: list[Exclusion] = []
        self.advisories: list[Advisory] = []
        # Honours whose publication the subject declined (Art. 51 ¶1): only their publicity
        # measures are withheld.
        self.declined: set[str] = set()

    def severe_not_minor(
        self, item_id: str, flagged: tuple[str, str] = _MINOR_AND_CORRECTED
    ) -> None:
        self.advisories.append(
            Advisory(
                _RC_SEVERE_NOT_MINOR,
                said(
                    f"{flagged[0]}，但严重失信信息不属于轻微违法失信：不予免除；该标注与数据不一致，"
                    "由提供单位更正",
                    f"{flagged[1]}, but severe information is not minor conduct: no exemption "
                    "applied; the flag is inconsistent data for the providing unit to correct",
                ),
                item_id,
            )
        )

    def leave_out(self, reason: ReasonCode, item_id: str, detail: str) -> None:
        self.exclusions.append(Exclusion(reason, item_id, None, detail))

    def record(self, rec: CreditRecord) -> TriggerRef | None:
        as_of, rid = self.as_of, rec.record_id
        if rec.category not in self.catalogue:
            self.leave_out(
                _RC_OUTSIDE_CATALOGUE,
                rid,
                said(
                    f"公共信用信息目录外的信息不得记录、使用：该行为类别不在目录 "
                    f"{self.catalogue.catalogue_id} 中（Art. 19 ¶1, 65(2)）",
                    "information outside the catalogue may not be recorded or used: the conduct "
                    f"category is not in the catalogue {self.catalogue.catalogue_id} "
                    "(Art. 19 ¶1, 65(2))",
                ),
            )
            return None
        if rec.kind is _RK_ADMINISTRATIVE:
            self.leave_out(
                _RC_INFORMATION_ONLY,
                rid,
                said("一般信息，不触发措施", "neutral information, no measure"),
            )
            return None
        changed = rec.status_changed_on
        if rec.status is _RS_REVOKED and (changed is None or changed <= as_of):
            self.leave_out(
                _RC_RECORD_REVOKED,
                rid,
                said(
                    "认定依据被撤销或变更（Art. 52）", "the basis was revoked or changed (Art. 52)"
                ),
            )
            return None
        if rec.status is _RS_REPAIRED and (changed is None or changed <= as_of):
            self.leave_out(
                _RC_RECORD_REPAIRED,
                rid,
                said("已完成信用修复（Art. 54）", "credit repaired (Art. 54)"),
            )
            return None
        if rec.objection is not None and rec.objection.upheld_at(as_of):
            self.leave_out(
                _RC_RECORD_CORRECTED,
                rid,
                said(
                    "异议成立，信息已更正（Art. 53）",
                    "objection upheld, the information corrected (Art. 53)",
                ),
            )
            return None
        if rec.finding_date > as_of:
            self.leave_out(
                _RC_RECORD_NOT_YET_EFFECTIVE,
                rid,
                said("认定日期晚于核查日", "found after the query date"),
            )
            return None
        archived = rec.status is _RS_ARCHIVED and (changed is None or changed <= as_of)
        if rec.kind is _RK_COMMENDATION:
            if archived:
                self.leave_out(_RC_RECORD_EXPIRED, rid, said("已转为档案保存", "archived"))
                return None
            if rec.publication_declined:
                self.declined.add(rid)
            by, doc = _found(rec)
            return TriggerRef(
                "record", rid, _G_COMMENDATION, rec.category, rec.domain, found_by=by, document=doc
            )
        if (
            self.profile.minor_penalties_excluded
            and rec.penalty is not None
            and rec.penalty.excluded_by_art19
        ):
            if rec.kind is _RK_SEVERE_DISHONESTY:
                # A severe finding (Art. 37) is not the minor penalty information Art. 19 keeps
                # out of the catalogue, whatever the penalty record says: the law applies.
                self.severe_not_minor(rid, _MINOR_PENALTY)
            else:
                self.leave_out(
                    _RC_EXCLUDED_MINOR_PENALTY,
                    rid,
                    said(
                        "简易程序或轻微、初次违法且主动消除危害后果的行政处罚（Art. 19）",
                        "a summary-procedure penalty, or a minor first offence whose harm was "
                        "removed at once (Art. 19)",
                    ),
                )
                return None
        if rec.basis is None or not rec.basis.effective_at(as_of):
            self.leave_out(
                _RC_NO_EFFECTIVE_BASIS,
                rid,
                said(
                    "无生效法律文书作为认定依据（Art. 37）",
                    "no effective legal document as the basis (Art. 37)",
                ),
            )
            return None
        if rec.minor_and_corrected and rec.kind is _RK_SEVERE_DISHONESTY:
            self.severe_not_minor(rid)
        elif rec.minor_and_corrected:
            self.leave_out(
                _RC_REMINDER_ONLY,
                rid,
                said(
                    "轻微偶发并及时改正，免于惩戒（Art. 43）",
                    "minor, occasional and promptly corrected: no punishment (Art. 43)",
                ),
            )
            self.advisories.append(
                Advisory(
                    _RC_REMINDER_ONLY,
                    said(
                        "轻微偶发并及时改正：可予提醒，不适用措施（Art. 43 ¶2）",
                        "minor, occasional conduct corrected promptly: a reminder may be given, "
                        "no measure applies (Art. 43 ¶2)",
                    ),
                    rid,
                )
            )
            return None
        if archived:
            self.leave_out(
                _RC_RECORD_EXPIRED,
                rid,
                said(
                    "公示期限届满，转为档案保存（Art. 51）",
                    "publication period over, archived (Art. 51)",
                ),
            )
            return None
        last = publication_last_day(rec, self.profile, self.advisories)
        if last is not None and as_of > last:
            self.leave_out(
                _RC_RECORD_EXPIRED,
                rid,
                said(
                    f"公示期限届满：公示至 {last}（Art. 51）",
                    f"publication period over: published until {last} (Art. 51)",
                ),
            )
            return None
        ground = _G_SEVERE_DISHONESTY if rec.kind is _RK_SEVERE_DISHONESTY else _G_DISHONESTY
        disputed = rec.objection is not None and rec.objection.pending_at(as_of)
        by, doc = _found(rec)
        return TriggerRef(
            "record", rid, ground, rec.category, rec.domain, _ROLE_SUBJECT, None, disputed, by, doc
        )

    def membership(
        self, m: ListMembership, role: str = _ROLE_SUBJECT, via: str | None = None
    ) -> TriggerRef | None:
        as_of, mid = self.as_of, m.membership_id
        source = "membership" if via is None else "linked_party"
        if m.listed_on > as_of:
            self.leave_out(
                _RC_RECORD_NOT_YET_EFFECTIVE,
                mid,
                said("列入日期晚于核查日", "listed after the query date"),
            )
            return None
        if m.status is _MS_REMOVED and (m.removed_on is None or m.removed_on <= as_of):
            reason = _REMOVAL_REASON[m.removal_reason or RemovalReason.TERM_ENDED]
            self.leave_out(
                reason,
                mid,
                said(f"移出名单：{m.removal_reason}", f"removed from the list: {m.removal_reason}"),
            )
            return None
        if m.objection is not None and m.objection.upheld_at(as_of):
            self.leave_out(
                _RC_RECORD_CORRECTED,
                mid,
                said(
                    "异议成立，移出名单（Art. 53）",
                    "objection upheld, removed from the list (Art. 53)",
                ),
            )
            return None
        if m.list_type is not _LT_SEVERE_DISHONESTY and m.term_end and as_of > m.term_end:
            # Red lists and the court's list (Art. 38 ¶2) end with their own term.
            self.leave_out(
                _RC_RECORD_EXPIRED,
                mid,
                said(f"纳入期限已于 {m.term_end} 届满", f"the listing term ended on {m.term_end}"),
            )
            return None
        if m.list_type is _LT_RED_LIST:
            return TriggerRef(
                source, mid, _G_RED_LIST, m.category, m.domain, role, via, False, *_listed(m)
            )
        if m.minor_and_corrected:
            self.severe_not_minor(mid)  # every listing here is severe (Art. 37, 38)
        if m.decision is None or not m.decision.effective_at(as_of):
            self.leave_out(
                _RC_NO_EFFECTIVE_BASIS,
                mid,
                said(
                    "列入名单须有生效的书面决定（Art. 38）",
                    "a listing needs an effective written decision (Art. 38)",
                ),
            )
            return None
        if m.list_type is _LT_SEVERE_DISHONESTY:
            ground = _G_SEVERE_DISHONESTY
            profile = self.profile
            long_term = m.domain in profile.long_term_domains and not m.consequences.isdisjoint(
                profile.long_term_consequences
            )
            rule = None if long_term else profile.severe_period_for(m.domain)
            last = _listing_last_day(m, rule, self)
            if last is not None and as_of > last:
                # Measures resting on list membership stop the day after the term (Art. 38 ¶1);
                # long-term publication keeps the information, not the listing (Art. 51 ¶2).
                self.leave_out(
                    _RC_RECORD_EXPIRED,
                    mid,
                    said(
                        f"名单期限已于 {last} 届满（Art. 38 ¶1, 51）",
                        f"the listing term ended on {last} (Art. 38 ¶1, 51)",
                    ),
                )
                return None
        else:
            # The court's list follows the courts' own terms (Art. 38 ¶2), not Art. 51.
            ground = _G_JUDGMENT_DEFAULTER
        disputed = m.objection is not None and m.objection.pending_at(as_of)
        return TriggerRef(
            source, mid, ground, m.category, m.domain, role, via, disputed, *_listed(m)
        )


def _found(rec: CreditRecord) -> tuple[str | None, str | None]:
    """Who found a record and under which document number (for the line people read)."""
    if rec.basis is not None:
        return rec.basis.issuer, rec.basis.number
    return rec.provider, None


def _listed(m: ListMembership) -> tuple[str | None, str | None]:
    """Who listed the subject and under which written decision."""
    return m.listing_body, m.decision.number if m.decision is not None else None


_DEFAULT_PROFILE: list[PolicyProfile] = []  # loaded on first use, then bound


def _default_catalogue() -> InformationCatalogue:
    if not _DEFAULT_CATALOGUE:
        _DEFAULT_CATALOGUE.append(InformationCatalogue.default())
    return _DEFAULT_CATALOGUE[0]


_DEFAULT_CATALOGUE: list[InformationCatalogue] = []


def _default_profile() -> PolicyProfile:
    if not _DEFAULT_PROFILE:
        _DEFAULT_PROFILE.append(PolicyProfile.default())
    return _DEFAULT_PROFILE[0]


def decide(
    report: CreditReport,
    scenario: Scenario | str,
    *,
    as_of: dt.date,
    catalog: Catalog | None = None,
    profile: PolicyProfile | None = None,
    information_catalogue: InformationCatalogue | None = None,
) -> Decision:
    """Match ``report`` against the measure lists in force on ``as_of`` for ``scenario``.

    ``catalog`` defaults to the shipped lists, ``profile`` to the draft regulation's rules and
    ``information_catalogue`` to the shipped (sample) public credit information catalogue:
    records whose conduct category it does not list are left out (``OUTSIDE_CATALOGUE``).
    Raises :class:`~credit_sdk.InvalidQuery` for an unknown scenario and
    :class:`~credit_sdk.PolicyError` when the profile is not in force on ``as_of``.
    """
    # The exact types (what the client passes) skip the general checks.
    if type(report) is not CreditReport:
        require_type(report, CreditReport, "report")
    if type(scenario) is not Scenario:
        scenario = Scenario.parse(scenario)
    if type(as_of) is not dt.date:
        require_type(as_of, dt.date, "as_of")
        if isinstance(as_of, dt.datetime):
            as_of = as_of.date()
    if catalog is not None:
        require_type(catalog, Catalog, "catalog")
    if profile is not None:
        require_type(profile, PolicyProfile, "profile")
    if information_catalogue is not None:
        require_type(information_catalogue, InformationCatalogue, "information_catalogue")
    catalog = catalog if catalog is not None else Catalog.default()
    profile = profile if profile is not None else _default_profile()
    profile.check_in_force(as_of)
    if information_catalogue is None:
        information_catalogue = _default_catalogue()
    run = _Run(as_of, profile, information_catalogue)
    subject_kind = report.subject.kind

    negatives: list[TriggerRef] = []
    positives: list[TriggerRef] = []
    for rec in report.records:
        t = run.record(rec)
        if t is not None:
            (positives if t.ground is _G_COMMENDATION else negatives).append(t)
    for m in report.list_memberships:
        t = run.membership(m)
        if t is not None:
            (positives if t.ground is _G_RED_LIST else negatives).append(t)
    for c in report.commitments:
        if c.status not in (_CS_FALSE, _CS_UNFULFILLED):
            continue
        found = c.found_on or c.made_on
        if found > as_of:
            run.leave_out(
                _RC_RECORD_NOT_YET_EFFECTIVE,
                c.commitment_id,
                said("认定日期晚于核查日", "found after the query date"),
            )
        elif c.repaired_on is not None and c.repaired_on <= as_of:
            run.leave_out(
                _RC_RECORD_REPAIRED,
                c.commitment_id,
                said("已完成信用修复（Art. 28）", "credit repaired (Art. 28)"),
            )
        else:
            negatives.append(
                TriggerRef("commitment", c.commitment_id, _G_FALSE_COMMITMENT, "commitment_breach")
            )
    if subject_kind is _SK_NATURAL_PERSON:
        for lp in report.linked_parties:
            via = lp.organisation.masked
            org_type = lp.resolved_entity_type
            for m in lp.memberships:
                if m.list_type is _LT_RED_LIST:
                    run.leave_out(
                        _RC_NOT_RELATED,
                        m.membership_id,
                        said(
                            "第四十五条仅将严重失信名单延及该组织的相关人员（Art. 45）",
                            "Art. 45 extends only severe listings to the organisation's people",
                        ),
                    )
                    continue
                if org_type not in MARKET_TYPES:
                    _not_a_market_entity(run, m.membership_id, org_type)
                    continue
                if not lp.held_during(m.listed_on, as_of):
                    run.leave_out(
                        _RC_NOT_RELATED,
                        m.membership_id,
                        said(
                            f"{via} 被列入名单期间未担任{label(ROLE_LABELS, lp.role, 'zh')}"
                            f"（{lp.role}）",
                            f"the {lp.role} role was not held while {via} was listed",
                        ),
                    )
                    continue
                t = run.membership(m, lp.role, via)
                if t is not None:
                    negatives.append(t)
    points: int | None = None
    pts = report.integrity_points
    if pts is not None:
        if subject_kind is not _SK_NATURAL_PERSON:
            run.leave_out(
                _RC_NOT_RELATED,
                pts.scheme,
                said("诚信积分仅适用于自然人", "integrity points are for natural persons"),
            )
        elif pts.assessed_on > as_of:
            run.leave_out(
                _RC_RECORD_NOT_YET_EFFECTIVE,
                pts.scheme,
                said("评定日期晚于核查日", "assessed after the query date"),
            )
        else:
            points = pts.score
            positives.append(
                TriggerRef("integrity_points", pts.scheme, _G_INTEGRITY_POINTS, str(pts.score))
            )
    if report.linked_parties and subject_kind is not _SK_NATURAL_PERSON:
        for lp in report.linked_parties:
            for m in lp.memberships:
                run.leave_out(
                    _RC_NOT_RELATED,
                    m.membership_id,
                    said(
                        "第四十五条仅将名单延及被列入主体中的自然人（Art. 45）",
                        "Art. 45 extends a listing to natural persons in the listed entity only",
                    ),
                )

    in_force = catalog.in_force(as_of)
    jd_is_severe = profile.judgment_defaulter_is_severe
    matches = _match(
        catalog,
        in_force,
        scenario,
        as_of,
        (*negatives, *positives),
        report.subject.resolved_entity_type,
        report.subject.entity_type is not None,
        subject_kind,
        jd_is_severe,
        points,
        run,
    )

    # Incentives for a subject with active dishonesty (Art. 36, 40): trustworthiness incentives
    # presuppose no active dishonesty. Under SUPPRESS any undisputed negative item suppresses
    # them; under SUPPRESS_IF_SEVERE only severe ones do. Disputed negatives hold them for review.
    if profile.incentives_with_dishonesty == _IP_SUPPRESS:
        blocking = negatives
    else:
        blocking = [t for t in negatives if t.ground in _SEVERE_GROUNDS]
    on_dispute = profile.on_dispute
    # Under APPLY a disputed item counts as established, for incentives as for restrictions.
    suppress = any(not t.disputed or on_dispute == _DP_APPLY for t in blocking)
    hold_incentives = not suppress and bool(blocking)

    restrictions: list[AppliedMeasure] = []
    incentives: list[AppliedMeasure] = []
    voluntary: list[AppliedMeasure] = []
    held: list[AppliedMeasure] = []
    # Only a negative item can be disputed; without one, no measure rests on disputed items.
    any_disputed = any(t.disputed for t in negatives)
    for _, prefix, trigs in matches.values():
        # The prefix holds the measure's static fields (see _prefix): id, kind, voluntary.
        incentive = prefix[3] is _MK_INCENTIVE
        if incentive and suppress:
            run.exclusions.append(
                Exclusion(
                    _RC_INCENTIVE_SUPPRESSED_BY_DISHONESTY,
                    None,
                    prefix[0],
                    said("主体存在有效的失信信息", "the subject has active dishonesty information"),
                )
            )
            continue
        applied = _new_tuple(AppliedMeasure, prefix + (tuple(trigs),))  # noqa: RUF005 (faster)
        if prefix[11]:
            voluntary.append(applied)
            continue
        if incentive:
            if hold_incentives:
                held.append(applied)
            else:
                incentives.append(applied)
            continue
        if any_disputed and all(t.disputed for t in trigs):
            if on_dispute == _DP_REVIEW:
                held.append(applied)
                continue
            if on_dispute == _DP_SUSPEND:
                run.exclusions.append(
                    Exclusion(
                        _RC_RECORD_DISPUTED,
                        trigs[0].item_id,
                        prefix[0],
                        said(
                            "异议处理期间暂停实施（Art. 53）",
                            "suspended while the objection is pending (Art. 53)",
                        ),
                    )
                )
                continue
        restrictions.append(applied)

    for t in negatives:
        if t.disputed:
            run.advisories.append(
                Advisory(
                    _RC_RECORD_DISPUTED,
                    said(
                        "异议标注：该信息的异议正在处理中（Art. 53）",
                        "an objection to this item is pending (Art. 53)",
                    ),
                    t.item_id,
                )
            )
    if report.prohibited_fields_dropped:
        run.advisories.append(
            Advisory(
                _RC_PROHIBITED_FIELDS_DROPPED,
                said(
                    f"已从报告中剔除 {len(report.prohibited_fields_dropped)} 项禁止采集的信息"
                    f"（Art. 20）：{', '.join(report.prohibited_fields_dropped)}",
                    f"{len(report.prohibited_fields_dropped)} prohibited field(s) dropped from "
                    f"the report (Art. 20): {', '.join(report.prohibited_fields_dropped)}",
                ),
            )
        )

    if restrictions:
        outcome = Outcome.RESTRICTED
    elif held:
        outcome = Outcome.REVIEW
    elif incentives:
        outcome = Outcome.INCENTIVES
    else:
        outcome = Outcome.CLEAR

    return Decision(
        outcome=outcome,
        scenario=scenario,
        subject=report.subject.identifier.masked,
        subject_kind=subject_kind,
        restrictions=tuple(restrictions),
        incentives=tuple(incentives),
        voluntary=tuple(voluntary),
        held_for_review=tuple(held),
        exclusions=tuple(run.exclusions),
        advisories=tuple(run.advisories),
        commitment=_commitment(negatives, jd_is_severe),
        supervision=_supervision(report, negatives, as_of, profile),
        provenance=Provenance(
            report_id=report.report_id,
            lists=in_force.refs,
            policy_profile=profile.profile_id,
            sdk_version=__version__,
            as_of=as_of,
        ),
    )


_SUBTYPES = frozenset(
    {
        EntityType.STATE_OWNED_ENTERPRISE,
        EntityType.LARGE_ENTERPRISE,
        EntityType.FINANCIAL_INSTITUTION,
    }
)


def _unknown_type(run: _Run, what: tuple[str, str]) -> None:
    if any(a.code is _RC_ENTITY_TYPE_UNKNOWN for a in run.advisories):
        return
    run.advisories.append(
        Advisory(
            _RC_ENTITY_TYPE_UNKNOWN,
            said(
                f"无法从报告或统一社会信用代码（GB 32100）判断{what[0]}：未适用针对特定主体类型的"
                "措施；平台可载明主体类型（entity_type）",
                f"{what[1]} cannot be told from the report or the registration code (GB 32100): "
                "measures that target particular kinds of body were not applied; the platform "
                "can state it (entity_type)",
            ),
        )
    )


def _not_targeted(
    entry: IndexedMeasure,
    item_id: str,
    entity_type: EntityType | None,
    declared: bool,
    run: _Run,
) -> Exclusion:
    types = entry.entity_types or frozenset()
    wanted = ", ".join(sorted(t.value for t in (entry.measure.target.entity_types or ())))
    unknown = entity_type is None or (
        not declared and entity_type is EntityType.MARKET_ENTITY and bool(types & _SUBTYPES)
    )
    if unknown:
        what = (
            ("主体类型", "the subject's entity type")
            if entity_type is None
            else (
                "企业是否为国有企业、大型企业或金融机构",
                "whether the enterprise is state-owned, large or a financial institution",
            )
        )
        _unknown_type(run, what)
        subject_zh = "类型不明" if entity_type is None else "类别不明的企业"
        subject = "of unknown type" if entity_type is None else "an enterprise of unknown kind"
    else:
        subject_zh = str(entity_type)
        subject = f"a {entity_type}"
    return Exclusion(
        _RC_NOT_TARGETED,
        item_id,
        entry.measure.measure_id,
        said(
            f"惩戒对象：该措施针对 {wanted}；本主体为 {subject_zh}（Art. 39）",
            f"the measure targets {wanted}; the subject is {subject} (Art. 39)",
        ),
    )


def _not_a_market_entity(run: _Run, membership_id: str, org_type: EntityType | None) -> None:
    if org_type is None:
        _unknown_type(
            run, ("被列入组织是否为市场主体", "whether the listed organisation is a market entity")
        )
        detail = said(
            "第四十五条仅延及市场主体的相关责任人员，被列入组织的类型不明（Art. 45）",
            "Art. 45 reaches the responsible persons of market entities only, and the listed "
            "organisation's type is unknown",
        )
    else:
        detail = said(
            f"被列入组织为 {org_type}，不是市场主体：第四十五条仅延及市场主体的相关责任人员"
            "（Art. 45）；对其人员适用第四十四条第二款（由列入单位通报其所在单位和上级），"
            "不适用个人限制（Art. 44 ¶2）",
            f"the listed organisation is a {org_type}, not a market entity: Art. 45 reaches the "
            "responsible persons of market entities only; for its people Art. 44 ¶2 applies "
            "(the listing unit notifies their unit and superiors), not personal restrictions",
        )
    run.leave_out(_RC_NOT_TARGETED, membership_id, detail)


def _unpublished(
    entry: IndexedMeasure, item_id: str, editions: frozenset[tuple[str, str]], as_of: dt.date
) -> Exclusion:
    if entry.edition not in editions:
        detail = said(
            f"清单 {entry.list.list_id} 第 {entry.list.version} 版于 {as_of} 未生效（Art. 39）",
            f"edition {entry.list.version} of {entry.list.list_id} is not in force on "
            f"{as_of} (Art. 39)",
        )
    else:
        detail = said(
            f"该措施于 {entry.published_on} 方才公布（Art. 39）",
            f"published only on {entry.published_on} (Art. 39)",
        )
    return Exclusion(_RC_MEASURE_UNPUBLISHED, item_id, entry.measure.measure_id, detail)


def _prefix(entry: IndexedMeasure) -> tuple[Any, ...]:
    """The static part of an applied measure (its Art. 39 elements): only the triggers differ
    between decisions, so a plan computes it once."""
    m = entry.measure
    return (
        m.measure_id,
        entry.list.list_id,
        entry.list.version,
        m.kind,
        m.title,
        m.content,
        m.target.description,
        m.legal_basis,
        m.implementing_body.name,
        m.range_item,
        entry.publication_ref,
        m.voluntary,
        m.score_adjustment,
        _RC_VOLUNTARY_MEASURE if m.voluntary else _RC_APPLIED,
    )


_new_tuple = tuple.__new__

# What a plan step does with an item, decided once per decision context (see _plan).
_MATCH = 0  # the measure applies (to be sorted into restrictions, incentives ... later)
_POINTS = 1  # applies only with enough integrity points (Art. 47): the report decides
_UNPUBLISHED = 2  # its edition is not in force, or it was published after as_of (Art. 39)
_UNTARGETED = 3  # the measure targets other kinds of body (Art. 39's 惩戒对象)
_SKIP = 4  # another edition of the measure is in force: this one says nothing

#: One step: (what, the measure, its key, whether a declined honour withholds it, the static
#: part of the applied measure).
_Step = tuple[int, IndexedMeasure, tuple[str, str], bool, tuple[Any, ...]]
#: (the steps; when every step is a plain match, just (key, measure, static part) of each, else
#: None).
_Plan = tuple[
    tuple[_Step, ...], tuple[tuple[tuple[str, str], IndexedMeasure, tuple[Any, ...]], ...] | None
]
_PLAN_LIMIT = 4096


def _plan(
    catalog: Catalog,
    in_force: InForce,
    scenario: Scenario,
    as_of: dt.date,
    grounds: tuple[Ground, ...],
    category: str | None,
    role: str,
    domain: str | None,
    subject_kind: SubjectKind,
    entity_type: EntityType | None,
) -> _Plan:
    """What every candidate measure does with an item of ``grounds``, ``category``, ``role`` and
    ``domain``, for a subject of ``subject_kind`` and ``entity_type`` at ``scenario`` on
    ``as_of``: all that depends only on these is decided here, once, so that matching an item
    is a walk over the measures that can apply to it (Art. 43), whatever the catalog's size.

    The order of the steps is the order in which the measures are considered, which fixes the
    order of a decision's measures and exclusions; the checks are those of the reference matcher
    in ``tests/unit/test_engine_matcher.py``, in the same order.
    """
    editions = in_force.editions
    steps: list[_Step] = []
    for g in grounds:
        for entry in catalog.candidates(scenario, g, category):
            if role not in entry.roles or subject_kind not in entry.subject_kinds:
                continue
            if entry.domains is not None and domain not in entry.domains:
                continue
            key = entry.key
            types = entry.entity_types
            if types is not None and entity_type not in types:
                steps.append((_UNTARGETED, entry, key, False, ()))
                continue
            declinable = entry.measure.range_item == "40.5"  # publicity of an honour
            if entry.edition not in editions or entry.published_on > as_of:
                if entry.edition not in editions and key in in_force.measure_keys:
                    if declinable:
                        steps.append((_SKIP, entry, key, True, ()))
                    continue
                steps.append((_UNPUBLISHED, entry, key, declinable, ()))
                continue
            code = _MATCH if entry.min_points is None else _POINTS
            steps.append((code, entry, key, declinable, _prefix(entry)))
    if steps and all(step[0] == _MATCH and not step[3] for step in steps):
        return tuple(steps), tuple((key, entry, prefix) for _, entry, key, _, prefix in steps)
    return tuple(steps), None


def _match(
    catalog: Catalog,
    in_force: InForce,
    scenario: Scenario,
    as_of: dt.date,
    triggers: tuple[TriggerRef, ...],
    entity_type: EntityType | None,
    declared_type: bool,
    subject_kind: SubjectKind,
    jd_is_severe: bool,
    points: int | None,
    run: _Run,
) -> dict[tuple[str, str], tuple[IndexedMeasure, tuple[Any, ...], list[TriggerRef]]]:
    """The measures ``triggers`` relate to at ``scenario`` (Art. 39, 43), each with the items
    that trigger it, in the order first met; what relates but does not apply is left out with
    its reason in ``run``.

    Plans are kept with the catalog per decision context (scenario, date, profile's reading of
    the court's list, subject kind and entity type), then per kind of item.
    """
    memo = catalog._index.plans
    context = (scenario, as_of, jd_is_severe, subject_kind, entity_type)
    plans: dict[Any, _Plan] | None = memo.get(context)
    if plans is None:
        if len(memo) >= _PLAN_LIMIT:
            memo.clear()
        plans = memo[context] = {}
    matches: dict[tuple[str, str], tuple[IndexedMeasure, tuple[Any, ...], list[TriggerRef]]] = {}
    untargeted: set[tuple[str, str]] = set()
    seen_unpublished: set[tuple[str, str]] = set()
    declined = run.declined
    for t in triggers:
        ground, category, role, domain = t.ground, t.category, t.role, t.domain
        plan = plans.get((ground, category, role, domain))
        if plan is None:
            grounds: tuple[Ground, ...] = (ground,)
            if ground is _G_JUDGMENT_DEFAULTER and jd_is_severe:
                grounds = (_G_JUDGMENT_DEFAULTER, _G_SEVERE_DISHONESTY)
            plan = _plan(
                catalog, in_force, scenario, as_of, grounds, category, role, domain,
                subject_kind, entity_type,
            )  # fmt: skip
            if len(plans) >= _PLAN_LIMIT:
                plans.clear()
            plans[(ground, category, role, domain)] = plan
        steps, plain = plan
        if plain is not None:
            for key, entry, prefix in plain:
                hit = matches.get(key)
                if hit is None:
                    matches[key] = (entry, prefix, [t])
                elif t not in hit[2]:
                    hit[2].append(t)
            continue
        related = False
        withheld = bool(declined) and t.item_id in declined
        for code, entry, key, declinable, prefix in steps:
            if declinable and withheld:
                related = True
                run.exclusions.append(
                    Exclusion(
                        _RC_WITHHELD_AT_SUBJECT_REQUEST,
                        t.item_id,
                        entry.measure.measure_id,
                        said(
                            "主体提出不公示守信信息：不予公示，信息仍共享，其他激励措施照常适用"
                            "（Art. 51 ¶1）",
                            "the subject declined publication: no publicity; the information "
                            "is still shared and its other incentives apply (Art. 51 ¶1)",
                        ),
                    )
                )
                continue
            if code == _SKIP:
                continue
            related = True
            if code == _UNTARGETED:
                if key not in untargeted:
                    untargeted.add(key)
                    run.exclusions.append(
                        _not_targeted(entry, t.item_id, entity_type, declared_type, run)
                    )
                continue
            if code == _UNPUBLISHED:
                if key not in seen_unpublished:
                    seen_unpublished.add(key)
                    run.exclusions.append(_unpublished(entry, t.item_id, in_force.editions, as_of))
                continue
            if code == _POINTS:
                minimum = entry.min_points
                if points is None or (minimum is not None and points < minimum):
                    run.exclusions.append(
                        Exclusion(
                            _RC_POINTS_BELOW_THRESHOLD,
                            t.item_id,
                            entry.measure.measure_id,
                            said(f"需诚信积分 {minimum} 分", f"needs {minimum} integrity points"),
                        )
                    )
                    continue
            hit = matches.get(key)
            if hit is None:
                matches[key] = (entry, prefix, [t])
            elif t not in hit[2]:
                hit[2].append(t)
        if not related:
            run.exclusions.append(
                Exclusion(
                    _RC_NOT_RELATED,
                    t.item_id,
                    None,
                    said(
                        f"无已公布措施将{label(GROUND_LABELS, t.ground, 'zh')}（{t.ground}, "
                        f"{t.category}）与本场景（{scenario}）关联（Art. 43）",
                        f"no published measure relates {t.ground} ({t.category}) to {scenario} "
                        "(Art. 43)",
                    ),
                )
            )
    return matches


def _commitment(negatives: list[TriggerRef], jd_is_severe: bool) -> CommitmentEligibility:
    """Art. 28: severe dishonest subjects and those with false or unfulfilled commitments may
    not use the commitment route until repaired."""
    if not negatives:
        return _ELIGIBLE
    severe_grounds = _SEVERE_GROUNDS if jd_is_severe else _SEVERE_ONLY
    severe: list[TriggerRef] = []
    disputed_severe: list[TriggerRef] = []
    false: list[TriggerRef] = []
    for t in negatives:
        if t.role != _ROLE_SUBJECT:
            continue  # an Art. 45 link is not the subject's own listing
        if t.ground in severe_grounds:
            (disputed_severe if t.disputed else severe).append(t)
        elif t.ground is _G_FALSE_COMMITMENT:
            false.append(t)
    if severe:
        return CommitmentEligibility(False, _RC_SEVERE_DISHONESTY, tuple(severe))
    if false:
        return CommitmentEligibility(False, _RC_FALSE_COMMITMENT, tuple(false))
    if disputed_severe:
        return CommitmentEligibility(False, _RC_RECORD_DISPUTED, tuple(disputed_severe))
    return _ELIGIBLE


_ELIGIBLE = CommitmentEligibility(True, _RC_COMMITMENT_ALLOWED)
_SEVERE_ONLY = frozenset({_G_SEVERE_DISHONESTY})


def _supervision(
    report: CreditReport, negatives: list[TriggerRef], as_of: dt.date, profile: PolicyProfile
) -> Supervision:
    """Art. 31, 32: industry evaluation first, then the comprehensive one; active dishonesty
    means high risk whatever the grade."""
    factors = profile.spot_check_factors
    if negatives and any(not t.disputed and t.role == _ROLE_SUBJECT for t in negatives):
        return Supervision(
            _RL_HIGH,
            factors[_RL_HIGH],
            "违法失信、风险较高: active dishonesty information (Art. 32(3))",
        )
    if not report.evaluations:
        return Supervision(
            _RL_NORMAL,
            factors[_RL_NORMAL],
            "no valid credit evaluation: the normal spot-check rate (Art. 32(2))",
        )
    valid = [e for e in report.evaluations if e.valid_at(as_of)]
    chosen = max(
        (e for e in valid if e.kind is _EK_INDUSTRY),
        key=lambda e: e.evaluated_on,
        default=None,
    ) or max(valid, key=lambda e: e.evaluated_on, default=None)
    if chosen is None:
        return Supervision(
            _RL_NORMAL,
            factors[_RL_NORMAL],
            "no valid credit evaluation: the normal spot-check rate (Art. 32(2))",
        )
    kind = "行业信用评价" if chosen.kind is _EK_INDUSTRY else "公共信用综合评价"
    return Supervision(
        chosen.risk_level,
        factors[chosen.risk_level],
        f"{kind} {chosen.grade} of {chosen.evaluated_on} (Art. 31, 32)",
    )
