"""CreditClient over the memory platform: the eight steps, the failure policy, the query log."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from credit_sdk import (
    AuditError,
    Authorization,
    AuthorizationError,
    Catalog,
    CreditClient,
    Decision,
    FailurePolicy,
    Hook,
    InvalidIdentifier,
    InvalidQuery,
    MemoryProvider,
    MemoryQueryLog,
    Outcome,
    PlatformProtocolError,
    PlatformUnavailable,
    PolicyError,
    QueryCompletion,
    QueryContext,
    QueryIntent,
    ReasonCode,
    Scenario,
    decide,
    parse_identifier,
)
from tests.client.conftest import (
    COMPANY,
    KEY,
    OTHER_COMPANY,
    PERSON,
    FakeClock,
    dishonest_person_report,
    severe_company_report,
)
from tests.legal.builders import AS_OF


class FlakyLog(MemoryQueryLog):
    """A memory log whose writes fail on demand (a full disk, a lost database)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_intents = False
        self.fail_completions = False

    def append(self, records: Sequence[QueryIntent | QueryCompletion]) -> None:
        if self.fail_intents and any(isinstance(r, QueryIntent) for r in records):
            raise AuditError("disk full")
        if self.fail_completions and any(isinstance(r, QueryCompletion) for r in records):
            raise AuditError("disk full")
        super().append(records)


def completions(log: MemoryQueryLog) -> list[QueryCompletion]:
    return [c for r in log.export() if (c := r.completion()) is not None]


def intents(log: MemoryQueryLog) -> list[QueryIntent]:
    return [i for r in log.export() if (i := r.intent()) is not None]


# --- the happy path -----------------------------------------------------------------------------


def test_check_decides_like_the_engine_and_logs_intent_then_completion(
    client: CreditClient, audit: MemoryQueryLog, catalog: Catalog, ctx: QueryContext
) -> None:
    decision = client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, ctx)
    report = client._cache.get_fresh((parse_identifier(COMPANY).pseudonym(KEY), None))
    assert report is not None
    expected = decide(report.report, Scenario.GOVERNMENT_PROCUREMENT, as_of=AS_OF, catalog=catalog)
    assert decision.outcome is expected.outcome is Outcome.RESTRICTED
    assert decision.applied_measure_ids == expected.applied_measure_ids
    assert decision.query_id is not None
    records = list(audit.export())
    assert [r.kind for r in records] == ["intent", "completion"]
    intent, completion = records[0].intent(), records[1].completion()
    assert intent is not None
    assert completion is not None
    assert intent.query_id == completion.query_id == decision.query_id
    assert intent.subject_pseudonym == parse_identifier(COMPANY).pseudonym(KEY)
    assert intent.subject_display == parse_identifier(COMPANY).masked
    assert (intent.organ, intent.operator, intent.matter_code) == (
        "230100-SCJGJ",
        "u1024",
        "LIC-FOOD",
    )
    assert completion.outcome == "RESTRICTED"
    assert completion.applied_measure_ids == decision.applied_measure_ids
    assert [tuple(s) for s in completion.lists] == list(decision.provenance.lists)
    assert audit.verify().ok


def test_a_cached_report_is_used_but_every_check_is_logged(
    client: CreditClient,
    platform: MemoryProvider,
    audit: MemoryQueryLog,
    ctx: QueryContext,
    clock: FakeClock,
) -> None:
    first = client.check(COMPANY, Scenario.BIDDING, ctx)
    second = client.check(COMPANY, Scenario.BIDDING, ctx)
    assert platform.calls["query_report"] == 1
    assert first.query_id != second.query_id
    assert audit.stats().intents == audit.stats().completions == 2
    clock.advance(61)  # past the default 60 s freshness
    client.check(COMPANY, Scenario.BIDDING, ctx)
    assert platform.calls["query_report"] == 2


def test_unknown_subject_gets_an_empty_report_and_a_clear_outcome(
    client: CreditClient, ctx: QueryContext
) -> None:
    assert client.check(OTHER_COMPANY, Scenario.BIDDING, ctx).outcome is Outcome.CLEAR


