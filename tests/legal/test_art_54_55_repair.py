"""Art. 54 (credit repair, 信用修复) and Art. 55 (statement and defence, 陈述申辩).

符合信用修复条件的……应当及时停止共享和开放相应失信信息……被列入严重失信主体名单的，应当及时移出，
并停止实施惩戒措施 (Art. 54 ¶3). A listed subject whose facts, reasons and evidence hold up is
removed from the severe list (Art. 55). Repaired records and removed listings never trigger
measures again (Art. 51 ¶3: 不得再行公示), and the Art. 28 commitment route reopens.
"""

from __future__ import annotations

import pytest

from credit_sdk import Outcome, Scenario
from tests.legal.builders import (
    check,
    court_defaulter,
    day,
    range_items,
    reasons,
    report,
    severe_listing,
    severe_record,
)

PROCUREMENT = Scenario.GOVERNMENT_PROCUREMENT


def _wage_arrears(status: str = "active", changed: str | None = None) -> dict[str, object]:
    """拒不支付劳动报酬 found on 15 September 2025: severe dishonesty."""
    extra: dict[str, object] = {"status": status, "domain": "labour"}
    if changed is not None:
        extra["status_changed_on"] = changed
    return severe_record("R-WAGE", category="wage_arrears", finding_date="2025-09-15", **extra)


def _removed(reason: str, on: str = "2026-08-10") -> dict[str, object]:
    return severe_listing(
        listed_on="2025-10-09", status="removed", removed_on=on, removal_reason=reason
    )


def test_baseline_unrepaired_wage_arrears_bar_procurement() -> None:
    decision = check(report(records=[_wage_arrears()]), PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    assert "42.3" in range_items(decision.restrictions)


def test_repaired_record_triggers_nothing() -> None:
    decision = check(report(records=[_wage_arrears("repaired", "2026-08-10")]), PROCUREMENT)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "R-WAGE") == {"RECORD_REPAIRED"}
    (left_out,) = decision.exclusions
    assert "Art. 54" in left_out.detail
    assert decision.commitment_eligible
    assert decision.supervision_tier == "normal"


def test_repair_completed_after_the_query_date_does_not_count_yet() -> None:
    rep = report(records=[_wage_arrears("repaired", "2026-12-10")])
    assert check(rep, PROCUREMENT).outcome is Outcome.RESTRICTED
    assert check(rep, PROCUREMENT, as_of=day("2026-12-10")).outcome is Outcome.CLEAR


def test_listing_removed_on_repair_stops_the_punishments() -> None:
    decision = check(report(memberships=[_removed("repaired")]), PROCUREMENT)
    assert decision.outcome is Outcome.CLEAR
    assert decision.restrictions == ()
    assert reasons(decision, "L-SEVERE") == {"RECORD_REPAIRED"}
    assert decision.commitment_eligible  # Art. 28: 在信用修复完成前 only


def test_repaired_and_removed_together() -> None:
    rep = report(
        records=[_wage_arrears("repaired", "2026-08-10")], memberships=[_removed("repaired")]
    )
    decision = check(rep, PROCUREMENT)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision) == {"RECORD_REPAIRED"}


def test_statement_accepted_removes_the_listing_as_corrected() -> None:
    """Art. 55: 事实、理由和证据成立的，认定单位应当予以采纳，并将信用主体及时移出."""
    decision = check(report(memberships=[_removed("statement_accepted")]), PROCUREMENT)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "L-SEVERE") == {"RECORD_CORRECTED"}


@pytest.mark.parametrize(
    ("reason", "code"),
    [("term_ended", "RECORD_EXPIRED"), ("performed", "MEMBERSHIP_REMOVED")],
)
def test_other_removals_have_their_own_reasons(reason: str, code: str) -> None:
    listing = court_defaulter(status="removed", removed_on="2026-10-01", removal_reason=reason)
    decision = check(report(person=True, memberships=[listing]), Scenario.OTHER)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "L-COURT") == {code}


def test_repaired_information_is_never_republished() -> None:
    """Long after repair, and even inside what would have been its publication window."""
    rep = report(records=[_wage_arrears("repaired", "2026-02-01")])
    for as_of in ("2026-02-01", "2026-06-01", "2028-01-01"):
        assert reasons(check(rep, PROCUREMENT, as_of=day(as_of)), "R-WAGE") == {"RECORD_REPAIRED"}
