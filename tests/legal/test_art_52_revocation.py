"""Art. 52 ¶3: when the basis of a dishonesty finding is revoked, the information is revoked.

认定失信行为的依据被撤销、确认违法、确认无效或者变更的……公共信用工作机构应当在一个工作日内撤销或者
变更该信息. A revoked record or listing never triggers a measure (``RECORD_REVOKED``); a revocation
that happened after the query date does not reach back: replaying a decision at an earlier date
gives the decision that was right then.
"""

from __future__ import annotations

from typing import Any

from credit_sdk import CreditReport, Outcome, Scenario
from tests.legal.builders import (
    check,
    day,
    objection,
    range_items,
    reasons,
    record,
    report,
    severe_listing,
    triggered_items,
)

LICENSING = Scenario.ADMIN_LICENSING
PROCUREMENT = Scenario.GOVERNMENT_PROCUREMENT


def _pollution_penalty(**extra: Any) -> CreditReport:
    """超标排放 penalty decision of 8 April 2026, set aside on administrative reconsideration."""
    return report(
        records=[
            record(
                "R-ENV",
                category="false_materials",
                domain="environment",
                finding_date="2026-04-08",
                **extra,
            )
        ]
    )


def test_revoked_record_triggers_nothing() -> None:
    rep = _pollution_penalty(status="revoked", status_changed_on="2026-09-16")
    decision = check(rep, LICENSING)
    assert decision.outcome is Outcome.CLEAR
    assert decision.restrictions == ()
    assert reasons(decision, "R-ENV") == {"RECORD_REVOKED"}
    (left_out,) = decision.exclusions
    assert "Art. 52" in left_out.detail
    assert decision.supervision_tier == "normal"


def test_record_revoked_after_the_query_date_still_applies_then() -> None:
    rep = _pollution_penalty(status="revoked", status_changed_on="2026-12-10")
    then = check(rep, LICENSING)
    assert then.outcome is Outcome.RESTRICTED
    assert "R-ENV" in triggered_items(then.restrictions)
    later = check(rep, LICENSING, as_of=day("2026-12-10"))
    assert later.outcome is Outcome.CLEAR
    assert reasons(later, "R-ENV") == {"RECORD_REVOKED"}


def test_revoked_record_without_a_date_is_revoked_whenever_asked() -> None:
    rep = _pollution_penalty(status="revoked")
    decision = check(rep, LICENSING, as_of=day("2026-05-01"))
    assert reasons(decision, "R-ENV") == {"RECORD_REVOKED"}


def test_revocation_outranks_a_pending_objection() -> None:
    rep = _pollution_penalty(
        status="revoked", status_changed_on="2026-11-25", objection=objection(filed_on="2026-11-20")
    )
    decision = check(rep, LICENSING)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision) == {"RECORD_REVOKED"}
    assert decision.advisories == ()


def test_listing_removed_because_its_basis_was_revoked() -> None:
    listing = severe_listing(
        status="removed", removed_on="2026-10-20", removal_reason="basis_revoked"
    )
    decision = check(report(memberships=[listing]), PROCUREMENT)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "L-SEVERE") == {"RECORD_REVOKED"}
    assert decision.commitment_eligible


def test_listing_removed_only_after_the_query_date_still_applies_then() -> None:
    listing = severe_listing(
        status="removed", removed_on="2026-12-10", removal_reason="basis_revoked"
    )
    rep = report(memberships=[listing])
    then = check(rep, PROCUREMENT)
    assert then.outcome is Outcome.RESTRICTED
    assert "42.3" in range_items(then.restrictions)
    assert then.commitment_eligible is False
    assert reasons(check(rep, PROCUREMENT, as_of=day("2026-12-10")), "L-SEVERE") == {
        "RECORD_REVOKED"
    }
