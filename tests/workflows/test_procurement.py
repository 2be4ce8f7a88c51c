"""Procurement helper: one batch per tender; exclusions (Art. 42(3)) and score adjustments
(Art. 40(2), 42(3)) with their legal basis; review and indeterminate bidders never clear."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from credit_sdk.adapters.procurement import (
    Bidder,
    BidderStanding,
    TenderScreening,
    ascreen_tender,
    screen_tender,
)

from credit_sdk import (
    AsyncCreditClient,
    CreditClient,
    InvalidQuery,
    MemoryQueryLog,
    Outcome,
    QueryContext,
    Scenario,
)
from credit_sdk.testing import CreditPlatform, fake_uscc
from tests.workflows.conftest import assert_no_raw_identifiers


@pytest.fixture
def tender(credit_platform: CreditPlatform) -> list[Bidder]:
    credit_platform.subject(fake_uscc(1)).on_severe_list(category="bid_rigging")
    credit_platform.subject(fake_uscc(2)).on_red_list()
    credit_platform.subject(fake_uscc(3)).with_dishonesty_record(category="bid_fraud")
    credit_platform.subject(fake_uscc(4)).with_disputed_severe_listing()
    credit_platform.unavailable_for(fake_uscc(5))
    credit_platform.subject(fake_uscc(6)).with_expired_record(category="bid_fraud")
    return [
        Bidder("投标人A", fake_uscc(1)),
        Bidder("投标人B", fake_uscc(2)),
        Bidder("投标人C", fake_uscc(3)),
        Bidder("投标人D", fake_uscc(4)),
        Bidder("投标人E", fake_uscc(5)),
        Bidder("投标人F", fake_uscc(6)),
        Bidder("投标人G", "not-an-identifier"),
    ]


def test_screening_sorts_every_bidder(
    credit_platform: CreditPlatform,
    credit_client: CreditClient,
    credit_query_log: MemoryQueryLog,
    ctx: QueryContext,
    tender: list[Bidder],
) -> None:
    screening = screen_tender(credit_client, "HLJ-ZB-2026-0318", tender, ctx)
    standing = {b.label: b.standing for b in screening.bidders}
    assert standing == {
        "投标人A": BidderStanding.EXCLUDED,
        "投标人B": BidderStanding.ADMITTED,
        "投标人C": BidderStanding.ADMITTED,
        "投标人D": BidderStanding.REVIEW,
        "投标人E": BidderStanding.INDETERMINATE,
        "投标人F": BidderStanding.ADMITTED,
        "投标人G": BidderStanding.INDETERMINATE,
    }
    assert [b.label for b in screening.excluded] == ["投标人A"]
    assert not screening.complete
    # One batch for the whole tender, one logged query per bidder with a valid identifier.
    assert credit_platform.calls["query_reports"] == 1
    assert credit_platform.calls["query_report"] == 0
    assert credit_query_log.stats().intents == 6


def test_exclusion_carries_legal_basis_body_and_trigger(
    credit_client: CreditClient, ctx: QueryContext, tender: list[Bidder]
) -> None:
    a = screen_tender(credit_client, "T-1", tender, ctx).bidder("投标人A")
    assert {m.measure_id for m in a.exclusions} == {"HLJ-SUP-42.3-02", "HLJ-SUP-42.3-04"}
    for m in a.exclusions:
        assert m.range_item == "42.3"
        assert any("第四十二条第（三）项" in basis for basis in m.legal_basis)
        assert m.implementing_body
        assert {t.source for t in m.triggered_by} == {"record", "membership"}
        assert all(t.category == "bid_rigging" for t in m.triggered_by)
    assert a.decision is not None
    assert a.decision.outcome is Outcome.RESTRICTED


def test_score_adjustments_bonus_and_deduction(
    credit_client: CreditClient, ctx: QueryContext, tender: list[Bidder]
) -> None:
    screening = screen_tender(credit_client, "T-1", tender, ctx)
    bonus, deduction = screening.bidder("投标人B"), screening.bidder("投标人C")
    assert [(m.measure_id, m.score_adjustment) for m in bonus.score_adjustments] == [
        ("HLJ-INC-40.2-01", 2.0)
    ]
    assert bonus.score_total == 2.0
    assert [(m.measure_id, m.score_adjustment) for m in deduction.score_adjustments] == [
        ("HLJ-SUP-42.3-03", -3.0)
    ]
    assert deduction.score_total == -3.0
    # Enhanced qualification review (Art. 41(3)) neither excludes nor scores.
    assert [m.measure_id for m in deduction.other_measures] == ["HLJ-RES-41.3-02"]
    assert all(m.legal_basis for m in (*bonus.score_adjustments, *deduction.score_adjustments))


def test_review_and_indeterminate_are_never_clear(
    credit_client: CreditClient, ctx: QueryContext, tender: list[Bidder]
) -> None:
    screening = screen_tender(credit_client, "T-1", tender, ctx)
    d = screening.bidder("投标人D")
    assert [m.measure_id for m in d.held_for_review] == ["HLJ-SUP-42.3-04"]
    assert d.exclusions == ()
    e, g = screening.bidder("投标人E"), screening.bidder("投标人G")
    assert e.decision is not None
    assert e.decision.outcome is Outcome.INDETERMINATE
    assert e.error
    assert "PlatformUnavailable" in e.error
    assert g.decision is None
    assert g.subject is None
    assert g.error
    assert g.error.startswith("InvalidIdentifier")
    assert {b.label for b in screening.admitted} == {"投标人B", "投标人C", "投标人F"}


def test_summary_for_the_procurement_file(
    credit_client: CreditClient, ctx: QueryContext, tender: list[Bidder]
) -> None:
    screening = screen_tender(credit_client, "HLJ-ZB-2026-0318", tender, ctx)
    text = screening.render()
    terms = ["招标投标信用核查汇总", "排除", "设定依据", "实施主体", "触发信息", "评审分值调整"]
    terms += ["+2", "-3", "待复核", "无法判定", "不得视为无失信记录"]
    for term in terms:
        assert term in text, term
    data = screening.to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["counts"] == {"excluded": 1, "review": 1, "indeterminate": 2, "admitted": 3}
    assert data["article"] == "Art. 27(2)"
    assert_no_raw_identifiers(text, data, repr(screening), [repr(b) for b in screening.bidders])
    assert_no_raw_identifiers(repr(tender))


def test_feedback_stays_linked_to_the_screening(
    credit_platform: CreditPlatform,
    credit_client: CreditClient,
    ctx: QueryContext,
    tender: list[Bidder],
) -> None:
    screening = screen_tender(credit_client, "T-1", tender, ctx)
    for b in screening.excluded:
        assert b.decision is not None
        credit_client.feedback(
            b.decision,
            applied=[m.measure_id for m in b.exclusions],
            case_id="T-1",
            implementing_department="230100-CZJ",
        )
    credit_client.flush(timeout=5)
    a = screening.bidder("投标人A")
    assert a.decision is not None
    assert {i.measure_id for i in credit_platform.feedback_for(a.decision)} == {
        "HLJ-SUP-42.3-04",
        "HLJ-SUP-42.3-02",
    }


def test_bare_identifiers_are_labelled_and_scenario_checked(
    credit_client: CreditClient, ctx: QueryContext
) -> None:
    screening = screen_tender(
        credit_client, "T-2", [fake_uscc(7), fake_uscc(8)], ctx, scenario="government_procurement"
    )
    assert [b.label for b in screening.bidders] == ["投标人1", "投标人2"]
    assert screening.scenario is Scenario.GOVERNMENT_PROCUREMENT
    assert screening.complete
    with pytest.raises(KeyError):
        screening.bidder("投标人9")


@pytest.mark.parametrize(
    ("tender_id", "bidders", "scenario", "message"),
    [
        ("T", [fake_uscc(1)], "admin_licensing", "Art. 27\\(2\\)"),
        ("T", [], "bidding", "at least one bidder"),
        ("T", fake_uscc(1), "bidding", "sequence"),
        (f"T {fake_uscc(1)}", [fake_uscc(1)], "bidding", "identifier"),
        ("T", [Bidder(fake_uscc(1), fake_uscc(1))], "bidding", "identifier"),
        ("T", [Bidder("A", fake_uscc(1)), Bidder("A", fake_uscc(2))], "bidding", "unique"),
        ("", [fake_uscc(1)], "bidding", "tender_id"),
    ],
)
def test_bad_tenders_are_refused_before_any_query(
    credit_platform: CreditPlatform,
    credit_client: CreditClient,
    ctx: QueryContext,
    tender_id: str,
    bidders: Any,
    scenario: str,
    message: str,
) -> None:
    with pytest.raises(InvalidQuery, match=message):
        screen_tender(credit_client, tender_id, bidders, ctx, scenario=scenario)
    assert credit_platform.calls["query_reports"] == 0


def test_platform_down_leaves_every_bidder_indeterminate(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    credit_platform.down()
    screening = screen_tender(credit_client, "T-3", [fake_uscc(1), fake_uscc(2)], ctx)
    assert {b.standing for b in screening.bidders} == {BidderStanding.INDETERMINATE}
    assert screening.admitted == ()
    assert "无法判定 2" in screening.render()


def test_async_screening(
    credit_platform: CreditPlatform,
    async_credit_client: AsyncCreditClient,
    ctx: QueryContext,
    tender: list[Bidder],
) -> None:
    async def main() -> TenderScreening:
        async with async_credit_client as client:
            return await ascreen_tender(client, "T-4", tender, ctx, scenario="bidding")

    screening = asyncio.run(main())
    assert [b.label for b in screening.excluded] == ["投标人A"]
    assert len(screening.indeterminate) == 2
    assert credit_platform.calls["query_reports"] == 1


def test_sandbox_tender(
    sandbox: Any, seeded: dict[str, Any], sandbox_client: CreditClient, ctx: QueryContext
) -> None:
    states = ["severe_list", "red_list", "general_dishonesty", "disputed", "clean", "expired"]
    bidders = [Bidder(state, seeded[state]) for state in states]
    screening = screen_tender(sandbox_client, "HLJ-ZB-2026-0318", bidders, ctx)
    assert {b.label: b.standing.value for b in screening.bidders} == {
        "severe_list": "excluded",
        "red_list": "admitted",
        "general_dishonesty": "admitted",
        "disputed": "review",
        "clean": "admitted",
        "expired": "admitted",
    }
    assert screening.bidder("red_list").score_total == 2.0
    assert screening.bidder("general_dishonesty").score_total == -3.0
    assert sandbox.admin.requests().get("reports:batchQuery") == 1
    assert_no_raw_identifiers(screening.render(), screening.to_dict())


def test_sandbox_batch_failure_is_indeterminate(
    sandbox: Any, seeded: dict[str, Any], sandbox_client: CreditClient, ctx: QueryContext
) -> None:
    sandbox.admin.inject_fault("reports:batchQuery", status=503, times=1)
    screening = screen_tender(sandbox_client, "T-5", [seeded["clean"], seeded["red_list"]], ctx)
    assert {b.standing for b in screening.bidders} == {BidderStanding.INDETERMINATE}
    assert not screening.complete
