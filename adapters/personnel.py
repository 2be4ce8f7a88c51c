"""Personnel workflow (人事): check a candidate for hiring, appointment, qualification, election.

For personnel review tools at the decision points of Art. 27(5)–(7): hiring (录用、聘用),
transfer (调转、调任), appointment (任命) and promotion (晋升) of civil servants and public
institution staff; qualification review of heads of public institutions and social
organisations and of directors, supervisors and senior managers of SOEs and financial
institutions (任职资格审核); and qualification for election as Party congress delegate, people's
congress deputy or CPPCC member (被选举资格审核). The measures that bite there are Art. 42(6)–(8).

:func:`check_candidate` (or :func:`acheck_candidate`) returns a :class:`CandidateCheck` with
the candidate's standing, the restrictions with their legal basis, and, separately, the roles
the candidate holds in organisations on the severe list (Art. 45: 法定代表人, 主要负责人,
实际控制人, 影响债务履行的直接责任人): a company's severe listing reaches its people there.

**Authorisation (Art. 25, 56).** A candidate is a natural person, and in these scenarios a
natural person's conditional information (有条件公开信息) is queried only with their
authorisation: an :class:`~credit_sdk.Authorization` with a grant id, a scope naming the
scenario or its Art. 27 family (``"personnel"``, ``"qualification"``, ``"election"``), the
purpose, and a term of at most three years (no lifelong grant). So ``authorization`` is a
required argument: pass the grant the candidate signed with the application; pass ``None`` only
if your client was configured not to require one (``authorization_required_for``). A missing,
expired or out-of-scope grant raises :class:`~credit_sdk.AuthorizationError` before any query.

>>> import datetime as dt
>>> from credit_sdk import Authorization
>>> grant = Authorization(subject="230102197903220411", grant_id="G-2026-0042",
...                       scope=("personnel",), purpose="2026 civil service recruitment",
...                       granted_on=dt.date(2026, 11, 1), expires_on=dt.date(2027, 2, 1))
>>> check = check_candidate(client, "230102197903220411", "civil_service_hiring", ctx,
...                         authorization=grant)                      # doctest: +SKIP
>>> [(r.role, r.organisation) for r in check.linked_roles]             # doctest: +SKIP
[('legal_representative', '9123**********017F')]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from credit_sdk import (
    AppliedMeasure,
    AsyncCreditClient,
    Authorization,
    CreditClient,
    Decision,
    Identifier,
    IdentifierKind,
    InvalidQuery,
    Lang,
    Outcome,
    QueryContext,
    Scenario,
    TriggerRef,
    bilingual,
    parse_identifier,
    shown,
)

__all__ = [
    "PERSONNEL_SCENARIOS",
    "ROLE_LABELS",
    "CandidateCheck",
    "CandidateStanding",
    "LinkedRoleFinding",
    "acheck_candidate",
    "check_candidate",
]

#: The Art. 27(5)–(7) scenarios this helper serves.
PERSONNEL_SCENARIOS = frozenset(
    {
        Scenario.CIVIL_SERVICE_HIRING,
        Scenario.PERSONNEL_TRANSFER,
        Scenario.APPOINTMENT,
        Scenario.PROMOTION,
        Scenario.QUALIFICATION_REVIEW,
        Scenario.ELECTION_QUALIFICATION,
    }
)

#: Art. 45 roles and their legal terms.
ROLE_LABELS = {
    "legal_representative": "法定代表人",
    "principal": "主要负责人",
    "actual_controller": "实际控制人",
    "directly_responsible_person": "影响债务履行的直接责任人",
}

_STANDING_ZH = {
    "eligible": ("未发现限制", "eligible"),
    "restricted": ("受限", "restricted"),
    "review": ("待复核", "under review"),
    "indeterminate": ("无法判定", "indeterminate"),
}
_GROUND_ZH = {
    "severe_dishonesty": "严重失信主体名单",
    "judgment_defaulter": "失信被执行人名单",
}


class CandidateStanding(StrEnum):
    """The candidate's standing; only ``ELIGIBLE`` may be read as clear."""

    ELIGIBLE = "eligible"
    RESTRICTED = "restricted"
    REVIEW = "review"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True, slots=True)
class LinkedRoleFinding:
    """Art. 45: the candidate holds ``role`` in ``organisation`` (masked), which is on a list
    (``ground``) through the entry ``item_id``; ``measure_ids`` are the measures it brings (or
    would bring, when ``disputed``: the listing is under objection)."""

    role: str
    organisation: str
    item_id: str
    ground: str
    disputed: bool
    measure_ids: tuple[str, ...]

    @property
    def role_zh(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def describe(self) -> str:
        listing = _GROUND_ZH.get(self.ground, self.ground)
        text = f"{self.role_zh} ({self.role}) of {self.organisation}: {listing} {self.item_id}"
        if self.disputed:
            text += " [异议处理中 under objection]"
        return text + f" → {', '.join(self.measure_ids)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "role_zh": self.role_zh,
            "organisation": self.organisation,
            "item_id": self.item_id,
            "ground": self.ground,
            "disputed": self.disputed,
            "measure_ids": list(self.measure_ids),
        }


