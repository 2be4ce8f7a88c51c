"""Cancellation and background workers: nothing shared is left behind, no worker dies quietly.

* A half-open breaker trial that is cancelled (``asyncio.wait_for``, ``task.cancel()``) or
  interrupted (a real SIGINT during a blocking read) releases the trial: the next call reaches
  the platform instead of the breaker refusing everything until a restart.
* A cancelled check still writes its completion record.
* The list-sync and feedback workers, thread and task, survive errors that are not the
  platform's usual ones (3,000 nested brackets, a provider bug) and say so in ``status()``,
  without the error's text; a fatal error leaves them visibly ``dead``.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import (
    AsyncCreditClient,
    BearerToken,
    CreditClient,
    FeedbackItem,
    MemoryProvider,
    MemoryQueryLog,
    Outcome,
    PlatformProtocolError,
    PlatformUnavailable,
    QueryContext,
    RetryPolicy,
    Scenario,
)
from credit_sdk._identifiers import parse_identifier
from credit_sdk._providers import AsyncHttpProvider, HttpProvider, ReportQuery
from credit_sdk._transport import AsyncTransport, CircuitBreaker, SyncTransport, TransportConfig
from tests.client import faultserver as fs
from tests.client.conftest import COMPANY, KEY, FakeClock, severe_company_report
from tests.legal.builders import AS_OF

REPORT = "/v1/reports:query"
INDEX = "/v1/measure-lists"
SECRET_TEXT = "110101199003077777 张三 13800138000"  # what a careless error could leak

CTX = QueryContext(
    organ="230100-SCJGJ",
    operator="u1024",
    matter_code="LIC-FOOD",
    purpose="food business licence application 2026-118",
)


def query() -> ReportQuery:
    return ReportQuery("q-cancel-0001", parse_identifier(COMPANY), Scenario.BIDDING, CTX)


def config(url: str) -> TransportConfig:
    return TransportConfig(
        url, BearerToken("t0ken-for-cancel"), retry=RetryPolicy(max_attempts=1), deadline=10.0
    )


def half_open_breaker() -> tuple[CircuitBreaker, FakeClock]:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_time=5, clock=clock)
    breaker.record_failure()
    clock.advance(10)
    assert breaker.state == "half_open"
    return breaker, clock


# --- the breaker ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["wait_for", "task.cancel"])
def test_a_cancelled_async_trial_releases_the_breaker(how: str) -> None:
    breaker, _ = half_open_breaker()

    async def main(server: fs.FaultServer) -> None:
        provider = AsyncHttpProvider(AsyncTransport(config(server.url), breaker=breaker))
        try:
            if how == "wait_for":
                with pytest.raises(TimeoutError):
                    # Long enough for the request to reach the server even on a loaded machine.
                    await asyncio.wait_for(provider.query_report(query()), 1.5)
            else:
                task = asyncio.create_task(provider.query_report(query()))
                for _ in range(500):  # bounded: 10 s
                    if server.hits[REPORT]:
                        break
                    await asyncio.sleep(0.02)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            assert server.hits[REPORT] == 1
            # The trial was released: the next call is the new trial and reaches the platform.
            server.route("POST", REPORT, fs.answer(200, b"{}"))
            with pytest.raises(PlatformProtocolError):  # an empty report; only the hit matters
                await provider.query_report(query())
            assert server.hits[REPORT] == 2
        finally:
            await provider.aclose()

    with fs.FaultServer() as server:
        server.route("POST", REPORT, fs.drip_body())
        asyncio.run(main(server))


def test_a_sigint_during_a_blocking_trial_releases_the_breaker() -> None:
    breaker, _ = half_open_breaker()
    main_thread = threading.main_thread().ident
    assert main_thread is not None
    with fs.FaultServer() as server:
        server.route("POST", REPORT, fs.drip_body())
        provider = HttpProvider(SyncTransport(config(server.url), breaker=breaker))
        timer = threading.Timer(1.0, signal.pthread_kill, (main_thread, signal.SIGINT))
        try:
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                provider.query_report(query())
            assert server.hits[REPORT] == 1
            server.route("POST", REPORT, fs.answer(200, b"{}"))
            with pytest.raises(PlatformProtocolError):  # an empty report; only the hit matters
                provider.query_report(query())
            assert server.hits[REPORT] == 2  # not refused by a breaker stuck half-open
        finally:
            timer.cancel()
            provider.close()


def test_any_base_exception_releases_the_trial_sync_and_async() -> None:
    class Boom(BaseException):
        pass

    class Exploding:
        def handle_request(self, request: Any) -> Any:
            raise Boom

        async def handle_async_request(self, request: Any) -> Any:
            raise Boom

    for is_async in (False, True):
        breaker, _ = half_open_breaker()
        cfg = TransportConfig(
            "http://127.0.0.1:9", BearerToken("t0ken"), retry=RetryPolicy(max_attempts=1)
        )
        if is_async:
            at = AsyncTransport(cfg, breaker=breaker, transport=Exploding())  # type: ignore[arg-type]
            with pytest.raises(Boom):
                asyncio.run(at.request("GET", "/v1/health"))
        else:
            st = SyncTransport(cfg, breaker=breaker, transport=Exploding())  # type: ignore[arg-type]
            with pytest.raises(Boom):
                st.request("GET", "/v1/health")
        breaker.before_call()  # would raise "circuit breaker open" with the trial still taken


def test_a_cancelled_check_still_writes_its_completion_record() -> None:
    async def main(url: str, log: MemoryQueryLog) -> None:
        async with AsyncCreditClient(
            url,
            token="t0ken-for-cancel",
            audit=log,
            pseudonym_key=KEY,
            catalog=__import__("credit_sdk").Catalog.default(),
            today=lambda: AS_OF,
            deadline=30.0,
            list_sync_interval=None,
        ) as client:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.check(COMPANY, Scenario.BIDDING, CTX), 1.5)

    with fs.FaultServer() as server, MemoryQueryLog() as log:
        server.route("POST", REPORT, fs.drip_body())
        asyncio.run(main(server.url, log))
        stats = log.stats()
        assert stats.intents == stats.completions == 1
        done = [c for r in log.export() if (c := r.completion()) is not None]
        assert done[0].error == "CancelledError"
        assert done[0].outcome == Outcome.INDETERMINATE.value


# --- the list-sync worker ---------------------------------------------------------------------


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll until ``predicate()`` (bounded: fails after ``timeout`` seconds)."""
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)


