"""Art. 28: the credit-commitment route (信用承诺制).

严重失信主体和作出过虚假承诺、未履行承诺的信用主体，在信用修复完成前不得适用信用承诺制。

``decision.commitment`` says whether an applicant at a licensing or certification window may
use the commitment route, with the reason and the items it rests on. It is about the subject's
*own* standing: a person is not shut out because a company they represent is listed (Art. 45
extends punishments, not the Art. 28 bar).
"""

from __future__ import annotations

import pytest

from credit_sdk import Decision, Outcome, Scenario
from tests.legal.builders import (
    check,
    commitment,
    court_defaulter,
    linked_party,
    objection,
    range_items,
    reasons,
    record,
    report,
    severe_listing,
    severe_record,
)

LICENSING = Scenario.ADMIN_LICENSING


def _items(decision: Decision) -> set[str]:
    return {t.item_id for t in decision.commitment.triggered_by}


def test_severe_list_subject_may_not_use_the_commitment_route() -> None:
    decision = check(report(memberships=[severe_listing()]), LICENSING)
    assert decision.commitment_eligible is False
    assert decision.commitment.reason.value == "SEVERE_DISHONESTY"
    assert _items(decision) == {"L-SEVERE"}
    # ... and the licensing window sees the published restriction that says so (Art. 41(1)).
    assert "41.1" in range_items(decision.restrictions)


def test_severe_dishonesty_record_alone_also_bars_the_route() -> None:
    decision = check(report(records=[severe_record()]), Scenario.CERTIFICATION)
    assert decision.commitment.reason.value == "SEVERE_DISHONESTY"
    assert _items(decision) == {"R-SEVERE"}


def test_court_defaulter_is_severe_for_the_commitment_route() -> None:
    """Art. 38 ¶2: 失信被执行人 are severe dishonest subjects."""
    decision = check(report(person=True, memberships=[court_defaulter()]), LICENSING)
    assert decision.commitment_eligible is False
    assert decision.commitment.reason.value == "SEVERE_DISHONESTY"
    assert _items(decision) == {"L-COURT"}


@pytest.mark.parametrize("status", ["false", "unfulfilled"])
def test_false_or_unfulfilled_commitment_bars_the_route_until_repaired(status: str) -> None:
    decision = check(report(commitments=[commitment(status=status)]), LICENSING)
    assert decision.commitment_eligible is False
    assert decision.commitment.reason.value == "FALSE_COMMITMENT"
    assert _items(decision) == {"CMT-1"}
    assert decision.outcome is Outcome.RESTRICTED
    assert "41.1" in range_items(decision.restrictions)


def test_repaired_commitment_reopens_the_route() -> None:
    rep = report(commitments=[commitment(repaired_on="2026-10-15")])
    decision = check(rep, LICENSING)
    assert decision.commitment_eligible is True
    assert decision.commitment.reason.value == "COMMITMENT_ALLOWED"
    assert reasons(decision, "CMT-1") == {"RECORD_REPAIRED"}
    assert decision.outcome is Outcome.CLEAR


def test_repair_after_the_query_date_does_not_count_yet() -> None:
    rep = report(commitments=[commitment(repaired_on="2026-12-15")])
    decision = check(rep, LICENSING)
    assert decision.commitment.reason.value == "FALSE_COMMITMENT"


def test_commitment_found_false_only_after_the_query_date_does_not_count() -> None:
    rep = report(commitments=[commitment(found_on="2026-12-10")])
    decision = check(rep, LICENSING)
    assert decision.commitment_eligible is True
    assert reasons(decision, "CMT-1") == {"RECORD_NOT_YET_EFFECTIVE"}


@pytest.mark.parametrize("status", ["fulfilled", "pending_verification"])
def test_kept_or_unverified_commitment_does_not_bar(status: str) -> None:
    decision = check(report(commitments=[commitment(status=status, found_on=None)]), LICENSING)
    assert decision.commitment_eligible is True
    assert decision.outcome is Outcome.CLEAR


def test_disputed_severe_listing_only_bars_with_record_disputed() -> None:
    rep = report(memberships=[severe_listing(objection=objection())])
    decision = check(rep, LICENSING)
    assert decision.commitment_eligible is False
    assert decision.commitment.reason.value == "RECORD_DISPUTED"
    assert _items(decision) == {"L-SEVERE"}


def test_undisputed_severe_outweighs_a_disputed_one() -> None:
    rep = report(
        records=[severe_record(objection=objection())],
        memberships=[severe_listing()],
    )
    decision = check(rep, LICENSING)
    assert decision.commitment.reason.value == "SEVERE_DISHONESTY"
    assert _items(decision) == {"L-SEVERE"}


def test_severe_reason_takes_precedence_over_a_false_commitment() -> None:
    rep = report(memberships=[severe_listing()], commitments=[commitment()])
    decision = check(rep, LICENSING)
    assert decision.commitment.reason.value == "SEVERE_DISHONESTY"


def test_general_dishonesty_only_leaves_the_route_open() -> None:
    """Art. 28 names severe dishonesty and broken commitments only."""
    decision = check(report(records=[record()]), LICENSING)
    assert decision.outcome is Outcome.RESTRICTED  # other restrictions may still apply ...
    assert decision.commitment_eligible is True  # ... but not the Art. 28 bar
    assert decision.commitment.reason.value == "COMMITMENT_ALLOWED"


def test_repaired_severe_listing_reopens_the_route() -> None:
    rep = report(
        memberships=[
            severe_listing(status="removed", removed_on="2026-09-01", removal_reason="repaired")
        ]
    )
    decision = check(rep, LICENSING)
    assert decision.commitment_eligible is True


def test_linked_person_of_a_severe_company_keeps_the_route() -> None:
    rep = report(person=True, linked_parties=[linked_party([severe_listing()])])
    at_window = check(rep, LICENSING)
    assert at_window.commitment_eligible is True
    assert at_window.commitment.reason.value == "COMMITMENT_ALLOWED"
    # The same person is punished where Art. 45 reaches (qualification review) ...
    review = check(rep, Scenario.QUALIFICATION_REVIEW)
    assert "42.6" in range_items(review.restrictions)
    # ... and still keeps the commitment route there.
    assert review.commitment_eligible is True


def test_eligibility_does_not_depend_on_the_scenario() -> None:
    rep = report(commitments=[commitment()])
    for scenario in Scenario:
        assert check(rep, scenario).commitment.reason.value == "FALSE_COMMITMENT", scenario
