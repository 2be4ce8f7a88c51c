"""Art. 19 last paragraph leaves *minor* penalty information out of the catalogue: penalties
imposed by the simple procedure (简易程序), and minor or first offences whose harm was remedied.

A severe dishonesty finding (严重失信信息, Art. 37) is none of these: the conduct Art. 37 lists
(bid rigging, wage arrears, food and drug safety...) is not punished by a simple-procedure
warning. A severe record whose penalty says "simple" or "minor and remedied" is inconsistent
data; as with Art. 43 ¶2 (issue 8: "a severe finding exempted as minor" is an unlawful answer),
the law is applied (no exemption) and the inconsistency is flagged for the providing unit.
General dishonesty keeps the Art. 19 exclusion.
"""

from __future__ import annotations

from typing import Any

import pytest

from credit_sdk import Outcome, Scenario
from tests.legal.builders import (
    advisory_codes,
    check,
    penalty,
    reasons,
    record,
    report,
    severe_record,
    triggered_items,
)

PROCUREMENT = Scenario.GOVERNMENT_PROCUREMENT
MINOR = [
    penalty("simple"),
    penalty("general", minor_violation=True, harm_remedied=True),
    penalty("general", first_offence=True, minor_harm=True, harm_remedied=True),
]
IDS = ["simple-procedure", "minor-remedied", "first-offence-remedied"]


@pytest.mark.parametrize("pen", MINOR, ids=IDS)
def test_a_severe_finding_is_not_exempted_as_a_minor_penalty(pen: dict[str, Any]) -> None:
    decision = check(report(records=[severe_record("R-SEVERE", penalty=pen)]), PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    assert "R-SEVERE" in triggered_items(decision.restrictions)
    assert "EXCLUDED_MINOR_PENALTY" not in reasons(decision, "R-SEVERE")
    assert "SEVERE_NOT_MINOR" in advisory_codes(decision, "R-SEVERE")
    assert decision.commitment_eligible is False  # Art. 28: a severe subject


@pytest.mark.parametrize("pen", MINOR, ids=IDS)
def test_general_dishonesty_with_a_minor_penalty_is_still_left_out(pen: dict[str, Any]) -> None:
    rep = report(records=[record("R-PEN", penalty=pen, domain="market")])
    decision = check(rep, Scenario.ADMIN_LICENSING)
    assert decision.outcome is Outcome.CLEAR
    assert "EXCLUDED_MINOR_PENALTY" in reasons(decision, "R-PEN")
    assert "SEVERE_NOT_MINOR" not in advisory_codes(decision)
