"""Art. 43 ¶2: only minor, occasional conduct corrected promptly is exempt; a severe finding is not.

对轻微偶发失信行为及时改正或者采取补救措施，没有造成社会危害后果，免于失信约束或者惩戒，可以采取适当
方式给予提醒。

Severe dishonesty (Art. 37) and a severe listing are by definition not "minor". A severe record or
listing that the platform flags ``minor_and_corrected`` is inconsistent data: the SDK applies the
law (no exemption) and flags the inconsistency (``SEVERE_NOT_MINOR``) for the providing unit.
"""

from __future__ import annotations

from credit_sdk import Outcome, Scenario
from tests.legal.builders import (
    advisory_codes,
    check,
    court_defaulter,
    reasons,
    record,
    report,
    severe_listing,
    severe_record,
)

PROCUREMENT = Scenario.GOVERNMENT_PROCUREMENT
LICENSING = Scenario.ADMIN_LICENSING


def test_general_minor_and_corrected_record_is_exempt() -> None:
    decision = check(report(records=[record("R1", minor_and_corrected=True)]), LICENSING)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "R1") == {"REMINDER_ONLY"}
    assert "SEVERE_NOT_MINOR" not in advisory_codes(decision)


def test_severe_record_flagged_minor_is_not_exempt_and_is_flagged() -> None:
    rep = report(records=[severe_record("R-S", minor_and_corrected=True)])
    decision = check(rep, PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    assert "REMINDER_ONLY" not in reasons(decision)
    assert "SEVERE_NOT_MINOR" in advisory_codes(decision, "R-S")
    assert not decision.commitment_eligible


def test_severe_listing_flagged_minor_is_not_exempt_and_is_flagged() -> None:
    rep = report(memberships=[severe_listing(minor_and_corrected=True)])
    decision = check(rep, PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    assert "SEVERE_NOT_MINOR" in advisory_codes(decision, "L-SEVERE")


def test_court_listing_flagged_minor_is_not_exempt() -> None:
    rep = report(person=True, memberships=[court_defaulter(minor_and_corrected=True)])
    decision = check(rep, Scenario.OTHER)
    assert decision.outcome is Outcome.RESTRICTED
    assert "SEVERE_NOT_MINOR" in advisory_codes(decision, "L-COURT")


def test_unflagged_severe_record_carries_no_such_advisory() -> None:
    decision = check(report(records=[severe_record("R-S")]), PROCUREMENT)
    assert "SEVERE_NOT_MINOR" not in advisory_codes(decision)