@dataclass(frozen=True, slots=True)
class CandidateCheck:
    """A candidate checked at one personnel decision point.

    ``restrictions``: measures that apply (Art. 42(6)–(8) and national ones), each with its
    legal basis and triggers; ``own_findings``: the candidate's own records and listings behind
    them; ``linked_roles``: Art. 45 roles in listed organisations behind them;
    ``held_for_review``: measures resting on something under objection.
    """

    decision: Decision
    scenario: Scenario
    standing: CandidateStanding
    restrictions: tuple[AppliedMeasure, ...]
    held_for_review: tuple[AppliedMeasure, ...]
    own_findings: tuple[TriggerRef, ...]
    linked_roles: tuple[LinkedRoleFinding, ...]
    authorization_id: str | None = None

    def __repr__(self) -> str:
        return (
            f"CandidateCheck({self.subject}, {self.scenario.value}, {self.standing.value}, "
            f"linked_roles={len(self.linked_roles)})"
        )

    @property
    def eligible(self) -> bool:
        return self.standing is CandidateStanding.ELIGIBLE

    @property
    def query_id(self) -> str | None:
        return self.decision.query_id

    @property
    def subject(self) -> str:
        """The candidate, masked."""
        return self.decision.subject

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "scenario": self.scenario.value,
            "article": f"Art. {self.scenario.article_item}",
            "standing": self.standing.value,
            "outcome": self.decision.outcome.value,
            "query_id": self.query_id,
            "authorization_id": self.authorization_id,
            "restrictions": [m.to_dict() for m in self.restrictions],
            "held_for_review": [m.to_dict() for m in self.held_for_review],
            "own_findings": [t.describe() for t in self.own_findings],
            "linked_roles": [r.to_dict() for r in self.linked_roles],
            "as_of": self.decision.provenance.as_of.isoformat(),
        }

    def render(self, lang: Lang = "zh-en") -> str:
        """What the personnel officer reads: Chinese first (``lang``: ``"zh-en"``, ``"zh"`` or
        ``"en"``), each restriction with its legal basis and implementing body."""
        if lang not in ("zh-en", "zh", "en"):
            raise ValueError("lang must be one of zh-en, zh, en")
        scenario = self.scenario
        lines = [
            bilingual("人员信用核查", "Personnel credit check", lang),
            f"  {bilingual('候选人', 'Candidate', lang)}: {self.subject}",
            f"  {bilingual('事项', 'Scenario', lang)}: "
            f"{bilingual(scenario.label_zh, scenario.value, lang)} (Art. {scenario.article_item})",
            f"  {bilingual('结论', 'Standing', lang)}: "
            f"{bilingual(*_STANDING_ZH[self.standing.value], lang)}",
        ]
        if self.standing is CandidateStanding.INDETERMINATE:
            lines += [
                f"  {bilingual('原因', 'Reason', lang)}: {shown(a.message, lang)}"
                for a in self.decision.advisories
            ]
        for (zh, en), measures in (
            (("限制措施", "Restrictions"), self.restrictions),
            (("待复核（异议处理中）", "Held for review (Art. 53)"), self.held_for_review),
        ):
            if measures:
                lines.append(f"  {bilingual(zh, en, lang)}:")
                for m in measures:
                    lines.append(f"    {m.title} [{m.measure_id}; Art. {_item(m.range_item)}]")
                    basis = "；".join(m.legal_basis)
                    lines.append(f"      {bilingual('设定依据', 'Legal basis', lang)}: {basis}")
                    lines.append(
                        f"      {bilingual('实施主体', 'Implementing body', lang)}: "
                        f"{m.implementing_body}"
                    )
        if self.own_findings:
            lines.append(f"  {bilingual('本人失信信息', 'Own records', lang)}:")
            lines += [f"    {t.describe(lang)}" for t in self.own_findings]
        if self.linked_roles:
            roles = bilingual("关联主体任职", "Roles in listed organisations", lang)
            lines.append(f"  {roles} (Art. 45):")
            lines += [f"    {r.describe()}" for r in self.linked_roles]
        if self.authorization_id:
            lines.append(
                f"  {bilingual('授权', 'Authorization', lang)} (Art. 25, 56): "
                f"{self.authorization_id}"
            )
        lines.append(f"  {bilingual('查询编号', 'Query id', lang)}: {self.query_id}")
        return "\n".join(lines)


