"""Every shipped sample report (``credit_sdk/data/reports/``) decided at the window it is made for.

The samples are what ``make demo``, the sandbox and users' first five minutes run on, so each one
must show its state the way the regulation says: a severe-list supplier is barred from
procurement, a repaired or revoked record is clear, an objection puts the case to a person, and
so on. A new sample without an expectation here fails ``test_every_sample_has_an_expectation``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import credit_sdk
from credit_sdk import Outcome, Scenario
from tests.legal.builders import (
    advisory_codes,
    check,
    range_items,
    reasons,
    sample,
)

REPORTS = Path(credit_sdk.__file__).parent / "data" / "reports"


@dataclass(frozen=True)
class Expect:
    scenario: Scenario
    outcome: Outcome
    restrictions: frozenset[str] = frozenset()  # range items that must be restricted
    incentives: frozenset[str] = frozenset()
    held: frozenset[str] = frozenset()
    left_out: frozenset[str] = frozenset()  # reason codes that must be among the exclusions
    advisories: frozenset[str] = frozenset()
    commitment: str = "COMMITMENT_ALLOWED"
    tier: str | None = None


def _s(*items: str) -> frozenset[str]:
    return frozenset(items)


EXPECTED: dict[str, Expect] = {
    "clean": Expect(
        Scenario.ADMIN_LICENSING, Outcome.CLEAR, left_out=_s("INFORMATION_ONLY"), tier="normal"
    ),
    "severe_list": Expect(
        Scenario.GOVERNMENT_PROCUREMENT,
        Outcome.RESTRICTED,
        restrictions=_s("42.3"),
        commitment="SEVERE_DISHONESTY",
        tier="high",
    ),
    "judgment_defaulter": Expect(
        Scenario.OTHER,
        Outcome.RESTRICTED,
        restrictions=_s("42.9", "42.10.1", "42.10.3", "42.10.9"),
        commitment="SEVERE_DISHONESTY",
        tier="high",
    ),
    "general_dishonesty": Expect(
        Scenario.ADMIN_LICENSING,
        Outcome.RESTRICTED,
        restrictions=_s("41.1", "42.2"),
        tier="high",
    ),
    "expired": Expect(Scenario.ADMIN_LICENSING, Outcome.CLEAR, left_out=_s("RECORD_EXPIRED")),
    "repaired": Expect(
        Scenario.GOVERNMENT_PROCUREMENT, Outcome.CLEAR, left_out=_s("RECORD_REPAIRED")
    ),
    "revoked": Expect(Scenario.ADMIN_LICENSING, Outcome.CLEAR, left_out=_s("RECORD_REVOKED")),
    "disputed": Expect(
        Scenario.ADMIN_LICENSING,
        Outcome.REVIEW,
        held=_s("41.1"),
        advisories=_s("RECORD_DISPUTED"),
        commitment="RECORD_DISPUTED",
    ),
    "red_list": Expect(
        Scenario.ADMIN_LICENSING, Outcome.INCENTIVES, incentives=_s("40.1"), tier="low"
    ),
    "linked_person": Expect(
        Scenario.QUALIFICATION_REVIEW, Outcome.RESTRICTED, restrictions=_s("42.6")
    ),
    "false_commitment": Expect(
        Scenario.ADMIN_LICENSING,
        Outcome.RESTRICTED,
        restrictions=_s("41.1"),
        commitment="FALSE_COMMITMENT",
    ),
    "minor_penalty": Expect(
        Scenario.ADMIN_LICENSING, Outcome.CLEAR, left_out=_s("EXCLUDED_MINOR_PENALTY")
    ),
    "minor_corrected": Expect(
        Scenario.ADMIN_LICENSING,
        Outcome.CLEAR,
        left_out=_s("REMINDER_ONLY"),
        advisories=_s("REMINDER_ONLY"),
    ),
    "prohibited_fields": Expect(
        Scenario.AWARDS,
        Outcome.INCENTIVES,
        incentives=_s("40.4"),
        advisories=_s("PROHIBITED_FIELDS_DROPPED"),
    ),
}

# Samples in which nothing may apply, whatever the window.
NOTHING_APPLIES = ("clean", "expired", "repaired", "revoked", "minor_penalty", "minor_corrected")


def test_every_sample_has_an_expectation() -> None:
    shipped = {p.stem for p in REPORTS.glob("*.json")}
    assert shipped == set(EXPECTED)


@pytest.mark.parametrize("state", sorted(EXPECTED))
def test_sample_decided_at_its_window(state: str) -> None:
    want = EXPECTED[state]
    decision = check(sample(state), want.scenario)
    assert decision.outcome is want.outcome
    assert range_items(decision.restrictions) >= want.restrictions
    assert range_items(decision.incentives) >= want.incentives
    assert range_items(decision.held_for_review) >= want.held
    assert reasons(decision) >= want.left_out
    assert advisory_codes(decision) >= want.advisories
    assert decision.commitment.reason.value == want.commitment
    if want.tier is not None:
        assert decision.supervision_tier == want.tier
    if want.outcome is not Outcome.RESTRICTED:
        assert decision.restrictions == ()
    if want.outcome is not Outcome.INCENTIVES:
        assert decision.incentives == ()
    if want.outcome is not Outcome.REVIEW:
        assert decision.held_for_review == ()
    assert (decision.provenance.report_id or "").startswith("RPT-SAMPLE-")


@pytest.mark.parametrize("state", NOTHING_APPLIES)
def test_samples_where_nothing_applies_are_clear_at_every_window(state: str) -> None:
    rep = sample(state)
    for scenario in Scenario:
        decision = check(rep, scenario)
        assert decision.outcome is Outcome.CLEAR, scenario
        assert decision.measures == ()
        assert decision.held_for_review == ()


def test_disputed_sample_is_for_review_at_procurement_too() -> None:
    decision = check(sample("disputed"), Scenario.GOVERNMENT_PROCUREMENT)
    assert decision.outcome is Outcome.REVIEW
    assert "42.3" in range_items(decision.held_for_review)


def test_severe_list_sample_at_an_awards_committee() -> None:
    decision = check(sample("severe_list"), Scenario.AWARDS)
    assert decision.outcome is Outcome.RESTRICTED
    assert "42.3" not in range_items(decision.restrictions)
    assert "42.5" in range_items(decision.restrictions)


def test_red_list_sample_bonus_in_procurement() -> None:
    decision = check(sample("red_list"), Scenario.GOVERNMENT_PROCUREMENT)
    assert decision.outcome is Outcome.INCENTIVES
    assert any(
        m.range_item == "40.2" and (m.score_adjustment or 0) > 0 for m in decision.incentives
    )
