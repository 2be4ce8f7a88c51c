"""Art. 39, 44, 45, 21: who a measure may reach (惩戒对象), matched, not just printed.

第三十九条 …明确惩戒措施、惩戒内容、惩戒对象、设定依据和实施主体等要素…
第四十四条 国家机关、国有企事业单位或者大型企业被列入严重失信主体名单且不依法及时纠正失信行为的，
…约谈其主要负责人，并责令限期纠正… 国家机关和国有企事业单位被列入严重失信主体名单的，认定单位应当
通报其上一级人民政府或者主管部门以及审计机关…
第四十五条 市场主体被列入严重失信主体名单的，应当依法对其法定代表人或者主要负责人、实际控制人、
影响债务履行的直接责任人实施惩戒措施…

A measure carries a machine-readable target: subject kinds and entity types. The subject's
entity type comes from the report (``subject.entity_type``), else from the USCC's registration
authority and institution type (GB 32100: 11 机关, 12 事业单位, 5x 民政, 91 企业, 92 个体工商户, 93
农民专业合作社); when it cannot be told, it stays unknown and the decision says so.
"""

from __future__ import annotations

from typing import Any

import pytest

from credit_sdk import CreditReport, EntityType, Outcome, ReportError, Scenario, shown
from tests.legal.builders import (
    advisory_codes,
    check,
    exclusions_for,
    reasons,
    resident_id,
    severe_listing,
    uscc,
)

OTHER = Scenario.OTHER
QUALIFICATION = Scenario.QUALIFICATION_REVIEW
INTERVIEW = "HLJ-SUP-42.1-01"  # 约谈主要负责人 (Art. 42(1), 44 ¶1)
GENERAL_INTERVIEW = "HLJ-SUP-42.1-02"
BODY = "230100MA1C2X3Y4"  # registration division and organisation code, after the two type chars


def _org(prefix: str, kind: str = "legal_person", **subject: Any) -> dict[str, Any]:
    return {"kind": kind, "identifier": uscc(prefix + BODY), **subject}


def _report(subject: dict[str, Any], **extra: Any) -> CreditReport:
    return CreditReport.parse(
        {
            "report_id": "targets",
            "generated_at": "2026-11-29T09:00:00+08:00",
            "subject": subject,
            **extra,
        }
    )


def _listed(prefix: str, **subject: Any) -> CreditReport:
    return _report(_org(prefix, **subject), list_memberships=[severe_listing()])


def _applied(decision: Any) -> set[str]:
    return {m.measure_id for m in (*decision.restrictions, *decision.held_for_review)}


# --- the entity type -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("11", EntityType.STATE_ORGAN),  # 机构编制 · 机关
        ("12", EntityType.PUBLIC_INSTITUTION),  # 机构编制 · 事业单位
        ("51", EntityType.SOCIAL_ORGANISATION),  # 民政 · 社会团体
        ("52", EntityType.SOCIAL_ORGANISATION),  # 民政 · 民办非企业单位
        ("53", EntityType.SOCIAL_ORGANISATION),  # 民政 · 基金会
        ("91", EntityType.MARKET_ENTITY),  # 市场监管 · 企业
        ("93", EntityType.MARKET_ENTITY),  # 市场监管 · 农民专业合作社
        ("31", EntityType.OTHER_ORGANISATION),  # 司法行政 · 律师事务所
        ("Y1", None),  # 其他: cannot be told
    ],
)
def test_entity_type_from_the_uscc(prefix: str, expected: EntityType | None) -> None:
    assert _listed(prefix).subject.resolved_entity_type is expected


def test_individual_business_is_a_natural_person_with_its_own_type() -> None:
    rep = _report(_org("92", kind="natural_person"))
    assert rep.subject.resolved_entity_type is EntityType.INDIVIDUAL_BUSINESS


def test_person_by_resident_id_is_a_natural_person() -> None:
    rep = _report({"kind": "natural_person", "identifier": resident_id()})
    assert rep.subject.resolved_entity_type is EntityType.NATURAL_PERSON


def test_declared_type_wins_over_the_code() -> None:
    rep = _listed("91", entity_type="state_owned_enterprise")
    assert rep.subject.resolved_entity_type is EntityType.STATE_OWNED_ENTERPRISE


# --- Art. 21: an individual business is a natural person ---------------------------------------


@pytest.mark.parametrize("kind", ["legal_person", "unincorporated_organisation"])
def test_individual_business_declared_an_organisation_is_refused(kind: str) -> None:
    with pytest.raises(ReportError, match=r"Art\. 21") as info:
        _report(_org("92", kind=kind))
    assert uscc("92" + BODY) not in str(info.value)


@pytest.mark.parametrize(
    ("subject", "why"),
    [
        (_org("91", entity_type="individual_business"), "organisation as individual business"),
        (_org("91", entity_type="natural_person"), "organisation as natural person"),
        (
            {"kind": "natural_person", "identifier": resident_id(), "entity_type": "state_organ"},
            "person as state organ",
        ),
        (_org("92", kind="natural_person", entity_type="market_entity"), "92 as enterprise"),
    ],
)
def test_entity_type_that_contradicts_the_subject_kind_is_refused(
    subject: dict[str, Any], why: str
) -> None:
    with pytest.raises(ReportError, match=r"Art\. 21"):
        _report(subject)


