"""Art. 47: integrity points (诚信积分) give trustworthy persons benefits, and nothing else.

县级以上人民政府应当建立健全自然人诚信积分管理机制……给予守信自然人相应的优惠和便利。禁止以诚信积分为
依据限制自然人享有法定权利和基本公共服务。 Points can only feed incentives: reaching a published
threshold earns the benefit; falling short earns nothing (``POINTS_BELOW_THRESHOLD``), never a
restriction, whatever the score and wherever asked.
"""

from __future__ import annotations

import pytest

from credit_sdk import Outcome, Scenario, shown
from tests.legal.builders import (
    check,
    exclusions_for,
    points,
    range_items,
    reasons,
    record,
    report,
)

PUBLIC_SERVICE = Scenario.PUBLIC_SERVICE  # the shipped sample publishes a points benefit here


def test_points_above_the_threshold_earn_the_published_benefit() -> None:
    decision = check(report(person=True, integrity_points=points(820)), PUBLIC_SERVICE)
    assert decision.outcome is Outcome.INCENTIVES
    assert range_items(decision.incentives) == {"40.1"}
    (benefit,) = decision.incentives
    assert [t.source for t in benefit.triggered_by] == ["integrity_points"]


def test_threshold_is_inclusive() -> None:
    decision = check(report(person=True, integrity_points=points(800)), PUBLIC_SERVICE)
    assert decision.outcome is Outcome.INCENTIVES


def test_points_below_the_threshold_earn_nothing_and_cost_nothing() -> None:
    decision = check(report(person=True, integrity_points=points(640)), PUBLIC_SERVICE)
    assert decision.outcome is Outcome.CLEAR
    assert decision.incentives == ()
    assert decision.restrictions == ()
    (short,) = exclusions_for(decision, "POINTS_BELOW_THRESHOLD")
    assert short.measure_id is not None
    assert "800" in short.detail
    assert shown(short.detail, "zh") == "需诚信积分 800 分"


@pytest.mark.parametrize("score", [0, 120, 640, 799, 800, 1000])
def test_no_score_ever_restricts_anywhere(score: int) -> None:
    rep = report(person=True, integrity_points=points(score))
    for scenario in Scenario:
        decision = check(rep, scenario)
        assert decision.restrictions == (), (score, scenario)
        assert decision.held_for_review == (), (score, scenario)
        assert decision.outcome in {Outcome.CLEAR, Outcome.INCENTIVES}, (score, scenario)
        assert decision.commitment_eligible
        assert decision.supervision_tier == "normal"


def test_a_high_score_does_not_outweigh_dishonesty() -> None:
    """Points feed incentives only: they neither cancel a restriction nor survive dishonesty."""
    rep = report(person=True, integrity_points=points(950), records=[record()])
    decision = check(rep, PUBLIC_SERVICE)
    assert decision.incentives == ()
    assert "INCENTIVE_SUPPRESSED_BY_DISHONESTY" in reasons(decision)


def test_points_assessed_after_the_query_date_are_not_used() -> None:
    rep = report(person=True, integrity_points=points(900, assessed_on="2027-03-01"))
    decision = check(rep, PUBLIC_SERVICE)
    assert decision.outcome is Outcome.CLEAR
    assert decision.incentives == ()