# --- steps 1 and 2: nothing happens before the identifier and the guard pass ---------------------


@pytest.mark.parametrize("bad", ["91230100MA1C2X3Y4X", "123", "", "ab:"])
def test_invalid_identifier_raises_before_any_io(
    client: CreditClient,
    platform: MemoryProvider,
    audit: MemoryQueryLog,
    ctx: QueryContext,
    bad: str,
) -> None:
    with pytest.raises(InvalidIdentifier):
        client.check(bad, Scenario.BIDDING, ctx)
    assert sum(platform.calls.values()) == 0
    assert audit.stats().records == 0


def test_missing_context_or_unknown_scenario_raise_before_any_io(
    client: CreditClient, platform: MemoryProvider, audit: MemoryQueryLog, ctx: QueryContext
) -> None:
    with pytest.raises(TypeError, match="ctx must be a QueryContext"):
        client.check(COMPANY, Scenario.BIDDING, None)  # type: ignore[arg-type]
    with pytest.raises(InvalidQuery, match=r"Art\. 27"):
        client.check(COMPANY, "lottery", ctx)
    assert sum(platform.calls.values()) == 0
    assert audit.stats().records == 0


def test_natural_person_in_personnel_scenarios_needs_a_covering_authorization(
    client: CreditClient,
    platform: MemoryProvider,
    audit: MemoryQueryLog,
    ctx: QueryContext,
    grant: Authorization,
) -> None:
    platform.set_report(PERSON, dishonest_person_report())
    with pytest.raises(AuthorizationError, match="Authorization"):
        client.check(PERSON, Scenario.CIVIL_SERVICE_HIRING, ctx)
    assert audit.stats().records == 0
    decision = client.check(PERSON, Scenario.CIVIL_SERVICE_HIRING, ctx, authorization=grant)
    assert decision.outcome is not Outcome.INDETERMINATE
    (intent,) = intents(audit)
    assert intent.authorization_id == "G-2026-0042"
    assert platform.queries[-1].authorization_id == "G-2026-0042"
    with pytest.raises(AuthorizationError, match="does not cover"):
        client.check(PERSON, Scenario.BIDDING, ctx, authorization=grant)


def test_expired_authorization_is_refused(
    make_client: Callable[..., CreditClient], ctx: QueryContext, grant: Authorization
) -> None:
    client = make_client(today=lambda: dt.date(2027, 3, 1))
    with pytest.raises(AuthorizationError, match="expired"):
        client.check(PERSON, Scenario.PROMOTION, ctx, authorization=grant)


def test_organisations_need_no_authorization_and_may_not_carry_one(
    client: CreditClient, ctx: QueryContext, grant: Authorization
) -> None:
    client.check(COMPANY, Scenario.CIVIL_SERVICE_HIRING, ctx)
    with pytest.raises(AuthorizationError):
        client.check(COMPANY, Scenario.CIVIL_SERVICE_HIRING, ctx, authorization=grant)


# --- steps 3 and 7: the query log fails closed ---------------------------------------------------


def test_intent_write_failure_fails_closed_before_any_fetch(
    make_client: Callable[..., CreditClient], platform: MemoryProvider, ctx: QueryContext
) -> None:
    log = FlakyLog()
    client = make_client(audit=log)
    log.fail_intents = True
    with pytest.raises(AuditError):
        client.check(COMPANY, Scenario.BIDDING, ctx)
    assert platform.calls["query_report"] == 0


def test_completion_write_failure_returns_no_decision(
    make_client: Callable[..., CreditClient], platform: MemoryProvider, ctx: QueryContext
) -> None:
    log = FlakyLog()
    client = make_client(audit=log)
    log.fail_completions = True
    with pytest.raises(AuditError):
        client.check(COMPANY, Scenario.BIDDING, ctx)
    assert platform.calls["query_report"] == 1
    assert log.stats().incomplete == 1


