"""Licensing helper: commitment route (Art. 28), green channel (Art. 40(1)), Art. 30 due date
and breach reports through the durable feedback outbox, on the memory platform and the
sandbox, sync and async."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
from credit_sdk.adapters.licensing import (
    CommitmentBreach,
    acheck_applicant,
    approve_by_commitment,
    areport_commitment_breach,
    check_applicant,
    report_commitment_breach,
    verification_due,
)

from credit_sdk import (
    AsyncCreditClient,
    BasisDocument,
    CreditClient,
    InvalidQuery,
    MemoryQueryLog,
    Outcome,
    PolicyProfile,
    QueryContext,
    ReasonCode,
    open_query_log,
)
from credit_sdk.testing import CreditPlatform, fake_uscc
from tests.workflows.conftest import assert_no_raw_identifiers

D = dt.date


# --- Art. 30: counting two calendar months ------------------------------------------------------


@pytest.mark.parametrize(
    ("approved", "months", "due"),
    [
        (D(2026, 3, 2), 2, D(2026, 5, 2)),  # same day of the month
        (D(2026, 12, 31), 2, D(2027, 2, 28)),  # no 31 February: the month's last day
        (D(2027, 12, 31), 2, D(2028, 2, 29)),  # leap year
        (D(2026, 8, 31), 2, D(2026, 10, 31)),
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2026, 11, 15), 2, D(2027, 1, 15)),  # across the year end
        (D(2026, 9, 30), 2, D(2026, 11, 30)),  # not moved off National Day or weekends
    ],
)
def test_verification_due_counts_calendar_months_clamped_to_month_end(
    approved: dt.date, months: int, due: dt.date
) -> None:
    assert verification_due(approved, months) == due


def test_verification_due_refuses_nonsense() -> None:
    with pytest.raises(InvalidQuery):
        verification_due(D(2026, 1, 1), 0)
    with pytest.raises(InvalidQuery):
        verification_due(dt.datetime(2026, 1, 1, 12, 0), 2)  # type: ignore[arg-type]


# --- the commitment route and the green channel (memory platform) -------------------------------


def test_clean_applicant_may_choose_the_commitment_route(
    credit_client: CreditClient, ctx: QueryContext
) -> None:
    check = check_applicant(credit_client, fake_uscc(1), ctx)
    assert check.outcome is Outcome.CLEAR
    assert check.commitment_route
    assert check.commitment_route.reason is ReasonCode.COMMITMENT_ALLOWED
    assert check.green_channel == ()
    assert not check.needs_review
    assert check.query_id == check.decision.query_id is not None
    assert "可以适用" in check.render()


def test_red_list_applicant_gets_the_green_channel(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    credit_platform.subject(fake_uscc(2)).on_red_list()
    check = check_applicant(credit_client, fake_uscc(2), ctx)
    assert check.outcome is Outcome.INCENTIVES
    assert {m.measure_id for m in check.green_channel} == {"HLJ-INC-40.1-01", "HLJ-INC-40.1-02"}
    assert all(m.range_item == "40.1" for m in check.green_channel)
    assert check.commitment_route.allowed
    assert "绿色通道" in check.render()


def test_severe_applicant_is_refused_the_route_and_facilitation(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    company = credit_platform.subject(fake_uscc(3)).on_severe_list(category="bid_rigging")
    check = check_applicant(credit_client, company.identifier, ctx)
    route = check.commitment_route
    assert not route
    assert route.reason is ReasonCode.SEVERE_DISHONESTY
    assert "严重失信主体" in route.explanation
    assert {t.item_id for t in route.triggered_by} == set(company.item_ids)
    assert "HLJ-RES-41.1-01" in {m.measure_id for m in check.facilitation_withheld}
    assert check.green_channel == ()
    # The summary shows the legal basis and implementing body of every withheld facilitation.
    text = check.render()
    after = text.split("不适用便利化服务 Facilitation withheld (Art. 41):\n")[1].splitlines()
    block = "\n".join(
        itertools.takewhile(lambda line: line.startswith("    "), after)
    )  # the section's own lines, up to the next heading
    for m in check.facilitation_withheld:
        assert m.title in block
        for basis in m.legal_basis:
            assert basis in block
        assert m.implementing_body in block
    assert "设定依据 Legal basis" in text
    assert "Legal basis" not in check.render("zh")
    with pytest.raises(InvalidQuery, match="commitment route is closed"):
        approve_by_commitment(check, case_id="2026-118", approved_on=D(2026, 11, 29))


@pytest.mark.parametrize("unfulfilled", [False, True])
def test_false_or_unfulfilled_commitment_closes_the_route(
    credit_platform: CreditPlatform,
    credit_client: CreditClient,
    ctx: QueryContext,
    unfulfilled: bool,
) -> None:
    credit_platform.subject(fake_uscc(4)).with_false_commitment(unfulfilled=unfulfilled)
    check = check_applicant(credit_client, fake_uscc(4), ctx)
    assert check.commitment_route.reason is ReasonCode.FALSE_COMMITMENT
    assert "虚假承诺" in check.commitment_route.explanation
    assert {m.measure_id for m in check.facilitation_withheld} >= {"HLJ-RES-41.1-02"}


def test_disputed_severe_listing_closes_the_route_pending_review(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    credit_platform.subject(fake_uscc(5)).with_disputed_severe_listing()
    check = check_applicant(credit_client, fake_uscc(5), ctx)
    assert check.outcome is Outcome.REVIEW
    assert check.needs_review
    assert check.commitment_route.reason is ReasonCode.RECORD_DISPUTED
    assert "待复核" in check.render()


def test_platform_down_never_opens_the_route(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    credit_platform.down()
    check = check_applicant(credit_client, fake_uscc(6), ctx)
    assert check.outcome is Outcome.INDETERMINATE
    assert check.needs_review
    assert not check.commitment_route
    assert check.commitment_route.reason is ReasonCode.PLATFORM_UNAVAILABLE


def test_certification_is_a_licensing_scenario_and_bidding_is_not(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    assert check_applicant(credit_client, fake_uscc(7), ctx, scenario="certification")
    with pytest.raises(InvalidQuery, match="admin_licensing and certification"):
        check_applicant(credit_client, fake_uscc(7), ctx, scenario="bidding")
    assert credit_platform.calls["query_report"] == 1  # the refusal came before any query


def test_results_keep_identifiers_masked(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    credit_platform.subject(fake_uscc(8)).on_severe_list().on_red_list()
    check = check_applicant(credit_client, fake_uscc(8), ctx)
    approval_check = check_applicant(credit_client, fake_uscc(9), ctx)
    approval = approve_by_commitment(approval_check, case_id="C-1", approved_on=D(2026, 1, 5))
    assert_no_raw_identifiers(
        check.render(), check.to_dict(), repr(check), repr(approval), approval.to_dict()
    )


# --- approval and the Art. 30 due date ----------------------------------------------------------


def test_approval_carries_the_verification_due_date(
    credit_client: CreditClient, ctx: QueryContext
) -> None:
    check = check_applicant(credit_client, fake_uscc(10), ctx)
    approval = approve_by_commitment(check, case_id=" 2026-118 ", approved_on=D(2026, 12, 31))
    assert approval.case_id == "2026-118"
    assert approval.verification_due == D(2027, 2, 28)
    assert approval.decision is check.decision
    with pytest.raises(InvalidQuery, match="identifier"):
        approve_by_commitment(check, case_id=f"case {fake_uscc(10)}", approved_on=D(2026, 1, 1))
    with pytest.raises(InvalidQuery):
        approve_by_commitment(check, case_id="  ", approved_on=D(2026, 1, 1))


def test_verification_period_follows_the_policy_profile(
    credit_platform: CreditPlatform, ctx: QueryContext
) -> None:
    profile = PolicyProfile.default().model_copy(
        update={"profile_id": "three-months", "commitment_verification_months": 3}
    )
    with credit_platform.client(profile=profile) as client:
        check = check_applicant(client, fake_uscc(11), ctx)
    assert check.verification_months == 3
    approval = approve_by_commitment(check, case_id="C-3", approved_on=D(2026, 11, 30))
    assert approval.verification_due == D(2027, 2, 28)


# --- breach reports (Art. 30 → an Art. 22 push with its document) -------------------------------

DECISION = BasisDocument(
    kind="administrative_decision",
    number="哈市监信诺〔2026〕12号",
    issuer="哈尔滨市市场监督管理局",
    issued_on=D(2026, 9, 20),
    effective=True,
)


def _approval(client: CreditClient, ctx: QueryContext, n: int, approved_on: dt.date) -> Any:
    check = check_applicant(client, fake_uscc(n), ctx)
    return approve_by_commitment(check, case_id=f"LIC-{n}", approved_on=approved_on)


def _report(client: CreditClient, approval: Any, n: int, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "subject": fake_uscc(n),
        "breach": "false",
        "found_on": D(2026, 10, 20),
        "detail": "经营场所与承诺不符",
        "implementing_department": "230100-SCJGJ",
        "document": DECISION,
    }
    fields.update(changes)
    return report_commitment_breach(client, approval, **fields)


def test_breach_report_is_an_art_22_push_with_its_document_once(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    approval = _approval(credit_client, ctx, 12, D(2026, 9, 1))
    report = _report(credit_client, approval, 12)
    assert report.breach is CommitmentBreach.FALSE
    assert report.within_verification_period
    assert "撤销行政许可决定" in report.next_steps
    assert report.receipt.article == "Art. 22"
    assert report.receipt.record_id == "ART30-FALSE-COMMITMENT:LIC-12"
    # Found Tuesday 20 Oct 2026: five working days later is Tuesday 27 Oct.
    assert report.receipt.due_on == D(2026, 10, 27)
    again = _report(credit_client, approval, 12, breach=CommitmentBreach.FALSE)
    assert again.receipt.idempotency_key == report.receipt.idempotency_key
    stats = credit_client.flush(timeout=5)
    assert stats.pending == 0
    (item,) = credit_platform.duties_for(fake_uscc(12))
    assert item.kind == "push"
    assert item.body["category"] == "commitment_breach"
    assert item.body["document"]["number"] == "哈市监信诺〔2026〕12号"
    assert str(item.body["summary"]).startswith("虚假承诺 (Art. 30)")
    assert_no_raw_identifiers(repr(report))


def test_unfulfilled_commitment_found_after_the_due_date(
    credit_platform: CreditPlatform, credit_client: CreditClient, ctx: QueryContext
) -> None:
    approval = _approval(credit_client, ctx, 13, D(2026, 6, 1))
    report = _report(
        credit_client,
        approval,
        13,
        breach="unfulfilled",
        found_on=D(2026, 9, 25),
        detail="逾期未提交承诺材料",
    )
    assert not report.within_verification_period  # due 2026-08-01
    credit_client.flush(timeout=5)
    assert [d.body["record_id"] for d in credit_platform.duties] == [
        "ART30-UNFULFILLED-COMMITMENT:LIC-13"
    ]


def test_breach_report_refuses_bad_input(
    credit_platform: CreditPlatform,
    credit_client: CreditClient,
    credit_query_log: MemoryQueryLog,
    ctx: QueryContext,
) -> None:
    approval = _approval(credit_client, ctx, 14, D(2026, 9, 1))
    unsigned = BasisDocument(
        kind="administrative_decision",
        number="哈市监信诺〔2026〕14号",
        issuer="哈尔滨市市场监督管理局",
        issued_on=D(2026, 9, 20),
        effective=False,
    )
    for bad in (
        {"breach": "lied"},
        {"found_on": D(2026, 8, 1)},  # before the approval
        {"detail": ""},
        {"detail": "x" * 401},
        {"detail": f"法定代表人身份证号 {fake_uscc(14)}"},  # no identifiers in the report
        {"subject": fake_uscc(99)},  # not the applicant the approval was decided for
        {"document": unsigned},  # Art. 22: with its *effective* legal document
    ):
        with pytest.raises(InvalidQuery):
            _report(credit_client, approval, 14, **({"found_on": D(2026, 9, 20)} | bad))
    with pytest.raises(TypeError):
        _report(credit_client, approval, 14, found_on=D(2026, 9, 20), document=None)
    assert credit_query_log.outbox_stats().pending == 0
    assert not credit_platform.duties


def test_breach_report_survives_a_restart_while_the_platform_is_down(
    tmp_path: Path, ctx: QueryContext
) -> None:
    # Durable: queued in the SQLite outbox while the platform is down, the process "restarts",
    # and the next client on the same log delivers it.
    platform = CreditPlatform()
    path = tmp_path / "audit.db"
    log = open_query_log(path)
    try:
        with platform.client(audit=log) as client:
            approval = _approval(client, ctx, 16, D(2026, 9, 1))
            platform.down(route="duties")
            _report(client, approval, 16, found_on=D(2026, 9, 20))
        assert platform.duties == []
    finally:
        log.close()
    platform.up()
    log = open_query_log(path)
    try:
        with platform.client(audit=log) as client:
            assert client.flush(timeout=5).pending == 0
    finally:
        log.close()
    assert [d.body["record_id"] for d in platform.duties] == ["ART30-FALSE-COMMITMENT:LIC-16"]


# --- async ----------------------------------------------------------------------------------


def test_async_twins(
    credit_platform: CreditPlatform, async_credit_client: AsyncCreditClient, ctx: QueryContext
) -> None:
    credit_platform.subject(fake_uscc(17)).on_red_list()

    async def main() -> None:
        async with async_credit_client as client:
            check = await acheck_applicant(client, fake_uscc(17), ctx)
            assert check.green_channel
            approval = approve_by_commitment(check, case_id="LIC-17", approved_on=D(2026, 9, 1))
            report = await areport_commitment_breach(
                client,
                approval,
                subject=fake_uscc(17),
                breach="unfulfilled",
                found_on=D(2026, 10, 1),
                detail="未按承诺期限补交材料",
                implementing_department="230100-SCJGJ",
                document=DECISION,
            )
            # Found 1 Oct (National Day): 8, 9 Oct, Saturday 10 Oct (调休), 12 and 13 Oct.
            assert report.receipt.due_on == D(2026, 10, 13)
            await client.flush(timeout=5)
            with pytest.raises(InvalidQuery):
                await acheck_applicant(client, fake_uscc(17), ctx, scenario="awards")

    asyncio.run(main())
    assert [d.body["record_id"] for d in credit_platform.duties] == [
        "ART30-UNFULFILLED-COMMITMENT:LIC-17"
    ]


# --- against the sandbox ----------------------------------------------------------------------


def test_sandbox_licensing_workflow(
    sandbox: Any,
    seeded: dict[str, Any],
    sandbox_client: CreditClient,
    sandbox_log: MemoryQueryLog,
    ctx: QueryContext,
) -> None:
    red = check_applicant(sandbox_client, seeded["red_list"], ctx)
    assert {m.measure_id for m in red.green_channel} == {"HLJ-INC-40.1-01", "HLJ-INC-40.1-02"}
    false = check_applicant(sandbox_client, seeded["false_commitment"], ctx)
    assert false.commitment_route.reason is ReasonCode.FALSE_COMMITMENT
    severe = check_applicant(sandbox_client, seeded["severe_list"], ctx)
    assert severe.commitment_route.reason is ReasonCode.SEVERE_DISHONESTY

    clean = check_applicant(sandbox_client, seeded["clean"], ctx)
    approval = approve_by_commitment(clean, case_id="LIC-SBX-1", approved_on=D(2026, 9, 1))
    for _ in range(2):
        report_commitment_breach(
            sandbox_client,
            approval,
            subject=seeded["clean"],
            breach="false",
            found_on=D(2026, 10, 9),
            detail="现场核查发现经营场所与承诺不符",
            implementing_department="230100-SCJGJ",
            document=DECISION,
        )
    assert sandbox_client.flush(timeout=10).pending == 0
    received = [
        d for d in sandbox.admin.duties() if d["record_id"] == "ART30-FALSE-COMMITMENT:LIC-SBX-1"
    ]
    assert len(received) == 1
    assert received[0]["kind"] == "push"
    assert received[0]["body"]["document"]["number"] == DECISION.number