def list_client_options(url: str, log: MemoryQueryLog, tmp_path: Path) -> dict[str, Any]:
    return {
        "base_url": url,
        "token": "t0ken-for-lists",
        "audit": log,
        "pseudonym_key": KEY,
        "lists_dir": tmp_path / "lists",
        "list_sync_interval": 0.05,
        "today": lambda: AS_OF,
        "deadline": 2.0,
        "retry": RetryPolicy(max_attempts=1),
        "breaker_threshold": 10_000,
    }


def worker(status: Any, name: str) -> Any:
    return next(w for w in status.workers if w.name == name)


def test_the_list_thread_survives_3000_nested_brackets(tmp_path: Path) -> None:
    with fs.FaultServer() as server, MemoryQueryLog() as log:
        server.route("GET", INDEX, fs.answer(200, b"[" * 3000 + b"]" * 3000))
        with CreditClient(**list_client_options(server.url, log, tmp_path)) as client:
            client.status()
            client._start()
            wait_for(lambda: server.hits[INDEX] >= 3)  # it keeps going, round after round
            health = worker(client.status(), "lists")
            assert health.state == "backing_off"
            assert health.consecutive_failures >= 2
            assert health.last_error in ("PlatformProtocolError", "RecursionError")
            assert client._list_thread is not None
            assert client._list_thread.is_alive()
            server.route("GET", INDEX, fs.answer(304, b""))
            wait_for(lambda: worker(client.status(), "lists").state == "running")
        assert worker(client.status(), "lists").state == "stopped"


def test_the_list_task_survives_3000_nested_brackets(tmp_path: Path) -> None:
    async def main(url: str, log: MemoryQueryLog, server: fs.FaultServer) -> None:
        async with AsyncCreditClient(**list_client_options(url, log, tmp_path)) as client:
            client._start()
            for _ in range(500):  # bounded: 10 s
                if server.hits[INDEX] >= 3:
                    break
                await asyncio.sleep(0.02)
            health = worker(await client.status(), "lists")
            assert health.state == "backing_off"
            assert client._list_task is not None
            assert not client._list_task.done()

    with fs.FaultServer() as server, MemoryQueryLog() as log:
        server.route("GET", INDEX, fs.answer(200, b"[" * 3000 + b"]" * 3000))
        asyncio.run(main(server.url, log, server))
        assert server.hits[INDEX] >= 3


# --- the feedback worker ----------------------------------------------------------------------


class BuggyPlatform(MemoryProvider):
    """A provider whose feedback delivery has a bug (not a PlatformError)."""

    def __init__(self, error: BaseException, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error
        self.feedback_calls = 0

    def send_feedback(self, items: Sequence[FeedbackItem], idempotency_key: str) -> Any:
        self.feedback_calls += 1
        raise self.error


def feedback_client(platform: MemoryProvider, log: MemoryQueryLog) -> CreditClient:
    return CreditClient(
        provider=platform,
        audit=log,
        pseudonym_key=KEY,
        catalog=__import__("credit_sdk").Catalog.default(),
        today=lambda: AS_OF,
        feedback_poll_interval=0.02,
    )


def queue_feedback(client: CreditClient) -> None:
    decision = client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, CTX)
    assert decision.restrictions
    client.feedback(
        decision,
        applied=[decision.restrictions[0].measure_id],
        case_id="CASE-1",
        implementing_department="230100-CZJ",
    )