# --- the failure policy --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error", [PlatformUnavailable("down", status_code=503), PlatformProtocolError("garbage")]
)
def test_platform_failure_is_indeterminate_never_clear(
    client: CreditClient,
    platform: MemoryProvider,
    audit: MemoryQueryLog,
    ctx: QueryContext,
    error: Exception,
) -> None:
    platform.fail_next(error)  # type: ignore[arg-type]
    decision = client.check(OTHER_COMPANY, Scenario.BIDDING, ctx)
    assert decision.outcome is Outcome.INDETERMINATE
    assert ReasonCode.PLATFORM_UNAVAILABLE.value in decision.flags
    assert [a.code for a in decision.advisories] == [ReasonCode.PLATFORM_UNAVAILABLE]
    assert not decision.commitment_eligible
    assert not decision.measures
    (completion,) = completions(audit)
    assert completion.outcome == "INDETERMINATE"
    assert completion.error == type(error).__name__


def test_raise_on_unavailable_raises_after_the_completion_is_written(
    make_client: Callable[..., CreditClient],
    platform: MemoryProvider,
    audit: MemoryQueryLog,
    ctx: QueryContext,
) -> None:
    client = make_client(failure_policy=FailurePolicy.fail_closed(raise_on_unavailable=True))
    platform.fail_next(PlatformUnavailable("down"))
    with pytest.raises(PlatformUnavailable):
        client.check(COMPANY, Scenario.BIDDING, ctx)
    (completion,) = completions(audit)
    assert completion.error == "PlatformUnavailable"


def test_serve_stale_uses_a_cached_report_within_max_staleness(
    make_client: Callable[..., CreditClient],
    platform: MemoryProvider,
    audit: MemoryQueryLog,
    ctx: QueryContext,
    clock: FakeClock,
) -> None:
    client = make_client(failure_policy=FailurePolicy.serve_stale(max_staleness=3600))
    fresh = client.check(COMPANY, Scenario.BIDDING, ctx)
    clock.advance(600)  # past freshness, within max_staleness
    platform.fail_next(PlatformUnavailable("down"))
    stale = client.check(COMPANY, Scenario.BIDDING, ctx)
    assert stale.outcome is fresh.outcome
    assert ReasonCode.STALE_DATA.value in stale.flags
    assert any(a.code is ReasonCode.STALE_DATA for a in stale.advisories)
    assert completions(audit)[-1].flags == ("STALE_DATA",)
    clock.advance(3600)  # now too old even for serve_stale
    platform.fail_next(PlatformUnavailable("down"))
    assert client.check(COMPANY, Scenario.BIDDING, ctx).outcome is Outcome.INDETERMINATE


def test_fail_closed_never_serves_stale(
    client: CreditClient, platform: MemoryProvider, ctx: QueryContext, clock: FakeClock
) -> None:
    client.check(COMPANY, Scenario.BIDDING, ctx)
    clock.advance(61)
    platform.fail_next(PlatformUnavailable("down"))
    assert client.check(COMPANY, Scenario.BIDDING, ctx).outcome is Outcome.INDETERMINATE


def test_decide_errors_are_logged_then_raised(
    make_client: Callable[..., CreditClient], audit: MemoryQueryLog, ctx: QueryContext
) -> None:
    client = make_client(profile="cn-national-2026")
    with pytest.raises(PolicyError):
        client.check(COMPANY, Scenario.BIDDING, ctx, as_of=dt.date(2020, 1, 1))
    (completion,) = completions(audit)
    assert completion.error == "PolicyError"


# --- check_many ---------------------------------------------------------------------------------


def test_check_many_gives_per_subject_results_in_order(
    make_client: Callable[..., CreditClient],
    platform: MemoryProvider,
    audit: MemoryQueryLog,
    ctx: QueryContext,
) -> None:
    client = make_client(batch_size=2)
    subjects = [COMPANY, "not-an-id", OTHER_COMPANY, PERSON, COMPANY]
    results = client.check_many(subjects, Scenario.BIDDING, ctx)
    assert [r.index for r in results] == list(range(5))
    assert results[0].unwrap().outcome is Outcome.RESTRICTED
    assert isinstance(results[1].error, InvalidIdentifier)
    assert results[1].subject is None
    assert results[2].unwrap().outcome is Outcome.CLEAR
    assert results[3].ok  # bidding needs no authorisation for a person
    assert platform.calls["query_reports"] == 2  # 4 valid subjects in chunks of 2
    assert audit.stats().intents == audit.stats().completions == 4
    assert len({r.decision.query_id for r in results if r.decision}) == 4


