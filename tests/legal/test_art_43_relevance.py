"""Art. 43: legality, relevance (关联), proportionality (比例); minor corrected acts: a reminder.

A measure applies only where the published list relates it to the conduct (category, sector)
and to the scenario asked; anything else is left out with ``NOT_RELATED`` and a detail. General
dishonesty does not draw the severe-only bans. 对轻微偶发失信行为及时改正或者采取补救措施，没有造成
社会危害后果，免于失信约束或者惩戒，可以采取适当方式给予提醒: ``REMINDER_ONLY`` plus an advisory.
"""

from __future__ import annotations

import pytest

from credit_sdk import CreditReport, Outcome, Scenario, shown
from tests.legal.builders import (
    advisory_codes,
    check,
    exclusions_for,
    range_items,
    reasons,
    record,
    report,
    triggered_items,
)


def _tax_arrears() -> CreditReport:
    """拒不缴纳税款 (Art. 19(7)): general dishonesty, found by a tax penalty decision."""
    return report(records=[record("R-TAX", category="tax_arrears", domain="tax")])


def test_tax_arrears_weigh_at_an_awards_committee() -> None:
    decision = check(_tax_arrears(), Scenario.AWARDS)
    assert decision.outcome is Outcome.RESTRICTED
    assert range_items(decision.restrictions) == {"42.5"}
    assert triggered_items(decision.restrictions) == {"R-TAX"}


def test_tax_arrears_are_not_related_to_government_procurement() -> None:
    decision = check(_tax_arrears(), Scenario.GOVERNMENT_PROCUREMENT)
    assert decision.outcome is Outcome.CLEAR
    assert decision.restrictions == ()
    (left_out,) = exclusions_for(decision, "NOT_RELATED")
    assert left_out.item_id == "R-TAX"
    assert "tax_arrears" in left_out.detail
    assert "government_procurement" in left_out.detail
    assert "Art. 43" in left_out.detail
    assert shown(left_out.detail, "zh") == (
        "无已公布措施将失信（dishonesty, tax_arrears）与本场景（government_procurement）关联"
        "（Art. 43）"
    )


def test_bid_rigging_is_related_to_government_procurement() -> None:
    rep = report(records=[record("R-BID", category="bid_rigging", domain="procurement")])
    decision = check(rep, Scenario.GOVERNMENT_PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    assert triggered_items(decision.restrictions) == {"R-BID"}
    assert "NOT_RELATED" not in reasons(decision)


def test_sector_decides_relevance_of_market_entry_limits() -> None:
    """False materials in a food licence application bar a re-application in that sector (Art.
    42(2)); the same conduct in another sector does not."""
    food = report(records=[record("R1", category="false_materials", domain="food_drug")])
    shop = report(records=[record("R1", category="false_materials", domain="market")])
    assert "42.2" in range_items(check(food, Scenario.ADMIN_LICENSING).restrictions)
    in_market = check(shop, Scenario.ADMIN_LICENSING)
    assert in_market.outcome is Outcome.RESTRICTED  # other restrictions still relate ...
    assert "42.2" not in range_items(in_market.restrictions)  # ... but not the sector one


def test_general_dishonesty_does_not_draw_the_severe_procurement_ban() -> None:
    """Proportionality: a bid-rigging record costs points (减分); the ban is for the severe list."""
    rep = report(records=[record("R-BID", category="bid_rigging")])
    decision = check(rep, Scenario.GOVERNMENT_PROCUREMENT)
    bids = [m for m in decision.restrictions if m.range_item == "42.3"]
    assert bids
    assert all(m.score_adjustment is not None for m in bids)


def _minor_corrected() -> CreditReport:
    return report(
        records=[
            record(
                "R-MINOR",
                category="fire_safety",
                domain="fire_safety",
                minor_and_corrected=True,
            )
        ]
    )


@pytest.mark.parametrize("scenario", list(Scenario), ids=lambda s: s.value)
def test_minor_and_corrected_act_gets_a_reminder_not_a_measure(scenario: Scenario) -> None:
    decision = check(_minor_corrected(), scenario)
    assert decision.outcome is Outcome.CLEAR
    assert decision.restrictions == ()
    assert decision.held_for_review == ()
    assert reasons(decision, "R-MINOR") == {"REMINDER_ONLY"}
    assert advisory_codes(decision, "R-MINOR") == {"REMINDER_ONLY"}


def test_minor_and_corrected_act_does_not_raise_the_supervision_tier() -> None:
    decision = check(_minor_corrected(), Scenario.ADMIN_PENALTY)
    assert decision.supervision_tier == "normal"
    assert decision.commitment_eligible
