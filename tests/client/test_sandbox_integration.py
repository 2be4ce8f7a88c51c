"""The clients against the real sandbox platform on loopback: every fault the sandbox can
inject, with the failure policy, retries, the breaker and the query log checked each time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import (
    AsyncCreditClient,
    CreditClient,
    FailurePolicy,
    MemoryQueryLog,
    Outcome,
    PlatformError,
    PlatformProtocolError,
    QueryContext,
    RetryPolicy,
    Scenario,
)
from credit_sdk._identifiers import compute_uscc_check
from tests.client.conftest import KEY, FakeClock
from tests.legal.builders import AS_OF


def seeded(sandbox: Any, state: str) -> Any:
    return next(s for s in sandbox.seeded if s.state == state).identifier


def completions(log: MemoryQueryLog) -> list[Any]:
    return [c for r in log.export() if (c := r.completion()) is not None]


@pytest.fixture
def connect(
    sandbox: Any, tmp_path: Path, clock: FakeClock
) -> Iterator[Callable[..., CreditClient]]:
    made: list[CreditClient] = []

    def build(**options: Any) -> CreditClient:
        kwargs: dict[str, Any] = {
            "token": sandbox.token,
            "audit": MemoryQueryLog(),
            "pseudonym_key": KEY,
            "lists_dir": tmp_path / "lists",
            "list_sync_interval": None,
            "today": lambda: AS_OF,
            "clock": clock,
            "retry": RetryPolicy(
                max_attempts=3, initial_backoff=0.01, max_backoff=0.05, retry_after_cap=0.05
            ),
            "feedback_poll_interval": 0.05,
        }
        kwargs.update(options)
        client = CreditClient(sandbox.url, **kwargs)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()
        client._audit.close()


def test_checks_against_the_sandbox_decide_and_log_every_query(
    connect: Callable[..., CreditClient], sandbox: Any, ctx: QueryContext
) -> None:
    client = connect()
    status = client.wait_until_ready(timeout=5)
    assert status.lists_source == "platform"
    assert not status.lists_stale
    outcomes = {
        state: client.check(seeded(sandbox, state), Scenario.GOVERNMENT_PROCUREMENT, ctx).outcome
        for state in ("severe_list", "clean", "red_list")
    }
    assert outcomes == {
        "severe_list": Outcome.RESTRICTED,
        "clean": Outcome.CLEAR,
        "red_list": Outcome.INCENTIVES,
    }
    stats = client._audit.stats()
    assert stats.intents == stats.completions == 3
    assert client._audit.verify().ok
    # The index is asked with If-None-Match: unchanged lists are not fetched again.
    before = sandbox.admin.requests()
    assert client.sync_lists() is False
    after = sandbox.admin.requests()
    assert after.get("measure-lists", 0) == before.get("measure-lists", 0) + 1


def test_hmac_signed_requests_are_accepted_and_bad_secrets_refused(
    connect: Callable[..., CreditClient], sandbox: Any, ctx: QueryContext
) -> None:
    client = connect(token=None, app_id=sandbox.app_id, app_secret=sandbox.app_secret)
    assert client.check(seeded(sandbox, "severe_list"), Scenario.BIDDING, ctx).outcome is (
        Outcome.RESTRICTED
    )
    wrong = connect(
        token=None,
        app_id=sandbox.app_id,
        app_secret=b"x" * 32,
        failure_policy=FailurePolicy.fail_closed(raise_on_unavailable=True),
    )
    with pytest.raises(PlatformError) as err:
        wrong.check(seeded(sandbox, "clean"), Scenario.BIDDING, ctx)
    assert err.value.status_code in (401, 403)
    assert completions(wrong._audit)[-1].error == "PlatformError"


def test_retry_after_is_honoured_and_the_retry_succeeds(
    connect: Callable[..., CreditClient], sandbox: Any, ctx: QueryContext
) -> None:
    client = connect()
    client.wait_until_ready(timeout=5)
    sandbox.admin.inject_fault("reports:query", status=503, retry_after=1, times=2)
    sandbox.admin.reset_requests()
    decision = client.check(seeded(sandbox, "severe_list"), Scenario.BIDDING, ctx)
    assert decision.outcome is Outcome.RESTRICTED
    assert sandbox.admin.requests()["reports:query"] == 3


@pytest.mark.parametrize("times", [1, None])
def test_connection_reset_is_retried_then_indeterminate(
    connect: Callable[..., CreditClient], sandbox: Any, ctx: QueryContext, times: int | None
) -> None:
    client = connect()
    client.wait_until_ready(timeout=5)
    sandbox.admin.inject_fault("reports:query", mode="reset", times=times)
    sandbox.admin.reset_requests()
    decision = client.check(seeded(sandbox, "severe_list"), Scenario.BIDDING, ctx)
    if times == 1:
        assert decision.outcome is Outcome.RESTRICTED
    else:
        assert decision.outcome is Outcome.INDETERMINATE
        assert completions(client._audit)[-1].error == "PlatformUnavailable"
        assert sandbox.admin.requests()["reports:query"] == 3


@pytest.mark.parametrize(
    "fault",
    [
        {"mode": "truncate"},
        {"mode": "malformed"},
        {"mode": "wrong_schema"},
        {"mode": "wrong_content_type"},
        {"mode": "oversized", "size_bytes": 256 * 1024},
    ],
    ids=lambda f: f["mode"],
)
def test_broken_answers_are_protocol_errors_under_the_failure_policy(
    connect: Callable[..., CreditClient], sandbox: Any, ctx: QueryContext, fault: dict[str, Any]
) -> None:
    client = connect(max_response_bytes=64 * 1024)
    strict = connect(
        max_response_bytes=64 * 1024,
        failure_policy=FailurePolicy.fail_closed(raise_on_unavailable=True),
    )
    client.wait_until_ready(timeout=5)
    sandbox.admin.inject_fault("reports:query", **fault)
    decision = client.check(seeded(sandbox, "severe_list"), Scenario.BIDDING, ctx)
    assert decision.outcome is Outcome.INDETERMINATE
    assert completions(client._audit)[-1].error == "PlatformProtocolError"
    with pytest.raises(PlatformProtocolError):
        strict.check(seeded(sandbox, "severe_list"), Scenario.BIDDING, ctx)


def test_the_breaker_opens_on_a_dead_platform_and_recovers(
    connect: Callable[..., CreditClient], sandbox: Any, ctx: QueryContext, clock: FakeClock
) -> None:
    client = connect(
        breaker_threshold=2, breaker_recovery=30, cache_ttl=0, retry=RetryPolicy(max_attempts=1)
    )
    client.wait_until_ready(timeout=5)
    subject = seeded(sandbox, "severe_list")
    sandbox.admin.inject_fault("reports:query", status=503)
    sandbox.admin.reset_requests()
    for _ in range(2):
        assert client.check(subject, Scenario.BIDDING, ctx).outcome is Outcome.INDETERMINATE
    assert client.status().breaker == "open"
    fast = client.check(subject, Scenario.BIDDING, ctx)  # answered without a request
    assert fast.outcome is Outcome.INDETERMINATE
    assert sandbox.admin.requests()["reports:query"] == 2
    sandbox.admin.clear_faults()
    clock.advance(31)
    assert client.check(subject, Scenario.BIDDING, ctx).outcome is Outcome.RESTRICTED
    assert client.status().breaker == "closed"
    assert client._audit.stats().incomplete == 0


def test_serve_stale_decides_on_the_cached_report_while_the_platform_is_down(
    connect: Callable[..., CreditClient], sandbox: Any, ctx: QueryContext, clock: FakeClock
) -> None:
    client = connect(failure_policy=FailurePolicy.serve_stale(max_staleness=3600))
    client.wait_until_ready(timeout=5)
    subject = seeded(sandbox, "severe_list")
    client.check(subject, Scenario.BIDDING, ctx)
    clock.advance(300)
    sandbox.admin.inject_fault("reports:query", status=503)
    stale = client.check(subject, Scenario.BIDDING, ctx)
    assert stale.outcome is Outcome.RESTRICTED
    assert "STALE_DATA" in stale.flags


def test_check_many_uses_the_batch_endpoint_in_bounded_chunks(
    connect: Callable[..., CreditClient], sandbox: Any, ctx: QueryContext
) -> None:
    client = connect()
    client.wait_until_ready(timeout=5)
    extra = [f"91230100MA{n:07d}" for n in range(140)]
    subjects = [s.identifier for s in sandbox.seeded] + [b + compute_uscc_check(b) for b in extra]
    subjects.append("not-an-identifier")
    sandbox.admin.reset_requests()
    results = client.check_many(subjects, Scenario.BIDDING, ctx)
    assert len(results) == len(subjects)
    assert sandbox.admin.requests()["reports:batchQuery"] == 2
    assert sum(r.ok for r in results) == len(subjects) - 1
    by_state = {s.state: results[i] for i, s in enumerate(sandbox.seeded)}
    assert by_state["severe_list"].unwrap().outcome is Outcome.RESTRICTED
    stats = client._audit.stats()
    assert stats.intents == stats.completions == len(subjects) - 1


def test_feedback_reaches_the_platform_once_even_when_an_answer_is_lost(
    connect: Callable[..., CreditClient], sandbox: Any, ctx: QueryContext
) -> None:
    client = connect()
    client.wait_until_ready(timeout=5)
    decision = client.check(seeded(sandbox, "severe_list"), Scenario.GOVERNMENT_PROCUREMENT, ctx)
    client._sender.stop()  # deliver by hand through flush()
    client._sender.initial_backoff = 0.01
    sandbox.admin.inject_fault("feedback", mode="truncate", times=1)  # stored, answer lost
    client.feedback(
        decision,
        applied=list(decision.applied_measure_ids),
        case_id="2026-118",
        implementing_department="230100-SCJGJ",
    )
    stats = client.flush(timeout=10)
    assert stats.pending == 0
    assert stats.delivered == len(decision.applied_measure_ids)
    received = sandbox.admin.feedback()
    assert len(received) == len(decision.applied_measure_ids)
    assert {i["query_id"] for i in received} == {decision.query_id}


def test_objections_are_filed_with_due_dates(
    connect: Callable[..., CreditClient], sandbox: Any, ctx: QueryContext
) -> None:
    client = connect()
    subject = seeded(sandbox, "severe_list")
    report = client.report(subject, ctx, scenario=Scenario.BIDDING)
    item = (
        report.list_memberships[0].membership_id
        if report.list_memberships
        else report.records[0].record_id
    )
    receipt = client.file_objection(
        subject, item, "listing revoked", needs_assistance=True, ctx=ctx
    )
    assert receipt.objection_id
    # Always dates, whatever year the sandbox's clock is in; provisional exactly when the count
    # reaches a year the official calendar does not know.
    assert receipt.decision_due > receipt.label_due > receipt.received_on
    known = client.calendar.official_years
    beyond = known is None or receipt.decision_due.year > known[1]
    assert receipt.due_dates_provisional == beyond
    assert len(sandbox.admin.objections()) == 1


def test_the_async_client_against_the_sandbox(
    sandbox: Any, ctx: QueryContext, tmp_path: Path
) -> None:
    async def main() -> None:
        async with AsyncCreditClient(
            sandbox.url,
            token=sandbox.token,
            audit=MemoryQueryLog(),
            pseudonym_key=KEY,
            lists_dir=tmp_path,
            list_sync_interval=None,
            today=lambda: AS_OF,
            cache_ttl=0,
        ) as client:
            await client.wait_until_ready(timeout=5)
            subject = seeded(sandbox, "severe_list")
            decisions = await asyncio.gather(
                *(client.check(subject, Scenario.BIDDING, ctx) for _ in range(20))
            )
            assert {d.outcome for d in decisions} == {Outcome.RESTRICTED}
            results = await client.check_many(
                [s.identifier for s in sandbox.seeded], Scenario.BIDDING, ctx
            )
            assert all(r.ok for r in results)
            sandbox.admin.inject_fault("reports:query", status=503)
            down = await client.check(subject, Scenario.BIDDING, ctx)
            assert down.outcome is Outcome.INDETERMINATE

    asyncio.run(main())