# --- Art. 44 ¶1: the interview reaches state organs, state-owned units and large enterprises ----


@pytest.mark.parametrize(
    ("prefix", "declared"),
    [
        ("11", None),  # 国家机关
        ("12", None),  # 国有事业单位 (事业单位)
        ("91", "state_owned_enterprise"),  # 国有企业
        ("91", "large_enterprise"),  # 大型企业
    ],
)
def test_interview_reaches_the_units_art_44_names(prefix: str, declared: str | None) -> None:
    extra = {"entity_type": declared} if declared else {}
    decision = check(_listed(prefix, **extra), OTHER)
    assert INTERVIEW in _applied(decision)


@pytest.mark.parametrize(
    ("prefix", "declared"),
    [
        ("91", "market_entity"),  # an ordinary enterprise
        ("91", "financial_institution"),
        ("51", None),  # 社会团体
        ("53", None),  # 基金会
    ],
)
def test_interview_does_not_reach_other_subjects(prefix: str, declared: str | None) -> None:
    extra = {"entity_type": declared} if declared else {}
    decision = check(_listed(prefix, **extra), OTHER)
    assert decision.outcome is Outcome.RESTRICTED  # other measures of the listing still apply
    assert INTERVIEW not in _applied(decision)
    (excl,) = [e for e in exclusions_for(decision, "NOT_TARGETED") if e.measure_id == INTERVIEW]
    assert "state_organ" in excl.detail
    assert "Art. 39" in excl.detail
    assert shown(excl.detail, "zh").startswith("惩戒对象：该措施针对 ")
    assert "ENTITY_TYPE_UNKNOWN" not in advisory_codes(decision)


def test_enterprise_of_unknown_ownership_and_size_is_not_interviewed_and_it_is_said() -> None:
    """A 91 code says "enterprise", not whether it is state-owned or large: unknown stays
    unknown, the interview is not applied, and the decision says why."""
    decision = check(_listed("91"), OTHER)
    assert INTERVIEW not in _applied(decision)
    assert "NOT_TARGETED" in reasons(decision)
    assert "ENTITY_TYPE_UNKNOWN" in advisory_codes(decision)


def test_unknown_registration_type_is_said() -> None:
    decision = check(_listed("Y1"), OTHER)
    assert INTERVIEW not in _applied(decision)
    assert "ENTITY_TYPE_UNKNOWN" in advisory_codes(decision)


def test_general_credit_interview_targets_market_entities_only() -> None:
    dishonest = {
        "record_id": "R1",
        "kind": "dishonesty",
        "category": "false_materials",
        "finding_date": "2026-05-01",
        "basis": {
            "kind": "administrative_penalty_decision",
            "number": "示例罚〔2026〕1号",
            "issuer": "示例局",
            "issued_on": "2026-05-01",
            "effective": True,
        },
    }
    market = check(_report(_org("91"), records=[dishonest]), OTHER)
    assert GENERAL_INTERVIEW in _applied(market)
    organ = check(_report(_org("11"), records=[dishonest]), OTHER)
    assert GENERAL_INTERVIEW not in _applied(organ)


# --- Art. 45: market entities' responsible persons only -----------------------------------------


def _person_linked_to(prefix: str, **party: Any) -> CreditReport:
    return _report(
        {"kind": "natural_person", "identifier": resident_id()},
        linked_parties=[
            {
                "organisation": uscc(prefix + BODY),
                "role": "legal_representative",
                "since": "2020-01-01",
                "memberships": [severe_listing()],
                **party,
            }
        ],
    )


@pytest.mark.parametrize("prefix", ["91", "93"])
def test_art_45_reaches_the_people_of_a_market_entity(prefix: str) -> None:
    decision = check(_person_linked_to(prefix), QUALIFICATION)
    assert decision.outcome is Outcome.RESTRICTED


@pytest.mark.parametrize("declared", ["state_owned_enterprise", "large_enterprise"])
def test_art_45_reaches_the_people_of_any_enterprise(declared: str) -> None:
    decision = check(_person_linked_to("91", organisation_entity_type=declared), QUALIFICATION)
    assert decision.outcome is Outcome.RESTRICTED


@pytest.mark.parametrize("prefix", ["11", "12", "51", "52", "53"])
def test_people_of_a_listed_organ_institution_or_social_organisation_fall_under_art_44(
    prefix: str,
) -> None:
    decision = check(_person_linked_to(prefix), QUALIFICATION)
    assert decision.outcome is Outcome.CLEAR
    (excl,) = exclusions_for(decision, "NOT_TARGETED")
    assert excl.item_id == "L-SEVERE"
    assert "Art. 44" in excl.detail
    assert "Art. 45" in excl.detail
    assert "不是市场主体" in shown(excl.detail, "zh")


def test_people_of_an_organisation_of_unknown_type_are_not_reached_and_it_is_said() -> None:
    decision = check(_person_linked_to("Y1"), QUALIFICATION)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "L-SEVERE") == {"NOT_TARGETED"}
    assert "ENTITY_TYPE_UNKNOWN" in advisory_codes(decision)


def test_declared_organisation_type_wins_over_its_code() -> None:
    decision = check(_person_linked_to("91", organisation_entity_type="public_institution"), OTHER)
    assert reasons(decision, "L-SEVERE") == {"NOT_TARGETED"}
