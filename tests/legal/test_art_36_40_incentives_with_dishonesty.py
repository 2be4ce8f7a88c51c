"""Art. 36, 40: trustworthiness incentives for a subject who also has active dishonesty.

The rule stated in ``docs/decisions.md``: incentives presuppose a trustworthy subject, so under
the default policy (``incentives_with_dishonesty: suppress``) any active, undisputed dishonesty
item - general or severe, a false commitment, or an Art. 45 link to a severe-list company -
suppresses every incentive, each with ``INCENTIVE_SUPPRESSED_BY_DISHONESTY``; if the only
dishonesty is under objection, incentives are held for review; a profile may choose
``suppress_if_severe``.
"""

from __future__ import annotations

from typing import Any

import pytest

from credit_sdk import IncentivePolicy, Outcome, PolicyProfile, Scenario
from tests.legal.builders import (
    check,
    commendation,
    commitment,
    court_defaulter,
    exclusions_for,
    linked_party,
    objection,
    range_items,
    reasons,
    record,
    red_list,
    report,
    severe_listing,
)

PROCUREMENT = Scenario.GOVERNMENT_PROCUREMENT  # red list: Art. 40(2) bonus points

# Tax arrears are not related to procurement (Art. 43), so nothing restricts here: what the
# dishonesty does to incentives is seen on its own.
TAX_ARREARS = record("R-TAX", category="tax_arrears", domain="tax")


def _red_listed(**extra: Any) -> Any:
    return report(memberships=[red_list()], **extra)


def test_red_list_alone_earns_the_procurement_bonus() -> None:
    decision = check(_red_listed(), PROCUREMENT)
    assert decision.outcome is Outcome.INCENTIVES
    assert "40.2" in range_items(decision.incentives)


@pytest.mark.parametrize(
    ("case", "extra"),
    [
        ("general dishonesty unrelated to the scenario", {"records": [TAX_ARREARS]}),
        ("false commitment", {"commitments": [commitment()]}),
    ],
)
def test_active_dishonesty_suppresses_incentives(case: str, extra: dict[str, Any]) -> None:
    decision = check(_red_listed(**extra), PROCUREMENT)
    assert decision.incentives == (), case
    assert decision.held_for_review == ()
    suppressed = exclusions_for(decision, "INCENTIVE_SUPPRESSED_BY_DISHONESTY")
    assert suppressed
    assert all(e.measure_id for e in suppressed)
    assert decision.outcome in {Outcome.CLEAR, Outcome.RESTRICTED}


def test_tax_arrears_leave_a_red_listed_supplier_clear_not_rewarded() -> None:
    decision = check(_red_listed(records=[TAX_ARREARS]), PROCUREMENT)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision) == {"NOT_RELATED", "INCENTIVE_SUPPRESSED_BY_DISHONESTY"}


def test_severe_listing_suppresses_incentives_and_restricts() -> None:
    rep = report(memberships=[red_list(), severe_listing()], records=[commendation()])
    decision = check(rep, PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    assert decision.incentives == ()
    assert "INCENTIVE_SUPPRESSED_BY_DISHONESTY" in reasons(decision)


def test_link_to_a_severe_list_company_suppresses_a_persons_incentives() -> None:
    rep = report(
        person=True,
        records=[commendation()],
        linked_parties=[linked_party([severe_listing()])],
    )
    decision = check(rep, Scenario.AWARDS)
    assert decision.incentives == ()
    assert "INCENTIVE_SUPPRESSED_BY_DISHONESTY" in reasons(decision)


@pytest.mark.parametrize(
    ("case", "rec"),
    [
        ("expired", record("R-OLD", category="tax_arrears", finding_date="2024-03-01")),
        ("repaired", record("R-FIXED", status="repaired", status_changed_on="2026-09-01")),
        ("revoked", record("R-VOID", status="revoked", status_changed_on="2026-09-01")),
        ("minor and corrected", record("R-MINOR", minor_and_corrected=True)),
    ],
)
def test_dishonesty_no_longer_active_does_not_suppress(case: str, rec: dict[str, Any]) -> None:
    decision = check(_red_listed(records=[rec]), PROCUREMENT)
    assert decision.outcome is Outcome.INCENTIVES, case
    assert "40.2" in range_items(decision.incentives)
    assert "INCENTIVE_SUPPRESSED_BY_DISHONESTY" not in reasons(decision)


def test_disputed_only_dishonesty_holds_incentives_for_review() -> None:
    disputed = record("R-TAX", category="tax_arrears", objection=objection())
    decision = check(_red_listed(records=[disputed]), PROCUREMENT)
    assert decision.outcome is Outcome.REVIEW
    assert decision.incentives == ()
    assert "40.2" in range_items(decision.held_for_review)
    assert "INCENTIVE_SUPPRESSED_BY_DISHONESTY" not in reasons(decision)


def test_disputed_and_undisputed_dishonesty_suppresses() -> None:
    disputed = record("R-A", category="tax_arrears", objection=objection())
    decision = check(_red_listed(records=[disputed, TAX_ARREARS]), PROCUREMENT)
    assert decision.held_for_review == ()
    assert decision.incentives == ()
    assert "INCENTIVE_SUPPRESSED_BY_DISHONESTY" in reasons(decision)


# --- a profile that suppresses only on severe dishonesty ---------------------------------------

SUPPRESS_IF_SEVERE = PolicyProfile.default().model_copy(
    update={
        "profile_id": "local-suppress-if-severe",
        "status": "custom",
        "incentives_with_dishonesty": IncentivePolicy.SUPPRESS_IF_SEVERE,
    }
)


def test_suppress_if_severe_keeps_incentives_beside_general_dishonesty() -> None:
    decision = check(_red_listed(records=[TAX_ARREARS]), PROCUREMENT, profile=SUPPRESS_IF_SEVERE)
    assert decision.outcome is Outcome.INCENTIVES
    assert "40.2" in range_items(decision.incentives)
    assert decision.provenance.policy_profile == "local-suppress-if-severe"


def test_suppress_if_severe_still_suppresses_on_a_severe_listing() -> None:
    rep = report(memberships=[red_list(), severe_listing()])
    decision = check(rep, PROCUREMENT, profile=SUPPRESS_IF_SEVERE)
    assert decision.outcome is Outcome.RESTRICTED
    assert decision.incentives == ()
    assert "INCENTIVE_SUPPRESSED_BY_DISHONESTY" in reasons(decision)


def test_suppress_if_severe_treats_court_defaulters_as_severe() -> None:
    rep = report(memberships=[red_list(), court_defaulter()])
    decision = check(rep, PROCUREMENT, profile=SUPPRESS_IF_SEVERE)
    assert decision.incentives == ()
    assert "INCENTIVE_SUPPRESSED_BY_DISHONESTY" in reasons(decision)
