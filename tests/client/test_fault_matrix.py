"""The fault matrix: every way a platform can misbehave on the wire, against both clients.

Each row is bytes on a loopback socket (tests/client/faultserver.py), not an httpx mock. For
each fault and each client the test asserts the outcome (fail closed: ``INDETERMINATE``, never
``CLEAR``), how many attempts the server saw, that the completion record was written, and that
the check came back within its deadline (generous margin: this is about hanging vs not hanging,
not speed).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from credit_sdk import (
    AsyncCreditClient,
    Catalog,
    CreditClient,
    FailurePolicy,
    MemoryQueryLog,
    Outcome,
    PlatformProtocolError,
    PlatformUnavailable,
    QueryContext,
    RetryPolicy,
    Scenario,
)
from tests.client import faultserver as fs
from tests.client.conftest import COMPANY, KEY, OTHER_COMPANY, report_dict, severe_company_report
from tests.legal.builders import AS_OF, uscc

DEADLINE = 1.5
MARGIN = 2.0  # about hanging vs not hanging: a loaded 2-core machine is slow, never 2 s slow
REPORT = "/v1/reports:query"
BATCH = "/v1/reports:batchQuery"

CTX = QueryContext(
    organ="230100-SCJGJ",
    operator="u1024",
    matter_code="LIC-FOOD",
    purpose="food business licence application 2026-118",
)

# fault name -> (fault, expected attempts, expected error class of the completion record)
MATRIX: dict[str, tuple[Callable[[], fs.Fault], int, type[Exception]]] = {
    "slow drip (body)": (fs.drip_body, 1, PlatformUnavailable),
    "slow drip (headers)": (fs.drip_headers, 1, PlatformUnavailable),
    "reset mid-body": (fs.reset_mid_body, 1, PlatformProtocolError),
    "truncated body": (fs.truncated, 1, PlatformProtocolError),
    "declared oversize": (fs.declared_oversize, 1, PlatformProtocolError),
    "undeclared oversize": (fs.undeclared_oversize, 1, PlatformProtocolError),
    "gzip bomb": (fs.gzip_bomb, 1, PlatformProtocolError),
    "redirect": (fs.redirect, 1, Exception),  # PlatformError: a 3xx is not an answer
    "HTML 200": (
        lambda: fs.answer(200, b"<html>login</html>", "text/html"),
        1,
        PlatformProtocolError,
    ),
    "empty 200": (lambda: fs.answer(200, b""), 1, PlatformProtocolError),
    "wrong content type": (
        lambda: fs.answer(200, json.dumps(report_dict(COMPANY)).encode(), "text/plain"),
        1,
        PlatformProtocolError,
    ),
    "503 every time": (
        lambda: fs.answer(503, b'{"title": "busy"}', "application/problem+json"),
        3,
        PlatformUnavailable,
    ),
    "nested brackets": (
        lambda: fs.answer(200, b"[" * 3000 + b"]" * 3000),
        1,
        PlatformProtocolError,
    ),
}

RESULTS: list[tuple[str, str, str, int, float]] = []  # printed with -s: the matrix's results


def options(url: str, log: MemoryQueryLog) -> dict[str, Any]:
    return {
        "base_url": url,
        "token": "fault-matrix-token",
        "audit": log,
        "pseudonym_key": KEY,
        "catalog": Catalog.default(),
        "today": lambda: AS_OF,
        "deadline": DEADLINE,
        "retry": RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05),
        "breaker_threshold": 100,
        "max_response_bytes": 1024 * 1024,
        "list_sync_interval": None,
    }


def assert_logged_with(log: MemoryQueryLog, error: type[Exception]) -> None:
    stats = log.stats()
    assert stats.intents == stats.completions == 1  # nothing dangling
    record = [c for r in log.export() if (c := r.completion()) is not None][-1]
    assert record.outcome == Outcome.INDETERMINATE.value
    assert record.error is not None
    assert error is Exception or record.error == error.__name__


@pytest.mark.parametrize("name", list(MATRIX))
def test_sync_client_against_fault(name: str) -> None:
    make, attempts, error = MATRIX[name]
    with fs.FaultServer() as server, MemoryQueryLog() as log:
        server.route("POST", REPORT, make())
        with CreditClient(**options(server.url, log)) as client:
            started = time.monotonic()
            decision = client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, CTX)
            took = time.monotonic() - started
        assert decision.outcome is Outcome.INDETERMINATE
        assert server.hits[REPORT] == attempts
        assert took < DEADLINE + MARGIN
        assert_logged_with(log, error)
        RESULTS.append((name, "CreditClient", decision.outcome.value, server.hits[REPORT], took))


@pytest.mark.parametrize("name", list(MATRIX))
def test_async_client_against_fault(name: str) -> None:
    make, attempts, error = MATRIX[name]

    async def main(url: str, log: MemoryQueryLog) -> tuple[Outcome, float]:
        async with AsyncCreditClient(**options(url, log)) as client:
            started = time.monotonic()
            decision = await client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, CTX)
            return decision.outcome, time.monotonic() - started

    with fs.FaultServer() as server, MemoryQueryLog() as log:
        server.route("POST", REPORT, make())
        outcome, took = asyncio.run(main(server.url, log))
        assert outcome is Outcome.INDETERMINATE
        assert server.hits[REPORT] == attempts
        assert took < DEADLINE + MARGIN
        assert_logged_with(log, error)
        RESULTS.append((name, "AsyncCreditClient", outcome.value, server.hits[REPORT], took))


def test_raise_on_unavailable_past_the_deadline_raises_and_still_logs() -> None:
    with fs.FaultServer() as server, MemoryQueryLog() as log:
        server.route("POST", REPORT, fs.drip_body())
        opts = options(server.url, log)
        opts["failure_policy"] = FailurePolicy.fail_closed(raise_on_unavailable=True)
        with CreditClient(**opts) as client:
            started = time.monotonic()
            with pytest.raises(PlatformUnavailable, match="deadline"):
                client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, CTX)
            assert time.monotonic() - started < DEADLINE + MARGIN
        assert_logged_with(log, PlatformUnavailable)


def test_with_options_shortens_the_deadline_of_one_call() -> None:
    with fs.FaultServer() as server, MemoryQueryLog() as log:
        server.route("POST", REPORT, fs.drip_body())
        opts = options(server.url, log)
        opts["deadline"] = 30.0
        with CreditClient(**opts) as client:
            started = time.monotonic()
            decision = client.with_options(deadline=0.5).check(
                COMPANY, Scenario.GOVERNMENT_PROCUREMENT, CTX
            )
            assert time.monotonic() - started < 0.5 + MARGIN  # not 30 s
        assert decision.outcome is Outcome.INDETERMINATE


def batch_with_one_bad_item() -> fs.Fault:
    async def fault(req: fs.Request, w: fs.Writer) -> None:
        queries = req.json()["queries"]
        results: list[dict[str, Any]] = []
        for i, q in enumerate(queries):
            subject = q["subject"]["number"]
            report: Any = report_dict(subject, report_id=f"r{i}")
            if i == 1:
                report = {"report_id": "bad", "subject": {"kind": "legal_person"}, "records": 7}
            results.append({"query_id": q["query_id"], "status": 200, "report": report})
        body = json.dumps({"results": results}).encode()
        await fs.answer(200, body)(req, w)

    return fault


def _subjects() -> list[str]:
    return [COMPANY, OTHER_COMPANY, uscc("91230100MA1C2X3Y6")]


def test_batch_answer_with_one_bad_item_fails_only_that_subject_sync() -> None:
    with fs.FaultServer() as server, MemoryQueryLog() as log:
        server.route("POST", BATCH, batch_with_one_bad_item())
        with CreditClient(**options(server.url, log)) as client:
            started = time.monotonic()
            results = client.check_many(_subjects(), Scenario.GOVERNMENT_PROCUREMENT, CTX)
            took = time.monotonic() - started
        outcomes = [r.decision.outcome if r.decision else None for r in results]
        assert outcomes[0] is Outcome.CLEAR
        assert outcomes[2] is Outcome.CLEAR
        assert outcomes[1] is Outcome.INDETERMINATE
        assert server.hits[BATCH] == 1
        assert log.stats().intents == log.stats().completions == 3
        assert took < DEADLINE + MARGIN
        RESULTS.append(("batch, one bad item", "CreditClient", "CLEAR/INDET./CLEAR", 1, took))


def test_batch_answer_with_one_bad_item_fails_only_that_subject_async() -> None:
    async def main(url: str, log: MemoryQueryLog) -> list[Any]:
        async with AsyncCreditClient(**options(url, log)) as client:
            return await client.check_many(_subjects(), Scenario.GOVERNMENT_PROCUREMENT, CTX)

    with fs.FaultServer() as server, MemoryQueryLog() as log:
        server.route("POST", BATCH, batch_with_one_bad_item())
        started = time.monotonic()
        results = asyncio.run(main(server.url, log))
        took = time.monotonic() - started
        outcomes = [r.decision.outcome if r.decision else None for r in results]
        assert outcomes == [Outcome.CLEAR, Outcome.INDETERMINATE, Outcome.CLEAR]
        assert server.hits[BATCH] == 1
        assert log.stats().intents == log.stats().completions == 3
        assert took < DEADLINE + MARGIN
        RESULTS.append(("batch, one bad item", "AsyncCreditClient", "CLEAR/INDET./CLEAR", 1, took))


def test_a_dripping_batch_is_bounded_by_one_deadline_for_the_whole_batch() -> None:
    with fs.FaultServer() as server, MemoryQueryLog() as log:
        server.route("POST", BATCH, fs.drip_body())
        opts = options(server.url, log)
        opts["batch_size"] = 1  # three chunks, in parallel threads: they share the deadline
        with CreditClient(**opts) as client:
            started = time.monotonic()
            results = client.check_many(_subjects(), Scenario.GOVERNMENT_PROCUREMENT, CTX)
            took = time.monotonic() - started
        assert all(r.decision and r.decision.outcome is Outcome.INDETERMINATE for r in results)
        assert took < DEADLINE + MARGIN
        assert log.stats().intents == log.stats().completions == 3


@pytest.fixture(scope="module", autouse=True)
def _print_matrix() -> Any:
    yield
    if RESULTS:
        print("\nfault matrix (fault | client | outcome | attempts | seconds)")
        for row in RESULTS:
            print(f"  {row[0]:<22} | {row[1]:<17} | {row[2]:<18} | {row[3]} | {row[4]:.2f}")


def test_a_dripping_list_sync_is_bounded_by_the_deadline(tmp_path: Any) -> None:
    with fs.FaultServer() as server, MemoryQueryLog() as log:
        server.route("GET", "/v1/measure-lists", fs.drip_body())
        opts = options(server.url, log)
        del opts["catalog"]
        opts["lists_dir"] = tmp_path / "lists"
        with CreditClient(**opts) as client:
            started = time.monotonic()
            assert client.sync_lists() is False
            assert time.monotonic() - started < DEADLINE + MARGIN
            assert client.status().last_list_sync_error is not None


def test_a_dripping_feedback_delivery_is_bounded_by_the_deadline() -> None:
    report = json.dumps(severe_company_report()).encode()
    with fs.FaultServer() as server, MemoryQueryLog() as log:
        server.route("POST", REPORT, fs.answer(200, report))
        server.route("POST", "/v1/feedback", fs.drip_body())
        opts = options(server.url, log)
        opts["feedback_poll_interval"] = 60.0
        with CreditClient(**opts) as client:
            decision = client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, CTX)
            assert decision.outcome is Outcome.RESTRICTED
            client.feedback(
                decision,
                applied=[decision.restrictions[0].measure_id],
                case_id="CASE-1",
                implementing_department="230100-CZJ",
            )
            started = time.monotonic()
            stats = client.flush(timeout=0.5)
            # One delivery round at most: it ends at the deadline, however slowly it drips.
            assert time.monotonic() - started < DEADLINE + MARGIN
            assert server.hits["/v1/feedback"] >= 1
        assert stats.pending + stats.dead == 1  # nothing lost, nothing delivered twice
