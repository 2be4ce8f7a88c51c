"""Personnel helper: Art. 27(5)-(7) decision points, Art. 42(6)-(8) restrictions, Art. 45
roles in severe-list organisations, and the authorisation a natural person must give."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from credit_sdk.adapters.personnel import (
    PERSONNEL_SCENARIOS,
    CandidateCheck,
    CandidateStanding,
    acheck_candidate,
    check_candidate,
)

from credit_sdk import (
    AsyncCreditClient,
    AuthorizationError,
    CreditClient,
    InvalidIdentifier,
    InvalidQuery,
    QueryContext,
)
from credit_sdk.testing import CreditPlatform, fake_resident_id, fake_uscc
from tests.workflows.conftest import assert_no_raw_identifiers, grant_for


@pytest.mark.parametrize(
    ("role", "role_zh"),
    [
        ("legal_representative", "法定代表人"),
        ("principal", "主要负责人"),
        ("actual_controller", "实际控制人"),
        ("directly_responsible_person", "影响债务履行的直接责任人"),
    ],
)
def test_role_in_a_severe_list_company_restricts_qualification(
    credit_platform: CreditPlatform,
    credit_client: CreditClient,
    ctx: QueryContext,
    role: str,
    role_zh: str,
) -> None:
    person = credit_platform.subject(fake_resident_id(1)).linked_to_severe_list_company(
        fake_uscc(1), role=role
    )
    check = check_candidate(
        credit_client, person.identifier, "qualification_review", ctx,
        authorization=grant_for(credit_platform.today, subject=person.identifier),
    )  # fmt: skip
    assert check.standing is CandidateStanding.RESTRICTED
    assert [m.measure_id for m in check.restrictions] == ["HLJ-SUP-42.6-01"]
    (finding,) = check.linked_roles
    assert (finding.role, finding.role_zh) == (role, role_zh)
    assert finding.organisation == credit_platform.subject(fake_uscc(1)).identifier.masked
    assert finding.ground == "severe_dishonesty"
    assert finding.measure_ids == ("HLJ-SUP-42.6-01",)
    assert check.own_findings == ()
    assert role_zh in check.render()
    assert "Art. 45" in check.render()


@pytest.mark.parametrize(
    ("scenario", "measure"),
    [
        ("civil_service_hiring", "HLJ-SUP-42.7-01"),
        ("personnel_transfer", "HLJ-SUP-42.7-01"),
        ("appointment", "HLJ-SUP-42.7-01"),
        ("promotion", "HLJ-SUP-42.7-01"),
        ("qualification_review", "HLJ-SUP-42.6-01"),
        ("election_qualification", "HLJ-SUP-42.8-01"),
    ],
)
def test_each_decision_point_brings_its_art_42_item(
    credit_platform: CreditPlatform,
    credit_client: CreditClient,
    ctx: QueryContext,
    scenario: str,
    measure: str,
) -> None:
    person = credit_platform.subject(fake_resident_id(2)).linked_to_severe_list_company()
    check = check_candidate(
        credit_client, person.identifier, scenario, ctx,
        authorization=grant_for(credit_platform.today, subject=person.identifier),
    )  # fmt: skip
    assert measure in {m.measure_id for m in check.restrictions}
    assert check.linked_roles[0].measure_ids == tuple(m.measure_id for m in check.restrictions)


def test_own_court_listing_is_an_own_finding(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    person = credit_platform.subject(fake_resident_id(3)).on_judgment_defaulter_list()
    check = check_candidate(
        credit_client, person.identifier, "civil_service_hiring", ctx,
        authorization=grant_for(credit_platform.today, subject=person.identifier),
    )  # fmt: skip
    assert check.standing is CandidateStanding.RESTRICTED
    assert [t.item_id for t in check.own_findings] == list(person.item_ids)
    assert check.linked_roles == ()
    assert "本人失信信息" in check.render()


def test_clean_candidate_is_eligible(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    grant = grant_for(credit_platform.today, "civil_service_hiring", subject=fake_resident_id(4))
    check = check_candidate(
        credit_client, fake_resident_id(4), "civil_service_hiring", ctx, authorization=grant
    )
    assert check.eligible
    assert check.authorization_id == "G-2026-0042"
    assert check.query_id == check.decision.query_id is not None


def test_disputed_listing_of_the_company_puts_the_candidate_under_review(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    credit_platform.subject(fake_uscc(5)).with_disputed_severe_listing(category="bid_rigging")
    person = credit_platform.subject(fake_resident_id(5)).linked_to_severe_list_company(
        fake_uscc(5)
    )
    check = check_candidate(
        credit_client, person.identifier, "appointment", ctx,
        authorization=grant_for(credit_platform.today, subject=person.identifier),
    )  # fmt: skip
    assert check.standing is CandidateStanding.REVIEW
    assert not check.eligible
    (finding,) = check.linked_roles
    assert finding.disputed
    assert "异议处理中" in check.render()


def test_platform_down_is_indeterminate(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    credit_platform.down()
    check = check_candidate(
        credit_client, fake_resident_id(6), "promotion", ctx,
        authorization=grant_for(credit_platform.today, subject=fake_resident_id(6)),
    )  # fmt: skip
    assert check.standing is CandidateStanding.INDETERMINATE
    assert "无法判定" in check.render()


def test_authorisation_is_required_and_checked_before_any_query(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    today = credit_platform.today
    person = fake_resident_id(7)
    with pytest.raises(AuthorizationError, match=r"Art\. 25, 56"):
        check_candidate(credit_client, person, "civil_service_hiring", ctx, authorization=None)
    with pytest.raises(AuthorizationError, match="does not cover"):
        check_candidate(
            credit_client, person, "election_qualification", ctx,
            authorization=grant_for(today, "personnel", subject=person),
        )  # fmt: skip
    expired = grant_for(today - dt.timedelta(days=200), subject=person)
    with pytest.raises(AuthorizationError, match="expired"):
        check_candidate(credit_client, person, "appointment", ctx, authorization=expired)
    assert credit_platform.queries == []


@pytest.mark.parametrize(
    ("candidate", "scenario", "error"),
    [
        (fake_uscc(8), "appointment", InvalidQuery),  # an organisation is not a candidate
        (fake_resident_id(8), "bidding", InvalidQuery),
        (fake_resident_id(8), "awards", InvalidQuery),
        ("230102190001010000", "appointment", InvalidIdentifier),
    ],
)
def test_wrong_candidates_and_scenarios_are_refused(
    credit_platform: CreditPlatform,
    credit_client: CreditClient,
    ctx: QueryContext,
    candidate: str,
    scenario: str,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        check_candidate(
            credit_client, candidate, scenario, ctx,
            authorization=grant_for(credit_platform.today, subject=candidate),
        )  # fmt: skip
    assert credit_platform.queries == []


def test_results_keep_identifiers_masked(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    person = credit_platform.subject(fake_resident_id(9)).linked_to_severe_list_company()
    check = check_candidate(
        credit_client, person.identifier, "qualification_review", ctx,
        authorization=grant_for(credit_platform.today, subject=person.identifier),
    )  # fmt: skip
    assert_no_raw_identifiers(check.render(), check.to_dict(), repr(check))
    assert len(PERSONNEL_SCENARIOS) == 6


def test_async_candidate_check(
    credit_platform: CreditPlatform, async_credit_client: AsyncCreditClient, ctx: QueryContext
) -> None:
    person = credit_platform.subject(fake_resident_id(10)).linked_to_severe_list_company(
        role="principal"
    )

    async def main() -> CandidateCheck:
        async with async_credit_client as client:
            return await acheck_candidate(
                client, person.identifier, "election_qualification", ctx,
                authorization=grant_for(credit_platform.today, subject=person.identifier),
            )  # fmt: skip

    check = asyncio.run(main())
    assert [m.measure_id for m in check.restrictions] == ["HLJ-SUP-42.8-01"]
    assert check.linked_roles[0].role == "principal"


def test_sandbox_candidates(
    sandbox: Any, seeded: dict[str, Any], sandbox_client: CreditClient, ctx: QueryContext
) -> None:
    grant = grant_for(dt.date.today(), subject=seeded["linked_person"])
    linked = check_candidate(
        sandbox_client, seeded["linked_person"], "qualification_review", ctx, authorization=grant
    )
    assert linked.standing is CandidateStanding.RESTRICTED
    (finding,) = linked.linked_roles
    assert (finding.role, finding.organisation) == (
        "legal_representative",
        seeded["severe_list"].masked,
    )
    defaulter = check_candidate(
        sandbox_client, seeded["judgment_defaulter"], "civil_service_hiring", ctx,
        authorization=grant_for(dt.date.today(), subject=seeded["judgment_defaulter"]),
    )  # fmt: skip
    assert defaulter.standing is CandidateStanding.RESTRICTED
    assert defaulter.own_findings
    assert not defaulter.linked_roles
    with pytest.raises(AuthorizationError):
        check_candidate(
            sandbox_client, seeded["linked_person"], "appointment", ctx, authorization=None
        )
    assert_no_raw_identifiers(linked.render(), defaulter.to_dict())


def test_render_speaks_the_chosen_language(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    credit_platform.down()
    check = check_candidate(
        credit_client, fake_resident_id(7), "promotion", ctx,
        authorization=grant_for(credit_platform.today, subject=fake_resident_id(7)),
    )  # fmt: skip
    both, zh, en = check.render(), check.render("zh"), check.render("en")
    assert both.splitlines()[0] == "人员信用核查 Personnel credit check"
    assert "结论: 无法判定\n" in zh + "\n"
    assert "Standing: indeterminate" in en
    assert "结论" not in en
    assert "Standing" not in zh
    with pytest.raises(ValueError, match="lang"):
        check.render("fr")  # type: ignore[arg-type]
