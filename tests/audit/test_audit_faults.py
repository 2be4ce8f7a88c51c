"""Faults: disk full, unwritable database, PostgreSQL going away (real ones, under root too).
Every waiting caller gets AuditError, nothing is half-written, and the store works again once the
fault clears."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from credit_sdk import AuditError, SQLiteQueryLog

from .conftest import StoreSpec, make_feedback, make_intent

_WRITES = ("INSERT", "UPDATE", "DELETE")


class FaultyConnection(sqlite3.Connection):
    """A real sqlite3 connection with switchable faults.

    ``full``: SQLite's own SQLITE_FULL, by capping the file at its current size
    (``PRAGMA max_page_count``); ``readonly``: SQLite's own SQLITE_READONLY
    (``PRAGMA query_only``); ``commit``: the COMMIT itself fails (a patched write path).
    """

    fault: ClassVar[str | None] = None

    def _arm(self, sql: str) -> None:
        fault = FaultyConnection.fault
        if fault == "full" and sql.startswith("BEGIN"):
            pages = super().execute("PRAGMA page_count").fetchone()[0]
            super().execute(f"PRAGMA max_page_count = {pages}")
        elif fault == "readonly" and sql.startswith(_WRITES):
            super().execute("PRAGMA query_only = ON")
        elif fault == "commit" and sql.startswith("COMMIT"):
            raise sqlite3.OperationalError("disk I/O error")

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        self._arm(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:  # type: ignore[override]
        self._arm(sql)
        return super().executemany(sql, parameters)


class FaultyLog(SQLiteQueryLog):
    _connection_factory = FaultyConnection


@pytest.fixture
def faulty(tmp_path: Path) -> Any:
    FaultyConnection.fault = None
    log = FaultyLog(tmp_path / "audit.db")
    yield log
    FaultyConnection.fault = None
    log.close()


def _hammer(log: Any, n_threads: int = 8) -> tuple[list[str], list[BaseException]]:
    ok: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        intent = make_intent(t)
        try:
            log.record_intent(intent)
        except BaseException as err:
            with lock:
                errors.append(err)
        else:
            with lock:
                ok.append(intent.query_id)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok, errors


@pytest.mark.parametrize("fault", ["readonly", "commit"])
def test_sqlite_fault_fails_every_caller_and_recovers(faulty: Any, fault: str) -> None:
    faulty.record_intent(make_intent(100))
    FaultyConnection.fault = fault
    ok, errors = _hammer(faulty, 8)
    assert ok == []
    assert len(errors) == 8
    assert all(isinstance(e, AuditError) for e in errors)
    message = str(errors[0])
    assert {"readonly": "readonly", "commit": "I/O"}[fault] in message
    with pytest.raises(AuditError):
        faulty.enqueue_feedback([make_feedback(1)])

    # Nothing half-written: only the record acknowledged before the fault is there.
    FaultyConnection.fault = None
    result = faulty.verify()
    assert result.ok
    assert result.count == 1
    assert faulty.outbox_stats().pending == 0

    # The fault cleared: the same store object writes again, the chain goes on.
    ok, errors = _hammer(faulty, 8)
    assert errors == []
    assert len(ok) == 8
    faulty.enqueue_feedback([make_feedback(1)])
    result = faulty.verify()
    assert result.ok
    assert result.count == 10  # eight intents, the one before, the feedback's enqueue record


def test_sqlite_disk_full_loses_nothing_acknowledged(faulty: Any) -> None:
    acknowledged = [make_intent(0)]
    faulty.append(acknowledged)
    # SQLite's own SQLITE_FULL: writes succeed while free space remains in the file's pages,
    # then fail; each failed batch is rolled back whole.
    FaultyConnection.fault = "full"
    failures = 0
    messages: list[str] = []
    for n in range(1, 400):
        batch = [make_intent(n * 10 + i) for i in range(5)]
        try:
            faulty.append(batch)
        except AuditError as err:
            messages.append(str(err))
            failures += 1
            if failures == 3:
                break
        else:
            acknowledged.extend(batch)
    assert failures == 3
    assert all("full" in m for m in messages)
    FaultyConnection.fault = None
    result = faulty.verify()
    assert result.ok
    assert result.count == len(acknowledged)
    assert [r.query_id for r in faulty.export()] == [i.query_id for i in acknowledged]
    faulty.append([make_intent(5000)])
    assert faulty.verify().count == len(acknowledged) + 1


def test_sqlite_fault_in_per_row_mode(tmp_path: Path) -> None:
    FaultyConnection.fault = None
    log = FaultyLog(tmp_path / "audit.db", group_commit=False)
    try:
        log.record_intent(make_intent(1))
        FaultyConnection.fault = "commit"
        with pytest.raises(AuditError, match="I/O"):
            log.record_intent(make_intent(2))
        with pytest.raises(AuditError):
            log.prune(datetime.now(UTC))
        FaultyConnection.fault = None
        log.record_intent(make_intent(3))
        assert log.verify().count == 2
    finally:
        FaultyConnection.fault = None
        log.close()


def test_sqlite_read_only_file(tmp_path: Path) -> None:
    """A database file that cannot be written. Permissions do not bind root (CI runs as root),
    so the file is made unwritable in a way that binds everyone: its write-ahead log's path is
    taken by a directory, and SQLite can neither create nor open it."""
    path = tmp_path / "audit.db"
    with SQLiteQueryLog(path) as log:
        log.record_intent(make_intent(1))
    wal = Path(f"{path}-wal")
    wal.unlink(missing_ok=True)
    wal.mkdir()
    try:
        with pytest.raises(AuditError), SQLiteQueryLog(path) as log:
            log.record_intent(make_intent(2))
    finally:
        wal.rmdir()
    with SQLiteQueryLog(path) as log:  # the fault cleared: the log works, nothing half-written
        result = log.verify()
        assert result.ok
        assert result.count == 1
        log.record_intent(make_intent(3))
        assert log.verify().count == 2


def test_sqlite_database_path_taken_by_a_directory(tmp_path: Path) -> None:
    """The configured database path is a directory: AuditError naming the log, for root too."""
    path = tmp_path / "audit.db"
    path.mkdir()
    with pytest.raises(AuditError):
        SQLiteQueryLog(path).record_intent(make_intent(1))


@pytest.mark.parametrize("mode", ["group", "per-row"])
def test_sqlite_disk_full_for_real_even_as_root(tmp_path: Path, mode: str) -> None:
    """A real ENOSPC-like failure below SQLite (the file-size limit, which binds root): every
    write past the cap is AuditError, every acknowledged record survives, the log works again
    once space is back."""
    import json
    import subprocess
    import sys

    path = tmp_path / "audit.db"
    done = subprocess.run(
        [sys.executable, "-m", "tests.audit._fsize_child", str(path), mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    assert seen["errors"], "the cap was never reached"
    assert set(seen["errors"]) == {"AuditError"}
    assert len(seen["acknowledged"]) > 10
    assert seen["verified"]
    assert seen["count"] == len(seen["acknowledged"]) + 1
    assert seen["exported"] == [*seen["acknowledged"], seen["after"]]


# -- PostgreSQL ----------------------------------------------------------------------------------


def _terminate_others(spec: StoreSpec) -> int:
    import psycopg

    with psycopg.connect(spec.target, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


@pytest.mark.postgres
@pytest.mark.parametrize("spec", ["postgres"], indirect=True)
def test_postgres_backends_terminated_between_writes(spec: StoreSpec) -> None:
    log = spec.open()
    per_row = spec.open(group_commit=False)
    log.record_intent(make_intent(1))
    per_row.record_intent(make_intent(2))
    log.enqueue_feedback([make_feedback(1)])
    assert _terminate_others(spec) >= 2
    # Connections found dead before COMMIT are replaced transparently: nothing was written.
    log.record_intent(make_intent(3))
    per_row.record_intent(make_intent(4))
    assert len(per_row.claim_feedback(5, 30)) == 1
    result = log.verify()
    assert result.ok
    assert result.count == 5  # four intents and the feedback's enqueue record


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("spec", ["postgres"], indirect=True)
def test_postgres_stopped_mid_run(spec: StoreSpec) -> None:
    if not spec.pg.can_stop:
        pytest.skip("an external server cannot be stopped by the tests")
    log = spec.open(connect_timeout=2)
    log.record_intent(make_intent(1))
    spec.pg.stop()
    try:
        ok, errors = _hammer(log, 4)
        assert ok == []
        assert len(errors) == 4
        assert all(isinstance(e, AuditError) for e in errors)
        with pytest.raises(AuditError):
            log.enqueue_feedback([make_feedback(1)])
        with pytest.raises(AuditError):
            log.verify()
    finally:
        spec.pg.start()
    ok, errors = _hammer(log, 4)
    assert errors == []
    assert len(ok) == 4
    result = log.verify()
    assert result.ok
    assert result.count == 5
    assert log.outbox_stats().pending == 0
