"""Art. 40, 41, 42: what incentive, restriction and supplementary punishment lists may contain,
and where each item bites.

The catalog rejects out-of-range rows at load (see ``tests/unit/test_shipped_data.py``); here the
engine side: a red-list applicant at a licensing window gets the Art. 40(1) green channel; a
procurement incentive or deduction carries its score adjustment; each Art. 42 item appears in
the scenario it belongs to and nowhere else; and whatever is applied lies within Art. 40-42.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from credit_sdk import CreditReport, MeasureKind, Outcome, Scenario
from tests.legal.builders import (
    HIGH_CONSUMPTION,
    RANGE_40,
    RANGE_41,
    RANGE_42,
    check,
    commendation,
    commitment,
    court_defaulter,
    range_items,
    reasons,
    record,
    red_list,
    report,
    severe_listing,
    severe_record,
)


def _severe_company(domain: str | None = None, entity_type: str | None = None) -> CreditReport:
    return report(
        records=[severe_record(domain=domain)],
        memberships=[severe_listing(domain=domain)],
        entity_type=entity_type,
    )


def _severe_soe() -> CreditReport:
    """A state-owned enterprise: the Art. 44 ¶1 interview reaches it (a plain enterprise not)."""
    return _severe_company(entity_type="state_owned_enterprise")


def _severe_person() -> CreditReport:
    return report(person=True, memberships=[severe_listing()])


def _court_defaulter_person() -> CreditReport:
    return report(person=True, memberships=[court_defaulter()])


# --- Art. 40: incentives -----------------------------------------------------------------------


def test_red_list_applicant_gets_the_green_channel_at_a_licensing_window() -> None:
    decision = check(report(memberships=[red_list()]), Scenario.ADMIN_LICENSING)
    assert decision.outcome is Outcome.INCENTIVES
    assert decision.restrictions == ()
    assert range_items(decision.incentives) == {"40.1"}
    assert any("绿色通道" in m.title for m in decision.incentives)
    assert {m.kind for m in decision.incentives} == {MeasureKind.INCENTIVE}


def test_procurement_bonus_carries_its_score_adjustment() -> None:
    decision = check(report(memberships=[red_list()]), Scenario.GOVERNMENT_PROCUREMENT)
    assert decision.outcome is Outcome.INCENTIVES
    (bonus,) = [m for m in decision.incentives if m.range_item == "40.2"]
    assert bonus.score_adjustment is not None
    assert bonus.score_adjustment > 0
    assert bonus.to_dict()["score_adjustment"] == bonus.score_adjustment


def test_procurement_deduction_carries_a_negative_score_adjustment() -> None:
    """Art. 42(3): 给予减分、降低等次 for dishonesty in bidding."""
    decision = check(report(records=[record(category="bid_rigging")]), Scenario.BIDDING)
    assert decision.outcome is Outcome.RESTRICTED
    deductions = [m for m in decision.restrictions if m.score_adjustment is not None]
    assert deductions
    assert all(m.score_adjustment is not None and m.score_adjustment < 0 for m in deductions)
    assert {m.range_item for m in deductions} == {"42.3"}


@pytest.mark.parametrize(
    ("scenario", "item"),
    [
        (Scenario.ADMIN_LICENSING, "40.1"),  # 绿色通道、简化程序
        (Scenario.PUBLIC_RESOURCE_TRADING, "40.2"),  # 加分、提升等次
        (Scenario.POLICY_SUPPORT, "40.3"),  # 同等条件下优先
        (Scenario.AWARDS, "40.4"),  # 评先评优优先
        (Scenario.OTHER, "40.5"),  # 宣传推介
    ],
)
def test_each_art_40_item_in_its_scenario(scenario: Scenario, item: str) -> None:
    decision = check(report(memberships=[red_list()], records=[commendation()]), scenario)
    assert decision.outcome is Outcome.INCENTIVES
    assert item in range_items(decision.incentives)
    assert range_items(decision.incentives) <= RANGE_40


# --- Art. 41: restrictions ---------------------------------------------------------------------


def test_severe_subject_loses_facilitation_at_a_licensing_window() -> None:
    decision = check(_severe_company(), Scenario.ADMIN_LICENSING)
    restrictions = [m for m in decision.restrictions if m.kind is MeasureKind.RESTRICTION]
    assert {m.range_item for m in restrictions} == {"41.1", "41.2"}  # 不得适用 / 取消已适用


def test_false_commitment_loses_facilitation_at_a_certification_window() -> None:
    decision = check(report(commitments=[commitment()]), Scenario.CERTIFICATION)
    assert decision.outcome is Outcome.RESTRICTED
    assert range_items(decision.restrictions) == {"41.1", "41.2"}


# --- Art. 42: supplementary punishments, each in its scenario ---------------------------------

PUNISHMENT_CASES = [
    ("42.1", Scenario.OTHER, _severe_soe),  # 约谈 (Art. 44 ¶1)
    ("42.2", Scenario.ADMIN_LICENSING, lambda: _severe_company("food_drug")),  # 市场、行业限制
    ("42.3", Scenario.GOVERNMENT_PROCUREMENT, _severe_company),  # 政府采购、招标投标
    ("42.3", Scenario.PUBLIC_RESOURCE_TRADING, _severe_company),
    ("42.4", Scenario.FISCAL_FUNDS, _severe_company),  # 财政性资金
    ("42.4", Scenario.POLICY_SUPPORT, _severe_company),
    ("42.5", Scenario.AWARDS, _severe_company),  # 评先评优
    ("42.5", Scenario.HONORARY_TITLES, _severe_company),  # 授予称号
    ("42.6", Scenario.QUALIFICATION_REVIEW, _severe_person),  # 任职资格
    ("42.7", Scenario.CIVIL_SERVICE_HIRING, _severe_person),  # 录用、聘用
    ("42.7", Scenario.PROMOTION, _severe_person),  # 晋升
    ("42.8", Scenario.ELECTION_QUALIFICATION, _severe_person),  # 党代表、人大代表、政协委员
    ("42.9", Scenario.OTHER, _court_defaulter_person),  # 限制出境
    ("42.11", Scenario.OTHER, _severe_company),  # 法律、法规规定的其他惩戒措施
]


@pytest.mark.parametrize(
    ("item", "scenario", "subject"),
    PUNISHMENT_CASES,
    ids=[f"{i}-{s.value}" for i, s, _ in PUNISHMENT_CASES],
)
def test_each_art_42_item_bites_in_its_scenario(
    item: str, scenario: Scenario, subject: Callable[[], CreditReport]
) -> None:
    decision = check(subject(), scenario)
    assert decision.outcome is Outcome.RESTRICTED
    assert item in range_items(decision.restrictions)
    applied = [m for m in decision.restrictions if m.range_item == item]
    assert {m.kind for m in applied} == {MeasureKind.PUNISHMENT}


def test_all_nine_high_consumption_limits_bind_a_court_defaulter() -> None:
    """Art. 42(10) 1-9: 限制高消费和非生活、工作必需的消费行为."""
    decision = check(_court_defaulter_person(), Scenario.OTHER)
    assert range_items(decision.restrictions) >= HIGH_CONSUMPTION


@pytest.mark.parametrize(
    "scenario",
    [s for s in Scenario if s is not Scenario.OTHER],
    ids=lambda s: s.value,
)
def test_exit_and_consumption_limits_stay_out_of_other_scenarios(scenario: Scenario) -> None:
    decision = check(_court_defaulter_person(), scenario)
    assert not range_items(decision.restrictions) & (HIGH_CONSUMPTION | {"42.9"})


@pytest.mark.parametrize(
    "scenario",
    [Scenario.QUALIFICATION_REVIEW, Scenario.CIVIL_SERVICE_HIRING, Scenario.ELECTION_QUALIFICATION],
    ids=lambda s: s.value,
)
def test_person_only_items_do_not_apply_to_an_organisation(scenario: Scenario) -> None:
    decision = check(_severe_company(), scenario)
    assert not range_items(decision.restrictions) & {"42.6", "42.7", "42.8", "42.9"}
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision) == {"NOT_RELATED"}


# --- engine side of the ranges -----------------------------------------------------------------


@pytest.mark.parametrize("scenario", list(Scenario), ids=lambda s: s.value)
def test_everything_applied_lies_within_art_40_to_42(scenario: Scenario) -> None:
    for rep in (
        _severe_company("food_drug"),
        _court_defaulter_person(),
        report(records=[record(category="bid_rigging")], commitments=[commitment()]),
        report(memberships=[red_list()], records=[commendation()]),
    ):
        decision = check(rep, scenario)
        for m in decision.incentives:
            assert m.kind is MeasureKind.INCENTIVE
            assert m.range_item in RANGE_40
        for m in decision.restrictions:
            allowed = RANGE_41 if m.kind is MeasureKind.RESTRICTION else RANGE_42
            assert m.kind is not MeasureKind.INCENTIVE
            assert m.range_item in allowed, m.measure_id
