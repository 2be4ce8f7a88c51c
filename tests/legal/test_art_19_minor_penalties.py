"""Art. 19 last paragraph: minor administrative penalties are not public credit information.

适用简易程序作出的行政处罚信息，以及违法行为轻微且主动消除或者减轻危害后果，初次违法且危害后果轻微
并主动消除或者减轻危害后果的行政处罚信息，不纳入公共信用信息补充目录。

A market-supervision penalty for false application materials (提供虚假材料) would, as general
dishonesty, cost the applicant the tolerance-acceptance facility (容缺受理) at a licensing window
(Art. 41(1)). Imposed by the simple procedure, or minor and remedied, it must trigger nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from credit_sdk import Outcome, Scenario
from tests.legal.builders import (
    check,
    penalty,
    profile,
    range_items,
    reasons,
    record,
    report,
    triggered_items,
)

LICENSING = Scenario.ADMIN_LICENSING


def _penalised(pen: dict[str, Any]) -> Any:
    return report(records=[record("R-PEN", penalty=pen, domain="market")])


def test_general_procedure_penalty_is_public_credit_information() -> None:
    """The baseline: the same conduct under the general procedure (普通程序) restricts."""
    decision = check(_penalised(penalty("general")), LICENSING)
    assert decision.outcome is Outcome.RESTRICTED
    assert "41.1" in range_items(decision.restrictions)
    assert "R-PEN" in triggered_items(decision.restrictions)
    assert "EXCLUDED_MINOR_PENALTY" not in reasons(decision)


@pytest.mark.parametrize(
    ("case", "pen"),
    [
        ("simple procedure (简易程序)", penalty("simple")),
        (
            "minor violation, harm remedied (违法行为轻微且主动消除危害后果)",
            penalty("general", minor_violation=True, harm_remedied=True),
        ),
        (
            "first offence, minor harm, remedied (初次违法且危害后果轻微并主动消除)",
            penalty("general", first_offence=True, minor_harm=True, harm_remedied=True),
        ),
    ],
)
def test_minor_penalty_is_excluded(case: str, pen: dict[str, Any]) -> None:
    decision = check(_penalised(pen), LICENSING)
    assert decision.outcome is Outcome.CLEAR, case
    assert decision.restrictions == ()
    assert decision.held_for_review == ()
    assert reasons(decision, "R-PEN") == {"EXCLUDED_MINOR_PENALTY"}
    (exclusion,) = decision.exclusions
    assert "Art. 19" in exclusion.detail


@pytest.mark.parametrize(
    ("case", "pen"),
    [
        (
            "minor violation, harm not remedied",
            penalty("general", minor_violation=True, harm_remedied=False),
        ),
        (
            "first offence with minor harm, not remedied",
            penalty("general", first_offence=True, minor_harm=True),
        ),
        (
            "first offence, remedied, but the harm was not minor",
            penalty("general", first_offence=True, harm_remedied=True),
        ),
    ],
)
def test_general_procedure_penalty_without_every_condition_is_not_excluded(
    case: str, pen: dict[str, Any]
) -> None:
    decision = check(_penalised(pen), LICENSING)
    assert decision.outcome is Outcome.RESTRICTED, case
    assert "EXCLUDED_MINOR_PENALTY" not in reasons(decision)
    assert "41.1" in range_items(decision.restrictions)


def test_excluded_penalty_counts_for_nothing_else_either() -> None:
    """Not public credit information: no high-risk supervision tier, commitment route open."""
    decision = check(_penalised(penalty("simple")), LICENSING)
    assert decision.supervision_tier == "normal"
    assert decision.commitment_eligible


def test_excluded_simple_penalty_at_every_scenario() -> None:
    rep = _penalised(penalty("simple"))
    for scenario in Scenario:
        decision = check(rep, scenario)
        assert decision.outcome is Outcome.CLEAR, scenario
        assert reasons(decision) == {"EXCLUDED_MINOR_PENALTY"}, scenario


def test_profile_where_law_provides_otherwise_keeps_minor_penalties() -> None:
    """但法律、行政法规、省级地方性法规另有规定的除外: a profile may switch the exclusion off."""
    decision = check(
        _penalised(penalty("simple")), LICENSING, profile=profile(minor_penalties_excluded=False)
    )
    assert decision.outcome is Outcome.RESTRICTED
    assert "EXCLUDED_MINOR_PENALTY" not in reasons(decision)
