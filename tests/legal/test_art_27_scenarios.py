"""Art. 27: the eight activities in which state organs must query the credit report.

Every activity the article names is a :class:`Scenario` that ``decide`` accepts; anything else is
refused with :class:`InvalidQuery` listing what is accepted. The scenario decides relevance: a
severe-list supplier is barred from government procurement (Art. 42(3)), but that bar is not
what an awards committee applies (Art. 43 relevance) - there it is Art. 42(5).
"""

from __future__ import annotations

import pytest

from credit_sdk import CreditReport, InvalidQuery, Outcome, Scenario, ScenarioFamily
from tests.legal.builders import check, range_items, report, severe_listing, severe_record

ART_27_ITEMS = {
    ScenarioFamily.ADMINISTRATION: "27(1)",
    ScenarioFamily.PROCUREMENT: "27(2)",
    ScenarioFamily.FUNDING: "27(3)",
    ScenarioFamily.HONOURS: "27(4)",
    ScenarioFamily.PERSONNEL: "27(5)",
    ScenarioFamily.QUALIFICATION: "27(6)",
    ScenarioFamily.ELECTION: "27(7)",
    ScenarioFamily.OTHER: "27(8)",
}


def _severe_supplier() -> CreditReport:
    return report(records=[severe_record()], memberships=[severe_listing()])


def test_every_item_of_art_27_has_a_scenario() -> None:
    assert {s.family for s in Scenario} == set(ScenarioFamily)
    for scenario in Scenario:
        assert scenario.article_item == ART_27_ITEMS[scenario.family]
        assert scenario.label_zh


@pytest.mark.parametrize("scenario", list(Scenario), ids=lambda s: s.value)
def test_every_scenario_is_accepted_by_value_and_name(scenario: Scenario) -> None:
    rep = report()
    for spelling in (scenario, scenario.value, scenario.name, scenario.value.replace("_", "-")):
        decision = check(rep, spelling)
        assert decision.scenario == scenario.value
        assert decision.outcome is Outcome.CLEAR


@pytest.mark.parametrize("bad", ["procurment", "licensing", "", "27(2)"])
def test_unknown_scenario_is_refused_naming_the_accepted_values(bad: str) -> None:
    with pytest.raises(InvalidQuery, match="unknown scenario") as info:
        check(report(), bad)
    assert info.value.rule == "scenario"
    for scenario in Scenario:
        assert scenario.value in str(info.value)


def test_severe_list_supplier_is_barred_from_government_procurement() -> None:
    decision = check(_severe_supplier(), Scenario.GOVERNMENT_PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    assert "42.3" in range_items(decision.restrictions)
    (bar,) = [m for m in decision.restrictions if m.range_item == "42.3"]
    assert "政府采购" in bar.title
    assert {t.item_id for t in bar.triggered_by} == {"R-SEVERE", "L-SEVERE"}


def test_procurement_bar_does_not_follow_the_supplier_to_an_awards_committee() -> None:
    decision = check(_severe_supplier(), Scenario.AWARDS)
    assert decision.outcome is Outcome.RESTRICTED
    assert "42.3" not in range_items(decision.restrictions)
    assert range_items(decision.restrictions) == {"42.5"}  # 不得评先评优和授予称号


@pytest.mark.parametrize(
    ("scenario", "foreign_items"),
    [
        (Scenario.ADMIN_LICENSING, {"42.3", "42.4", "42.5", "42.6", "42.7", "42.8"}),
        (Scenario.FISCAL_FUNDS, {"42.3", "42.5", "41.1", "41.2"}),
        (Scenario.HONORARY_TITLES, {"42.3", "42.4", "41.1"}),
        (Scenario.BIDDING, {"42.4", "42.5", "41.1"}),
    ],
)
def test_measures_of_other_scenarios_never_appear(
    scenario: Scenario, foreign_items: set[str]
) -> None:
    decision = check(_severe_supplier(), scenario)
    assert decision.outcome is Outcome.RESTRICTED
    assert not range_items(decision.restrictions) & foreign_items