def test_check_many_isolates_failures_per_subject(
    make_client: Callable[..., CreditClient], platform: MemoryProvider, ctx: QueryContext
) -> None:
    client = make_client(
        batch_size=1, failure_policy=FailurePolicy.fail_closed(raise_on_unavailable=True)
    )
    platform.fail_next(PlatformUnavailable("down"))
    results = client.check_many(
        [COMPANY, OTHER_COMPANY, PERSON], Scenario.CIVIL_SERVICE_HIRING, ctx
    )
    assert sum(isinstance(r.error, PlatformUnavailable) for r in results) == 1
    assert isinstance(results[2].error, AuthorizationError)
    assert sum(r.ok for r in results) == 1


def test_check_many_fails_closed_when_the_log_fails(
    make_client: Callable[..., CreditClient], platform: MemoryProvider, ctx: QueryContext
) -> None:
    log = FlakyLog()
    client = make_client(audit=log)
    log.fail_intents = True
    with pytest.raises(AuditError):
        client.check_many([COMPANY, OTHER_COMPANY], Scenario.BIDDING, ctx)
    assert platform.calls["query_reports"] == 0


# --- report, feedback, objections ---------------------------------------------------------------


def test_report_is_logged_as_report_only(
    client: CreditClient, audit: MemoryQueryLog, ctx: QueryContext
) -> None:
    report = client.report(COMPANY, ctx)
    assert report.subject.identifier == parse_identifier(COMPANY)
    (completion,) = completions(audit)
    assert completion.flags == ("REPORT_ONLY",)
    assert completion.report_id == report.report_id


def test_feedback_is_queued_durably_and_delivered_once(
    client: CreditClient, platform: MemoryProvider, audit: MemoryQueryLog, ctx: QueryContext
) -> None:
    decision = client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, ctx)
    first, *rest = decision.applied_measure_ids
    items = client.feedback(
        decision,
        applied=[first],
        not_applied=[(m, "already refused on other grounds") for m in rest],
        case_id="2026-118",
        implementing_department="230100-SCJGJ",
    )
    assert len(items) == len(decision.applied_measure_ids)
    # Queuing the same results again is harmless (same idempotency keys).
    client.feedback(
        decision, applied=[first], case_id="2026-118", implementing_department="230100-SCJGJ"
    )
    stats = client.flush(timeout=5)
    assert stats.pending == 0
    assert set(platform.feedback) == {i.idempotency_key for i in items}
    assert all(i.query_id == decision.query_id for i in platform.feedback.values())


@pytest.mark.parametrize(
    ("applied", "not_applied", "match"),
    [
        ((), (), "at least one"),
        (("NOT-IN-DECISION",), (), "not part"),
        (("X",), (("X", "r"),), None),
    ],
)
def test_feedback_is_validated_against_the_decision(
    client: CreditClient,
    ctx: QueryContext,
    applied: tuple[str, ...],
    not_applied: tuple[tuple[str, str], ...],
    match: str | None,
) -> None:
    decision = client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, ctx)
    if match is None:  # the same measure twice
        m = decision.applied_measure_ids[0]
        applied, not_applied, match = (m,), ((m, "r"),), "twice"
    with pytest.raises(InvalidQuery, match=match):
        client.feedback(
            decision,
            applied=applied,
            not_applied=not_applied,
            case_id="c",
            implementing_department="d",
        )


def test_feedback_needs_a_decision_from_a_client(
    client: CreditClient, catalog: Catalog, ctx: QueryContext
) -> None:
    bare = decide(client.report(COMPANY, ctx), Scenario.BIDDING, as_of=AS_OF, catalog=catalog)
    with pytest.raises(InvalidQuery, match="query id"):
        client.feedback(bare, applied=["x"], case_id="c", implementing_department="d")


