"""Bulk re-screening on worker processes sharing one query log (``BulkScreening``).

Worker processes are real (``spawn``), few and short-lived; every run is bounded in subjects
and in time. The platform is the real sandbox on loopback, or an in-memory platform each
worker builds for itself from a picklable factory (``tests/client/_bulk_platforms.py``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import (
    AuditError,
    Authorization,
    BulkScreening,
    BulkScreeningError,
    CheckResult,
    ClientConfig,
    ConfigurationError,
    MemoryQueryLog,
    QueryContext,
    SQLiteQueryLog,
    parse_identifier,
)
from tests.client._bulk_platforms import AS_OF, DEFAULTER, Platform, register

KEY = b"bulk-test-pseudonym-key-0123456789"
CTX = QueryContext(
    organ="230100-GGZY", operator="u9", matter_code="ZB-2026-17", purpose="re-screening"
)


def _config(db: Path, delay: float = 0.0, **options: Any) -> ClientConfig:
    return ClientConfig(
        audit=str(db),
        pseudonym_key=KEY,
        provider=Platform(delay),
        list_sync_interval=None,
        cache_ttl=0,
        **options,
    )


def _summary(r: CheckResult) -> tuple[Any, ...]:
    """What a result says, without what differs between two runs (query ids, times)."""
    if r.decision is None:
        assert r.error is not None
        return (r.index, r.subject, type(r.error).__name__, getattr(r.error, "rule", None))
    d = r.decision
    return (
        r.index,
        r.subject,
        d.outcome.value,
        [m.measure_id for m in d.restrictions],
        [m.measure_id for m in d.incentives],
        [m.measure_id for m in d.held_for_review],
        sorted(e.reason.value for e in d.exclusions),
        d.commitment.eligible,
    )


def _reference(config: ClientConfig, subjects: list[str], scenario: str, **kw: Any) -> list[Any]:
    """What ``check_many`` in one client built from the same configuration answers."""
    client, log = config.open()
    try:
        with client:
            client.wait_until_ready(timeout=10)
            return [_summary(r) for r in client.check_many(subjects, scenario, CTX, **kw)]
    finally:
        log.close()


def _log_state(db: Path) -> tuple[int, int, bool]:
    """(intents, incomplete, chain verifies) of a SQLite query log."""
    with SQLiteQueryLog(db) as log:
        stats = log.stats()
        intents = sum(1 for r in log.export() if r.kind == "intent")
        return intents, stats.incomplete, log.verify().ok


def test_two_processes_decide_as_check_many_does(tmp_path: Path) -> None:
    subjects = register(23)
    expected = _reference(_config(tmp_path / "ref.db"), subjects, "bidding", as_of=AS_OF)
    # Every state is there: restricted, incentives, clear, a platform failure
    # (INDETERMINATE, a decision) and an invalid identifier (a failure of its own entry).
    outcomes = {e[2] for e in expected}
    assert {"RESTRICTED", "INCENTIVES", "CLEAR", "INDETERMINATE", "InvalidIdentifier"} <= outcomes
    for processes in (1, 2):
        db = tmp_path / f"bulk-{processes}.db"
        with BulkScreening(_config(db), processes=processes, chunk_size=4) as bulk:
            got = [_summary(r) for r in bulk.screen(iter(subjects), "bidding", CTX, as_of=AS_OF)]
        assert got == expected, processes
        # One intent per valid subject, each completed, one chain for all processes.
        assert _log_state(db) == (len(subjects) - 1, 0, True)


def test_authorisations_reach_the_workers(tmp_path: Path) -> None:
    subjects = register(6)
    grant = Authorization(
        subject=DEFAULTER,
        grant_id="G-2026-0042",
        scope=("personnel",),
        purpose="2026 recruitment",
        granted_on=AS_OF,
        expires_on=AS_OF.replace(year=2027),
    )
    kw: dict[str, Any] = {"authorizations": {DEFAULTER: grant}, "as_of": AS_OF}
    expected = _reference(_config(tmp_path / "ref.db"), subjects, "civil_service_hiring", **kw)
    assert expected[-1][2] == "RESTRICTED"  # the defaulter, checked with the grant
    with BulkScreening(_config(tmp_path / "b.db"), processes=2, chunk_size=2) as bulk:
        got = [_summary(r) for r in bulk.screen(subjects, "civil_service_hiring", CTX, **kw)]
    assert got == expected
    with BulkScreening(_config(tmp_path / "c.db"), processes=2, chunk_size=2) as bulk:
        (*_, last) = bulk.screen(subjects, "civil_service_hiring", CTX, as_of=AS_OF)
    assert type(last.error).__name__ == "AuthorizationError"  # without it, refused (Art. 56)


def test_against_the_sandbox_on_loopback(sandbox: Any, tmp_path: Path) -> None:
    subjects = [s.identifier.reveal() for s in sandbox.seeded] + ["91230100MA1C2X3Y4Z"]
    config = ClientConfig(
        sandbox.url,
        token=sandbox.token,
        audit=str(tmp_path / "ref.db"),
        pseudonym_key=KEY,
        lists_dir=str(tmp_path / "lists"),
        list_sync_interval=None,
        cache_ttl=0,
    )
    expected = _reference(config, subjects, "bidding")
    assert len({e[2] for e in expected}) >= 4
    bulk_config = ClientConfig(
        sandbox.url,
        token=sandbox.token,
        audit=str(tmp_path / "bulk.db"),
        pseudonym_key=KEY,
        lists_dir=str(tmp_path / "lists"),
        list_sync_interval=None,
        cache_ttl=0,
    )
    with BulkScreening(bulk_config, processes=2, chunk_size=2) as bulk:
        got = [_summary(r) for r in bulk.screen(subjects, "bidding", CTX)]
    assert got == expected
    assert _log_state(tmp_path / "bulk.db") == (len(subjects) - 1, 0, True)


def _pseudonyms(subjects: list[str]) -> dict[str, str]:
    return {parse_identifier(s).pseudonym(KEY): s for s in subjects if _valid(s)}


def _valid(subject: str) -> bool:
    try:
        parse_identifier(subject)
    except ValueError:
        return False
    return True


def _wait_for_an_open_query(db: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with SQLiteQueryLog(db) as log:
            if log.stats().incomplete:
                return
        time.sleep(0.02)
    raise AssertionError(f"no query was open in the log within {timeout:g} s")


def _wait_until_broken(bulk: BulkScreening, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not getattr(bulk._pool, "_broken", False):  # the standard library's own flag
        assert time.monotonic() < deadline, "the pool did not notice its killed workers"
        time.sleep(0.01)


def test_a_killed_worker_loses_no_query_silently(tmp_path: Path) -> None:
    subjects = register(60)
    db = tmp_path / "audit.db"
    seen: list[CheckResult] = []
    with BulkScreening(_config(db, delay=0.3), processes=2, chunk_size=4) as bulk:
        results = bulk.screen(subjects, "bidding", CTX, as_of=AS_OF)
        seen.append(next(results))  # the workers are busy with the next chunks now
        # Kill only once a query is open in the log (its intent written, its report still on
        # the way: each batch takes 0.3 s), and kill every worker, so that the kill falls
        # mid-query however slowly a loaded machine starts or schedules the workers.
        _wait_for_an_open_query(db)
        for victim in multiprocessing.active_children():
            assert victim.pid is not None
            os.kill(victim.pid, signal.SIGKILL)
        # Let the pool notice before the run goes on, so that the next chunk meets a broken
        # pool when it is handed over (not only when a result is awaited): the subjects of
        # that chunk, taken but never sent, must come back too.
        _wait_until_broken(bulk)
        with pytest.raises(BulkScreeningError) as stopped:
            seen.extend(results)
        # Every subject taken has a result, in order; none past the reported index.
        assert stopped.value.next_index == len(seen)
        assert [r.index for r in seen] == list(range(len(seen)))
        lost = [r for r in seen if isinstance(r.error, BulkScreeningError)]
        assert lost
        assert all("lost with its worker" in str(r.error) for r in lost)
        # The run can be resumed on a new pool from where it stopped.
        rest = subjects[len(seen) :]
        again = list(bulk.screen(rest, "bidding", CTX, as_of=AS_OF))
        assert [r.index for r in again] == list(range(len(rest)))
        assert not any(isinstance(r.error, BulkScreeningError) for r in again)
    with SQLiteQueryLog(db) as log:
        assert log.verify().ok  # the chain survived the kill
        done = {r.query_id for r in log.export() if r.kind == "completion"}
        open_intents = [i for r in log.export() if (i := r.intent()) and i.query_id not in done]
        # What the log counts as incomplete is exactly the queries without a completion,
        # and each of them belongs to a subject reported to the caller as lost.
        assert log.stats().incomplete == len(open_intents) >= 1
        lost_subjects = {subjects[r.index] for r in lost}
        by_pseudonym = _pseudonyms(subjects)
        assert {by_pseudonym[i.subject_pseudonym] for i in open_intents} <= lost_subjects


def test_a_consumer_that_stops_leaves_every_started_query_completed(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    with BulkScreening(_config(db, delay=0.2), processes=2, chunk_size=4) as bulk:
        results = bulk.screen(register(40), "bidding", CTX, as_of=AS_OF)
        first = next(results)
        results.close()  # what a `break` or an exception in the loop does
    assert first.index == 0
    intents, incomplete, ok = _log_state(db)
    assert intents < 40
    assert incomplete == 0
    assert ok


def test_ctrl_c_while_waiting_stops_the_run_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"

    def interrupt(done: int, total: int, failures: int) -> None:
        raise KeyboardInterrupt

    with (
        BulkScreening(_config(db, delay=0.2), processes=2, chunk_size=4) as bulk,
        pytest.raises(KeyboardInterrupt),
    ):
        list(bulk.screen(register(40), "bidding", CTX, as_of=AS_OF, progress=interrupt))
    intents, incomplete, ok = _log_state(db)
    assert 4 <= intents < 40
    assert incomplete == 0
    assert ok


def test_the_overall_deadline_stops_taking_subjects(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    subjects = register(40)
    seen: list[CheckResult] = []
    with (
        BulkScreening(_config(db, delay=0.3), processes=2, chunk_size=4) as bulk,
        pytest.raises(BulkScreeningError, match="deadline") as stopped,
    ):
        seen.extend(bulk.screen(subjects, "bidding", CTX, as_of=AS_OF, deadline=0.2))
    assert stopped.value.next_index == len(seen) < len(subjects)
    assert [r.index for r in seen] == list(range(len(seen)))
    _, incomplete, ok = _log_state(db)
    assert incomplete == 0
    assert ok


def test_progress_counts_done_and_failures(tmp_path: Path) -> None:
    seen: list[tuple[int, int, int]] = []
    subjects = register(10)
    with BulkScreening(_config(tmp_path / "a.db"), processes=1, chunk_size=4) as bulk:
        list(bulk.screen(subjects, "bidding", CTX, as_of=AS_OF, progress=lambda *a: seen.append(a)))
    assert seen == [(4, 11, 1), (8, 11, 1), (11, 11, 1)]  # the invalid identifier fails


def test_a_log_that_cannot_be_opened_stops_the_run_closed(tmp_path: Path) -> None:
    db = tmp_path / "not-a-file"
    db.mkdir()  # a directory where the log should be: no worker can open it
    with (
        BulkScreening(_config(db), processes=2, chunk_size=4) as bulk,
        pytest.raises(AuditError),
    ):
        list(bulk.screen(register(8), "bidding", CTX, as_of=AS_OF))


# -- configuration ------------------------------------------------------------------------------


def test_config_repr_shows_no_secret() -> None:
    config = ClientConfig(
        "https://credit.example.gov.cn",
        app_id="app-7",
        app_secret="s3cr3t-app-secret",
        audit="postgresql://credit:hunter22@db.example.gov.cn/credit",
        pseudonym_key="ab" * 32,
        profile="draft-2025",
    )
    text = repr(config) + repr(BulkScreening(config, processes=2))
    for secret in ("s3cr3t", "hunter22", "ab" * 16, "credit:"):
        assert secret not in text
    assert "audit=postgresql" in text
    assert "auth=hmac" in text
    assert "processes=2" in text


def test_config_refuses_what_a_worker_cannot_use(tmp_path: Path) -> None:
    base = {"pseudonym_key": KEY, "provider": Platform()}
    with pytest.raises(ConfigurationError, match="durable"):
        ClientConfig(audit="memory:", **base)
    with pytest.raises(ConfigurationError, match="each worker process opens it"):
        ClientConfig(audit=MemoryQueryLog(), **base)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="today cannot be sent") as err:
        ClientConfig(audit=str(tmp_path / "a.db"), today=lambda: AS_OF, **base)
    assert "lambda" not in str(err.value)
    with pytest.raises(ConfigurationError, match="pseudonym"):
        ClientConfig(audit=str(tmp_path / "a.db"), pseudonym_key=b"short", provider=Platform())
    with pytest.raises(ConfigurationError, match="credential"):
        ClientConfig("https://credit.example.gov.cn", audit="a.db", pseudonym_key=KEY)
    with pytest.raises(ConfigurationError, match="CREDIT_SDK_BASE_URL"):
        ClientConfig.from_env({})


def test_bulk_screening_refuses_bad_settings(tmp_path: Path) -> None:
    config = _config(tmp_path / "a.db")
    with pytest.raises(ConfigurationError, match="fork"):
        BulkScreening(config, start_method="fork")
    with pytest.raises(ConfigurationError, match="processes"):
        BulkScreening(config, processes=-1)
    with pytest.raises(ConfigurationError, match="chunk_size"):
        BulkScreening(config, chunk_size=0)
    assert BulkScreening(config, processes=None).processes == (os.cpu_count() or 1)
    bulk = BulkScreening(config)
    with pytest.raises(TypeError, match="not one string"):
        bulk.screen("91230100MA1C2X3Y48", "bidding", CTX)
    with pytest.raises(ValueError, match="scenario"):
        bulk.screen(["91230100MA1C2X3Y48"], "no-such-scenario", CTX)
    bulk.close()
    with pytest.raises(ConfigurationError, match="closed"):
        bulk.screen(["91230100MA1C2X3Y48"], "bidding", CTX)