def test_the_feedback_thread_survives_a_provider_bug_and_reports_it_without_text() -> None:
    platform = BuggyPlatform(KeyError(SECRET_TEXT), today=lambda: AS_OF)
    platform.set_report(COMPANY, severe_company_report())
    with MemoryQueryLog() as log, feedback_client(platform, log) as client:
        client._sender.initial_backoff = 0.01
        client._sender.max_backoff = 0.02
        queue_feedback(client)
        wait_for(lambda: platform.feedback_calls >= 3)
        status = client.status()
        health = worker(status, "feedback")
        assert health.state == "backing_off"
        assert health.last_error == "PlatformProtocolError"
        assert status.last_feedback_error is not None
        assert "KeyError" in status.last_feedback_error
        assert SECRET_TEXT not in repr(status)
        assert "13800138000" not in repr(status)
        assert client._sender._thread is not None
        assert client._sender._thread.is_alive()
        stats = log.outbox_stats()
        assert stats.pending + stats.dead == 1  # nothing lost


def test_a_fatal_error_leaves_the_feedback_thread_visibly_dead() -> None:
    platform = BuggyPlatform(MemoryError(), today=lambda: AS_OF)
    platform.set_report(COMPANY, severe_company_report())
    with MemoryQueryLog() as log, feedback_client(platform, log) as client:
        queue_feedback(client)
        wait_for(lambda: worker(client.status(), "feedback").state == "dead")
        assert worker(client.status(), "feedback").last_error == "MemoryError"
        stats = log.outbox_stats()
        assert stats.pending + stats.dead == 1


def test_the_feedback_task_survives_a_provider_bug() -> None:
    class AsyncBuggy:
        def __init__(self, inner: MemoryProvider) -> None:
            self.inner = inner.as_async()
            self.feedback_calls = 0

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        async def send_feedback(self, items: Any, key: str) -> Any:
            self.feedback_calls += 1
            raise ValueError(SECRET_TEXT)

    base = MemoryProvider(today=lambda: AS_OF)
    base.set_report(COMPANY, severe_company_report())
    buggy = AsyncBuggy(base)

    async def main(log: MemoryQueryLog) -> None:
        client = AsyncCreditClient(
            provider=base,
            audit=log,
            pseudonym_key=KEY,
            catalog=__import__("credit_sdk").Catalog.default(),
            today=lambda: AS_OF,
            feedback_poll_interval=0.02,
        )
        client._provider = buggy
        client._sender.initial_backoff = 0.01
        client._sender.max_backoff = 0.02
        async with client:
            decision = await client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, CTX)
            await client.feedback(
                decision,
                applied=[decision.restrictions[0].measure_id],
                case_id="CASE-1",
                implementing_department="230100-CZJ",
            )
            for _ in range(500):
                if buggy.feedback_calls >= 3:
                    break
                await asyncio.sleep(0.02)
            status = await client.status()
            health = worker(status, "feedback")
            assert health.state == "backing_off"
            assert health.last_error == "PlatformProtocolError"
            assert SECRET_TEXT not in repr(status)
            assert client._sender._task is not None
            assert not client._sender._task.done()
        assert worker(await client.status(), "feedback").state == "stopped"

    with MemoryQueryLog() as log:
        asyncio.run(main(log))
        assert buggy.feedback_calls >= 3
        stats = log.outbox_stats()
        assert stats.pending + stats.dead == 1


def test_status_reports_every_worker_before_start() -> None:
    with MemoryQueryLog() as log, feedback_client(MemoryProvider(), log) as client:
        names = {w.name: w.state for w in client.status().workers}
        assert names == {"lists": "not_started", "feedback": "not_started"}


def test_a_deadline_past_expiry_is_not_a_bug_in_the_breaker() -> None:
    # A deadline that passes counts as unavailability (the platform did not answer in time).
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_time=5, clock=clock)
    with fs.FaultServer() as server:
        server.route("POST", REPORT, fs.drip_body())
        cfg = TransportConfig(
            server.url, BearerToken("t0ken"), retry=RetryPolicy(max_attempts=1), deadline=0.5
        )
        provider = HttpProvider(SyncTransport(cfg, breaker=breaker))
        try:
            with pytest.raises(PlatformUnavailable, match="deadline"):
                provider.query_report(query())
        finally:
            provider.close()
    assert breaker.state == "open"


def test_a_check_whose_engine_raises_still_writes_its_completion_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import credit_sdk._client as client_module

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RecursionError(SECRET_TEXT)

    monkeypatch.setattr(client_module, "decide", broken)
    platform = MemoryProvider(today=lambda: AS_OF)
    platform.set_report(COMPANY, severe_company_report())
    with MemoryQueryLog() as log, feedback_client(platform, log) as client:
        with pytest.raises(RecursionError):
            client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, CTX)
        stats = log.stats()
        assert stats.intents == stats.completions == 1
        done = [c for r in log.export() if (c := r.completion()) is not None]
        assert done[0].error == "RecursionError"
        assert SECRET_TEXT not in repr(done[0])