def test_feedback_survives_a_long_outage_without_burning_attempts(
    client: CreditClient, platform: MemoryProvider, audit: MemoryQueryLog, ctx: QueryContext
) -> None:
    decision = client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, ctx)
    client._sender.stop()  # drive the sender by hand
    client.feedback(
        decision,
        applied=list(decision.applied_measure_ids),
        case_id="c",
        implementing_department="d",
    )
    platform.fail_next(PlatformUnavailable("down"))
    sender = client._sender
    now = [0.0]
    sender._clock = lambda: now[0]  # a hand-driven clock: probes are rate-bounded
    assert sender.step(platform) > 0  # the delivery failed: no attempt used (no answer)
    # Hours of outage: only health probes, the items stay pending with their attempt count.
    platform.fail_next(PlatformUnavailable("down"), times=200)
    for _ in range(200):
        now[0] += sender.max_backoff + sender.probe_interval
        assert sender.step(platform) > 0
    assert max(sender.backoff(50) for _ in range(20)) <= sender.max_backoff
    stats = audit.outbox_stats()
    assert stats.pending == len(decision.applied_measure_ids)
    assert stats.dead == 0
    platform.clear_failures()
    now[0] += sender.max_backoff + sender.probe_interval
    assert sender.step(platform) == 0  # health answers, then the batch is delivered
    assert sender.step(platform) == 0.0 or audit.outbox_stats().pending == 0
    assert audit.outbox_stats().delivered == len(decision.applied_measure_ids)


def test_file_objection_returns_the_art_53_due_dates(
    client: CreditClient, platform: MemoryProvider, ctx: QueryContext
) -> None:
    receipt = client.file_objection(COMPANY, "L1", "the listing was revoked", ctx=ctx)
    assert receipt.objection_id.startswith("OBJ-")
    assert receipt.label_due is not None
    assert receipt.decision_due is not None
    assert receipt.label_due > receipt.received_on
    assert receipt.decision_due > receipt.label_due
    assisted = client.file_objection(COMPANY, "L1", "again", needs_assistance=True, ctx=ctx)
    assert assisted.needs_assistance
    assert assisted.decision_due is not None
    assert assisted.decision_due > receipt.decision_due
    assert platform.objections[0].organ == "230100-SCJGJ"


def test_file_objection_files_even_without_calendar_data(
    make_client: Callable[..., CreditClient], ctx: QueryContext
) -> None:
    # Art. 53 objections are the subject's right: filed even when no calendar knows the year;
    # the receipt then carries weekends-only estimates, marked provisional, never None.
    far = MemoryProvider({COMPANY: severe_company_report()}, today=lambda: dt.date(2099, 6, 1))
    client = make_client(provider=far)
    receipt = client.file_objection(COMPANY, "L1", "reason", ctx=ctx)
    assert far.calls["file_objection"] == 1
    assert receipt.objection_id.startswith("OBJ-")
    assert receipt.label_due == dt.date(2099, 6, 2)  # 1 June 2099 is a Monday
    assert receipt.decision_due == dt.date(2099, 6, 4)
    assert receipt.due_dates_provisional
    assert receipt.label.estimated_years == (2099,)
    assert "provisional" in str(receipt.decision)


# --- hooks, status, lifecycle --------------------------------------------------------------------


class Recorder(Hook):
    def __init__(self) -> None:
        self.events: list[str] = []

    def before(self, info: Any) -> None:
        self.events.append(f"before:{info.subject_masked}")

    def after(self, info: Any, decision: Decision) -> None:
        self.events.append(f"after:{decision.outcome.value}")

    def error(self, info: Any, error: BaseException) -> None:
        self.events.append(f"error:{type(error).__name__}")


class Broken(Hook):
    def before(self, info: Any) -> None:
        raise RuntimeError(f"hook bug with {COMPANY}")

    def after(self, info: Any, decision: Decision) -> None:
        raise RuntimeError("hook bug")


