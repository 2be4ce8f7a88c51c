"""Art. 45: a market entity's severe listing reaches its people.

市场主体被列入严重失信主体名单的，应当依法对其法定代表人或者主要负责人、实际控制人、影响债务履行的
直接责任人实施惩戒措施. The person is punished through the linked role, where a published measure
targets that role (e.g. the Art. 42(6) bar on serving as an SOE director), only if the role was
held while the company was listed; a company's red list does not pass to its people; and the
link concerns natural persons only.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from credit_sdk import CreditReport, Outcome, Scenario
from tests.legal.builders import (
    OTHER_COMPANY,
    check,
    court_defaulter,
    exclusions_for,
    linked_party,
    range_items,
    reasons,
    red_list,
    report,
    severe_listing,
    uscc,
)

REVIEW = Scenario.QUALIFICATION_REVIEW  # 国有企业董事、监事、高级管理人员任职资格审核


def _director_candidate(role: str = "legal_representative", **link: Any) -> CreditReport:
    """A person whose company (示例建设工程有限公司) was put on the severe list on 2026-03-01."""
    return report(person=True, linked_parties=[linked_party([severe_listing()], role, **link)])


def test_legal_representative_of_severe_company_fails_the_soe_director_review() -> None:
    decision = check(_director_candidate(), REVIEW)
    assert decision.outcome is Outcome.RESTRICTED
    assert range_items(decision.restrictions) == {"42.6"}
    (bar,) = decision.restrictions
    (trigger,) = bar.triggered_by
    assert trigger.source == "linked_party"
    assert trigger.role == "legal_representative"
    assert trigger.item_id == "L-SEVERE"
    assert trigger.via_organisation is not None
    assert "*" in trigger.via_organisation
    raw_org = uscc(OTHER_COMPANY)
    assert raw_org not in trigger.via_organisation
    assert raw_org not in json.dumps(decision.to_dict(), ensure_ascii=False)
    assert "法定代表人" in decision.explain("zh")
    assert "legal representative" in decision.explain("en")


@pytest.mark.parametrize(
    "role",
    ["principal", "actual_controller", "directly_responsible_person"],
)
def test_every_art_45_role_is_reached(role: str) -> None:
    decision = check(_director_candidate(role), REVIEW)
    assert decision.outcome is Outcome.RESTRICTED
    assert "42.6" in range_items(decision.restrictions)


@pytest.mark.parametrize(
    ("scenario", "item"),
    [
        (Scenario.CIVIL_SERVICE_HIRING, "42.7"),
        (Scenario.APPOINTMENT, "42.7"),
        (Scenario.ELECTION_QUALIFICATION, "42.8"),
    ],
)
def test_linked_role_reaches_personnel_and_election_reviews(scenario: Scenario, item: str) -> None:
    decision = check(_director_candidate(), scenario)
    assert decision.outcome is Outcome.RESTRICTED
    assert item in range_items(decision.restrictions)


def test_measures_that_target_only_the_listed_entity_do_not_follow_the_person() -> None:
    """The procurement bar targets the listed supplier itself, not its representative."""
    decision = check(_director_candidate(), Scenario.GOVERNMENT_PROCUREMENT)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "L-SEVERE") == {"NOT_RELATED"}


def test_role_given_up_before_the_listing_is_not_related() -> None:
    decision = check(_director_candidate(since="2019-05-06", until="2025-12-31"), REVIEW)
    assert decision.outcome is Outcome.CLEAR
    (left_out,) = exclusions_for(decision, "NOT_RELATED")
    assert left_out.item_id == "L-SEVERE"
    assert "legal_representative" in left_out.detail
    assert uscc(OTHER_COMPANY) not in left_out.detail


def test_role_taken_up_only_after_the_query_date_is_not_related() -> None:
    decision = check(_director_candidate(since="2027-01-01"), REVIEW)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "L-SEVERE") == {"NOT_RELATED"}


def test_role_held_at_the_listing_and_given_up_later_still_counts() -> None:
    decision = check(_director_candidate(since="2019-05-06", until="2026-06-30"), REVIEW)
    assert decision.outcome is Outcome.RESTRICTED


def test_company_repaired_and_removed_from_the_list_releases_the_person() -> None:
    listing = severe_listing(status="removed", removed_on="2026-09-01", removal_reason="repaired")
    rep = report(person=True, linked_parties=[linked_party([listing])])
    decision = check(rep, REVIEW)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "L-SEVERE") == {"RECORD_REPAIRED"}


def test_company_listing_without_written_decision_does_not_reach_the_person() -> None:
    rep = report(person=True, linked_parties=[linked_party([severe_listing(decision=None)])])
    decision = check(rep, REVIEW)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "L-SEVERE") == {"NO_EFFECTIVE_BASIS"}


def test_legal_representative_of_a_court_defaulter_company_is_bound_by_consumption_limits() -> None:
    """SPC rules (and the sample list) extend the Art. 42(10) limits to the company's people."""
    rep = report(person=True, linked_parties=[linked_party([court_defaulter()])])
    decision = check(rep, Scenario.OTHER)
    assert decision.outcome is Outcome.RESTRICTED
    assert "42.10.1" in range_items(decision.restrictions)
    assert "42.9" not in range_items(decision.restrictions)  # exit bans are the court's, personal


def test_company_red_list_does_not_pass_to_its_people() -> None:
    rep = report(person=True, linked_parties=[linked_party([red_list()])])
    decision = check(rep, Scenario.ADMIN_LICENSING)
    assert decision.outcome is Outcome.CLEAR
    assert decision.incentives == ()
    (left_out,) = exclusions_for(decision, "NOT_RELATED")
    assert left_out.item_id == "L-RED"
    assert "Art. 45" in left_out.detail


def _organisation_with_links() -> CreditReport:
    """A company subject whose report (wrongly) carries another company's severe listing as a
    linked party: Art. 45 reaches persons, not other organisations."""
    return report(linked_parties=[linked_party([severe_listing()])])


@pytest.mark.parametrize("scenario", [REVIEW, Scenario.GOVERNMENT_PROCUREMENT, Scenario.OTHER])
def test_links_are_not_applied_when_the_subject_is_an_organisation(scenario: Scenario) -> None:
    decision = check(_organisation_with_links(), scenario)
    assert decision.outcome is Outcome.CLEAR
    assert decision.restrictions == ()
    assert decision.held_for_review == ()
    assert decision.commitment_eligible


def test_links_of_an_organisation_are_left_out_with_a_reason() -> None:
    decision = check(_organisation_with_links(), REVIEW)
    assert reasons(decision, "L-SEVERE") == {"NOT_RELATED"}
