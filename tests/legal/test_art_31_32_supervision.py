"""Art. 31, 32: credit evaluations and tiered supervision (分级分类监管).

Industry regulators combine the comprehensive evaluation (公共信用综合评价, Art. 31 ¶1) and their
own industry evaluation (行业信用评价, Art. 31 ¶2, made "on the basis of" the comprehensive one)
to set the spot-check tier of Art. 32: (1) good credit, low risk: fewer checks; (2) general risk:
the normal rate; (3) 违法失信、风险较高: more checks. The SDK takes the latest valid industry
evaluation first, then the comprehensive one; an expired evaluation is ignored; active
dishonesty of the subject itself means tier (3) whatever the grade. The factor applied to the
normal spot-check rate comes from the policy profile.
"""

from __future__ import annotations

from typing import Any

import pytest

from credit_sdk import RiskLevel, Scenario
from tests.legal.builders import (
    check,
    court_defaulter,
    evaluation,
    linked_party,
    objection,
    profile,
    record,
    report,
    severe_listing,
)

SCENARIO = Scenario.ADMIN_PENALTY  # supervision is about the subject, not the window


def test_industry_evaluation_comes_first() -> None:
    rep = report(
        evaluations=[
            evaluation("E-COMP", "comprehensive", "high", grade="D"),
            evaluation("E-IND", "industry", "low", grade="A"),
        ]
    )
    sup = check(rep, SCENARIO).supervision
    assert sup.tier == "low"
    assert sup.spot_check_factor == 0.5
    assert "行业信用评价" in sup.basis
    assert "A" in sup.basis


def test_comprehensive_evaluation_when_no_valid_industry_one() -> None:
    rep = report(
        evaluations=[
            evaluation(
                "E-IND", "industry", "low", evaluated_on="2025-01-10", valid_until="2026-01-09"
            ),
            evaluation("E-COMP", "comprehensive", "high", grade="D"),
        ]
    )
    sup = check(rep, SCENARIO).supervision
    assert sup.tier == "high"
    assert sup.spot_check_factor == 2.0
    assert "公共信用综合评价" in sup.basis


def test_latest_valid_industry_evaluation_wins() -> None:
    rep = report(
        evaluations=[
            evaluation("E-OLD", "industry", "high", evaluated_on="2026-02-01"),
            evaluation("E-NEW", "industry", "low", evaluated_on="2026-09-01"),
        ]
    )
    assert check(rep, SCENARIO).supervision_tier == "low"


def test_expired_evaluation_is_ignored() -> None:
    rep = report(
        evaluations=[
            evaluation("E-COMP", "comprehensive", "low", "2025-01-10", valid_until="2026-01-09")
        ]
    )
    sup = check(rep, SCENARIO).supervision
    assert sup.tier == "normal"
    assert sup.spot_check_factor == 1.0
    assert "Art. 32(2)" in sup.basis


def test_evaluation_made_after_the_query_date_is_ignored() -> None:
    rep = report(evaluations=[evaluation("E-COMP", "comprehensive", "low", "2026-12-20")])
    assert check(rep, SCENARIO).supervision_tier == "normal"


def test_no_evaluation_means_the_normal_rate() -> None:
    sup = check(report(), SCENARIO).supervision
    assert sup.tier == "normal"
    assert sup.spot_check_factor == 1.0


@pytest.mark.parametrize(
    ("case", "items"),
    [
        ("general dishonesty", {"records": [record()]}),
        ("severe listing", {"memberships": [severe_listing()]}),
        ("court defaulter", {"memberships": [court_defaulter()]}),
    ],
)
def test_active_dishonesty_means_high_risk_whatever_the_grade(
    case: str, items: dict[str, Any]
) -> None:
    rep = report(evaluations=[evaluation("E-IND", "industry", "low", grade="A")], **items)
    sup = check(rep, SCENARIO).supervision
    assert sup.tier == "high", case
    assert sup.spot_check_factor == 2.0
    assert "Art. 32(3)" in sup.basis


def test_expired_dishonesty_no_longer_raises_the_tier() -> None:
    old = record(finding_date="2024-01-10")  # 12 months at most: over by 2026-11-29
    rep = report(records=[old], evaluations=[evaluation("E-IND", "industry", "low")])
    assert check(rep, SCENARIO).supervision_tier == "low"


def test_disputed_dishonesty_alone_does_not_raise_the_tier() -> None:
    rep = report(
        records=[record(objection=objection())],
        evaluations=[evaluation("E-IND", "industry", "low")],
    )
    assert check(rep, SCENARIO).supervision_tier == "low"


def test_a_linked_companys_listing_does_not_raise_the_persons_tier() -> None:
    rep = report(person=True, linked_parties=[linked_party([severe_listing()])])
    assert check(rep, SCENARIO).supervision_tier == "normal"


def test_factors_come_from_the_profile() -> None:
    factors = {RiskLevel.LOW: 0.25, RiskLevel.NORMAL: 1.0, RiskLevel.HIGH: 3.0}
    custom = profile(spot_check_factors=factors)
    low = report(evaluations=[evaluation("E-IND", "industry", "low")])
    high = report(records=[record()])
    assert check(low, SCENARIO, profile=custom).supervision.spot_check_factor == 0.25
    assert check(high, SCENARIO, profile=custom).supervision.spot_check_factor == 3.0


def test_tier_is_the_same_at_every_scenario() -> None:
    rep = report(evaluations=[evaluation("E-IND", "industry", "low")])
    assert {check(rep, s).supervision_tier for s in Scenario} == {"low"}