def check_candidate(
    client: CreditClient,
    candidate: str | Identifier,
    scenario: Scenario | str,
    ctx: QueryContext,
    *,
    authorization: Authorization | None,
    as_of: dt.date | None = None,
) -> CandidateCheck:
    """Check a candidate at an Art. 27(5)–(7) decision point (see the module docs for the
    authorisation the candidate must have given).

    Raises :class:`~credit_sdk.InvalidQuery` for another scenario or an organisation's code,
    :class:`~credit_sdk.AuthorizationError` for a missing or unfit grant, and what
    :meth:`CreditClient.check` raises; a platform failure gives an ``INDETERMINATE`` check.

    >>> check = check_candidate(client, person, "qualification_review", ctx,
    ...                         authorization=grant)                   # doctest: +SKIP
    >>> check.standing                                                 # doctest: +SKIP
    <CandidateStanding.RESTRICTED: 'restricted'>
    """
    scen, ident = _prepare(candidate, scenario)
    decision = client.check(ident, scen, ctx, authorization=authorization, as_of=as_of)
    return _candidate_check(decision, scen, authorization)


async def acheck_candidate(
    client: AsyncCreditClient,
    candidate: str | Identifier,
    scenario: Scenario | str,
    ctx: QueryContext,
    *,
    authorization: Authorization | None,
    as_of: dt.date | None = None,
) -> CandidateCheck:
    """Async twin of :func:`check_candidate`.

    >>> check = await acheck_candidate(client, person, "appointment", ctx,
    ...                                authorization=grant)            # doctest: +SKIP
    """
    scen, ident = _prepare(candidate, scenario)
    decision = await client.check(ident, scen, ctx, authorization=authorization, as_of=as_of)
    return _candidate_check(decision, scen, authorization)


def _prepare(candidate: str | Identifier, scenario: Scenario | str) -> tuple[Scenario, Identifier]:
    scen = Scenario.parse(scenario)
    if scen not in PERSONNEL_SCENARIOS:
        accepted = ", ".join(sorted(s.value for s in PERSONNEL_SCENARIOS))
        raise InvalidQuery(
            f"the personnel helper serves the Art. 27(5)-(7) scenarios ({accepted}), not "
            f"{scen.value!r}",
            rule="scenario",
        )
    ident = parse_identifier(candidate)  # InvalidIdentifier before any I/O
    if ident.kind is IdentifierKind.USCC:
        raise InvalidQuery(
            "a candidate is a natural person (resident ID number or other certificate); an "
            "organisation's people are reached through their own reports (Art. 45)",
            rule="candidate",
        )
    return scen, ident


def _candidate_check(
    decision: Decision, scenario: Scenario, authorization: Authorization | None
) -> CandidateCheck:
    restrictions = tuple(decision.restrictions)
    held = tuple(decision.held_for_review)
    if decision.outcome is Outcome.INDETERMINATE:
        standing = CandidateStanding.INDETERMINATE
    elif restrictions:
        standing = CandidateStanding.RESTRICTED
    elif decision.outcome is Outcome.REVIEW or held:
        standing = CandidateStanding.REVIEW
    else:
        standing = CandidateStanding.ELIGIBLE
    own: dict[tuple[str, str], TriggerRef] = {}
    for m in (*restrictions, *held):
        for t in m.triggered_by:
            if t.source != "linked_party":
                own.setdefault((t.source, t.item_id), t)
    return CandidateCheck(
        decision=decision,
        scenario=scenario,
        standing=standing,
        restrictions=restrictions,
        held_for_review=held,
        own_findings=tuple(own.values()),
        linked_roles=_linked_roles((*restrictions, *held)),
        authorization_id=authorization.grant_id if authorization is not None else None,
    )


def _linked_roles(measures: Iterable[AppliedMeasure]) -> tuple[LinkedRoleFinding, ...]:
    # One finding per (organisation, role, listing), with every measure it brings: the officer
    # reads "legal representative of X, on the severe list" once, not once per measure.
    found: dict[tuple[str, str, str], tuple[TriggerRef, list[str]]] = {}
    for m in measures:
        for t in m.triggered_by:
            if t.source != "linked_party":
                continue
            key = (t.via_organisation or "", str(t.role), t.item_id)
            entry = found.setdefault(key, (t, []))
            if m.measure_id not in entry[1]:
                entry[1].append(m.measure_id)
    return tuple(
        LinkedRoleFinding(
            role=str(t.role),
            organisation=t.via_organisation or "",
            item_id=t.item_id,
            ground=str(t.ground),
            disputed=t.disputed,
            measure_ids=tuple(ids),
        )
        for t, ids in found.values()
    )


def _item(range_item: str) -> str:
    parts = range_item.split(".")
    return (
        parts[0]
        + (f"({parts[1]})" if len(parts) > 1 else "")
        + (parts[2] if len(parts) > 2 else "")
    )