def test_hooks_see_masked_subjects_and_their_failures_never_reach_the_host(
    make_client: Callable[..., CreditClient],
    ctx: QueryContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    client = make_client(hooks=[Broken(), recorder])
    with caplog.at_level(logging.ERROR, logger="credit_sdk"):
        decision = client.check(COMPANY, Scenario.BIDDING, ctx)
    assert recorder.events == [
        f"before:{parse_identifier(COMPANY).masked}",
        f"after:{decision.outcome.value}",
    ]
    assert "hook bug" in caplog.text
    assert COMPANY not in caplog.text
    with pytest.raises(InvalidIdentifier):
        client.check("bad", Scenario.BIDDING, ctx)  # before the hooks: nothing to see


def test_status_reports_lists_breaker_and_outbox(client: CreditClient, catalog: Catalog) -> None:
    status = client.status()
    assert status.ready
    assert status.lists_source == "pinned"
    assert not status.lists_stale
    assert status.breaker == "closed"
    assert status.outbox is not None
    assert len(status.lists) == len(catalog.lists) == len(client.lists())
    assert client.wait_until_ready(timeout=1).ready


def test_closed_client_refuses_new_work(client: CreditClient, ctx: QueryContext) -> None:
    client.check(COMPANY, Scenario.BIDDING, ctx)
    client.close()
    client.close()  # idempotent
    with pytest.raises(Exception, match="closed"):
        client.check(COMPANY, Scenario.BIDDING, ctx)


def test_context_manager_closes(
    platform: MemoryProvider, audit: MemoryQueryLog, catalog: Catalog, ctx: QueryContext
) -> None:
    with CreditClient(provider=platform, audit=audit, pseudonym_key=KEY, catalog=catalog) as c:
        c.check(COMPANY, Scenario.BIDDING, ctx)
        thread = c._sender._thread
        assert thread is not None
        assert thread.is_alive()
    assert not thread.is_alive()


def test_a_forked_child_starts_its_own_background_threads(
    client: CreditClient, ctx: QueryContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    client.check(COMPANY, Scenario.BIDDING, ctx)
    parent_thread = client._sender._thread
    real = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: real + 1)
    client._sender._thread = None  # as after fork(): the parent's thread does not exist
    client.check(COMPANY, Scenario.BIDDING, ctx)
    child_thread = client._sender._thread
    assert child_thread is not None
    assert child_thread is not parent_thread
    monkeypatch.undo()
    client._sender.stop()
    assert parent_thread is not None
    parent_thread.join(5)


def test_with_options_shares_the_client_but_not_its_policy(
    client: CreditClient, platform: MemoryProvider, audit: MemoryQueryLog, ctx: QueryContext
) -> None:
    strict = client.with_options(
        failure_policy=FailurePolicy.fail_closed(raise_on_unavailable=True)
    )
    platform.fail_next(PlatformUnavailable("down"), times=2)
    assert client.check(OTHER_COMPANY, Scenario.BIDDING, ctx).outcome is Outcome.INDETERMINATE
    with pytest.raises(PlatformUnavailable):
        strict.check(OTHER_COMPANY, Scenario.BIDDING, ctx)
    strict.close()  # a view: the client stays usable
    assert client.check(COMPANY, Scenario.BIDDING, ctx).outcome is Outcome.RESTRICTED
    assert audit.stats().completions == 3
    with pytest.raises(ValueError, match="serve_stale"):
        client.with_options(failure_policy=FailurePolicy.serve_stale(3600))


def test_check_many_runs_in_rounds_each_logged_before_its_fetch(
    make_client: Callable[..., CreditClient],
    platform: MemoryProvider,
    audit: MemoryQueryLog,
    ctx: QueryContext,
) -> None:
    # Rounds of batch_size × batch_concurrency subjects: intents of a round are durable before
    # its fetch, its completions before the next round starts; one list snapshot for the call.
    client = make_client(batch_size=2, batch_concurrency=1, cache_ttl=0)
    subjects = [COMPANY, OTHER_COMPANY, COMPANY, OTHER_COMPANY, COMPANY]
    results = client.check_many(subjects, Scenario.BIDDING, ctx)
    assert all(r.ok for r in results)
    kinds = [r.kind for r in audit.export()]
    assert kinds == ["intent"] * 2 + ["completion"] * 2 + ["intent"] * 2 + ["completion"] * 2 + [
        "intent",
        "completion",
    ]
    assert platform.calls["query_reports"] == 3
    assert len({r.unwrap().provenance.lists for r in results}) == 1
