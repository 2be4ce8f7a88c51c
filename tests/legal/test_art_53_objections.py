"""Art. 53: objections (异议). The record is labelled within one working day and a decision on
correction follows within three (seven with assistance).

While an objection is pending, the measures that depend **only** on the disputed item are by
default held for a person to review (outcome ``REVIEW``, advisory ``RECORD_DISPUTED``); a profile
may instead suspend them (``on_dispute=suspend``: left out with ``RECORD_DISPUTED``) or apply them
(``apply``: applied, with the advisory). An upheld objection corrects the information
(``RECORD_CORRECTED``); a rejected one removes the label and the measures apply.
"""

from __future__ import annotations

from typing import Any

import pytest

from credit_sdk import CreditReport, DisputePolicy, Outcome, Scenario
from tests.legal.builders import (
    advisory_codes,
    check,
    day,
    exclusions_for,
    measure_ids,
    objection,
    profile,
    range_items,
    reasons,
    record,
    red_list,
    report,
    severe_listing,
    triggered_items,
)

PROCUREMENT = Scenario.GOVERNMENT_PROCUREMENT
LICENSING = Scenario.ADMIN_LICENSING


def _disputed_listing(**obj: Any) -> CreditReport:
    """A supplier on the severe list that objected on 20 November 2026."""
    return report(memberships=[severe_listing(objection=objection(**obj))])


def test_pending_objection_holds_the_dependent_measures_for_review() -> None:
    decision = check(_disputed_listing(), PROCUREMENT)
    assert decision.outcome is Outcome.REVIEW
    assert decision.restrictions == ()
    assert "42.3" in range_items(decision.held_for_review)
    assert all(t.disputed for m in decision.held_for_review for t in m.triggered_by)
    assert advisory_codes(decision, "L-SEVERE") == {"RECORD_DISPUTED"}
    assert decision.commitment.reason.value == "RECORD_DISPUTED"
    assert "待复核" in decision.explain()
    assert "异议处理中 under objection" in decision.explain()


def test_suspend_policy_leaves_the_measures_out() -> None:
    decision = check(_disputed_listing(), PROCUREMENT, profile=profile(on_dispute="suspend"))
    assert decision.outcome is Outcome.CLEAR
    assert decision.held_for_review == ()
    assert decision.restrictions == ()
    suspended = exclusions_for(decision, "RECORD_DISPUTED")
    assert suspended
    assert {e.item_id for e in suspended} == {"L-SEVERE"}
    assert all(e.measure_id for e in suspended)
    assert advisory_codes(decision, "L-SEVERE") == {"RECORD_DISPUTED"}


def test_apply_policy_applies_them_with_the_advisory() -> None:
    decision = check(
        _disputed_listing(), PROCUREMENT, profile=profile(on_dispute=DisputePolicy.APPLY)
    )
    assert decision.outcome is Outcome.RESTRICTED
    assert "42.3" in range_items(decision.restrictions)
    assert decision.held_for_review == ()
    assert advisory_codes(decision, "L-SEVERE") == {"RECORD_DISPUTED"}


def test_upheld_objection_corrects_the_information() -> None:
    decision = check(_disputed_listing(status="upheld", decided_on="2026-11-25"), PROCUREMENT)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "L-SEVERE") == {"RECORD_CORRECTED"}
    assert decision.advisories == ()
    assert decision.commitment_eligible


def test_objection_upheld_only_after_the_query_date_is_still_pending_then() -> None:
    rep = _disputed_listing(status="upheld", decided_on="2026-12-03")
    assert check(rep, PROCUREMENT).outcome is Outcome.REVIEW
    later = check(rep, PROCUREMENT, as_of=day("2026-12-03"))
    assert reasons(later, "L-SEVERE") == {"RECORD_CORRECTED"}


def test_rejected_objection_lets_the_measures_apply() -> None:
    decision = check(_disputed_listing(status="rejected", decided_on="2026-11-25"), PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    assert "42.3" in range_items(decision.restrictions)
    assert "RECORD_DISPUTED" not in advisory_codes(decision)
    assert decision.commitment.reason.value == "SEVERE_DISHONESTY"


def test_objection_filed_after_the_query_date_does_not_count_yet() -> None:
    decision = check(_disputed_listing(filed_on="2026-12-01"), PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    assert decision.advisories == ()


def test_disputed_record_beside_an_undisputed_severe_listing() -> None:
    """The listing restricts; only the measures that rest solely on the disputed record wait."""
    rep = report(
        records=[record("R-FALSE", category="false_materials", objection=objection())],
        memberships=[severe_listing()],
    )
    decision = check(rep, LICENSING)
    assert decision.outcome is Outcome.RESTRICTED
    assert triggered_items(decision.restrictions) == {"L-SEVERE"}
    assert decision.held_for_review
    assert triggered_items(decision.held_for_review) == {"R-FALSE"}
    assert not measure_ids(decision.restrictions) & measure_ids(decision.held_for_review)
    assert advisory_codes(decision) == {"RECORD_DISPUTED"}
    assert decision.commitment.reason.value == "SEVERE_DISHONESTY"


def test_measure_resting_on_a_disputed_and_an_undisputed_item_applies() -> None:
    rep = report(
        records=[
            record("R-SEV", kind="severe_dishonesty", category="bid_rigging", objection=objection())
        ],
        memberships=[severe_listing()],
    )
    decision = check(rep, PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    (ban,) = [m for m in decision.restrictions if m.range_item == "42.3"]
    assert {t.item_id for t in ban.triggered_by} == {"R-SEV", "L-SEVERE"}
    assert decision.held_for_review == ()


@pytest.mark.parametrize("reason", ["objection_upheld", "statement_accepted"])
def test_listing_removed_after_correction(reason: str) -> None:
    listing = severe_listing(status="removed", removed_on="2026-11-25", removal_reason=reason)
    decision = check(report(memberships=[listing]), PROCUREMENT)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "L-SEVERE") == {"RECORD_CORRECTED"}


def test_record_objection_upheld_corrects_the_record() -> None:
    rec = record("R1", objection=objection(status="upheld", decided_on="2026-11-24"))
    decision = check(report(records=[rec]), LICENSING)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "R1") == {"RECORD_CORRECTED"}


def test_apply_policy_does_not_grant_incentives_beside_the_disputed_restrictions() -> None:
    rep = report(
        records=[record("R-FALSE", category="false_materials", objection=objection())],
        memberships=[red_list()],
    )
    decision = check(rep, LICENSING, profile=profile(on_dispute=DisputePolicy.APPLY))
    assert decision.outcome is Outcome.RESTRICTED
    assert decision.incentives == ()
