"""One subject's export (Art. 50) through the SQLite log's subject index.

The source of truth is the chain: a subject's export must hold exactly the intents whose
*body* names that pseudonym and their completions, in chain order, whatever the index holds.
The index is edited here the way someone with write access to the file could edit it; every
edit either leaves the export exact or makes it fail loudly, and the rewrites an export cannot
see (index and summary changed together) are found by ``check_subject_index``.
"""

from __future__ import annotations

import multiprocessing
import signal
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_sdk import AuditIntegrityError, SQLiteQueryLog
from credit_sdk._audit import _subject_index

from .conftest import make_completion, make_intent, pseudonym, resident_id

SUBJECTS = [resident_id(i) for i in range(1, 7)]


@pytest.fixture(autouse=True)
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of a few records, so that small logs have many runs, merges and a tail."""
    monkeypatch.setattr(_subject_index, "TAIL", 8)
    monkeypatch.setattr(_subject_index, "CHUNK_SEQS", 16)
    monkeypatch.setattr(_subject_index, "MAX_RUN_ENTRIES", 40)


def _expected(log: Any, subject: str) -> list[tuple[int, str]]:
    """The subject's records as a scan of the whole chain finds them (by the hashed body)."""
    full = list(log.export())
    queries = {
        r.query_id for r in full if r.kind == "intent" and r.data["subject_pseudonym"] == subject
    }
    return [
        (r.seq, r.record_id)
        for r in full
        if r.kind in ("intent", "completion") and r.query_id in queries
    ]


def _exported(log: Any, subject: str, **filters: Any) -> list[tuple[int, str]]:
    return [(r.seq, r.record_id) for r in log.export(subject_pseudonym=subject, **filters)]


def _append(log: SQLiteQueryLog, subjects: list[int], *, complete: bool = True) -> None:
    records: list[Any] = []
    for k in subjects:
        intent = make_intent(k, raw_id=SUBJECTS[k])
        records.append(intent)
        if complete:
            records.append(make_completion(intent, "RESTRICTED" if k % 2 else "CLEAR"))
    log.append(records)


def _later_than_now() -> datetime:
    cutoff = datetime.now(UTC) + timedelta(microseconds=1)
    while datetime.now(UTC) <= cutoff:  # the next records are written after it
        pass
    return cutoff


_OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("append"),
            st.lists(st.integers(0, len(SUBJECTS) - 1), min_size=1, max_size=12),
            st.booleans(),
        ),
        st.tuples(st.just("index")),
        st.tuples(st.just("export"), st.integers(0, len(SUBJECTS) - 1)),
        st.tuples(st.just("prune")),
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=_OPS)
def test_one_subjects_export_is_the_filtered_full_export(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp, SQLiteQueryLog(Path(tmp) / "a.db") as log:
        cutoffs: list[datetime] = []
        for op in ops:
            if op[0] == "append":
                _append(log, op[1], complete=op[2])
                cutoffs.append(_later_than_now())
            elif op[0] == "index":
                log.index_subjects()
            elif op[0] == "export":
                subject = pseudonym(SUBJECTS[op[1]])
                assert _exported(log, subject) == _expected(log, subject)
            elif cutoffs:
                log.prune(cutoffs[len(cutoffs) // 2])
        for raw in SUBJECTS:
            subject = pseudonym(raw)
            assert _exported(log, subject) == _expected(log, subject)
        assert log.check_subject_index() is None
        assert log.verify().ok


def test_filters_combine_with_the_subject(tmp_path: Path) -> None:
    with SQLiteQueryLog(tmp_path / "a.db") as log:
        _append(log, [0, 1, 0, 2] * 10)
        middle = _later_than_now()
        for k in (0, 1, 0):
            intent = make_intent(k, raw_id=SUBJECTS[k], organ="230100-FGW")
            log.append([intent, make_completion(intent)])
        subject = pseudonym(SUBJECTS[0])
        every = _expected(log, subject)
        assert len(every) == 2 * 22
        got = _exported(log, subject, organ="230100-FGW")
        assert [rid.split(":")[0] for _, rid in got] == ["intent", "completion"] * 2
        assert _exported(log, subject, since=middle) == got
        assert _exported(log, subject, until=middle) == every[: len(every) - 4]


# -- the index built on first need, off the append path -------------------------------------


def _tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


def test_appends_write_no_index_and_the_first_export_builds_it(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with SQLiteQueryLog(path) as log:
        _append(log, [0, 1, 2, 3] * 20)
    assert "audit_subject_index" not in _tables(path)
    with SQLiteQueryLog(path, create=False) as reader:  # what the command line opens
        subject = pseudonym(SUBJECTS[2])
        assert len(_exported(reader, subject)) == 40
        assert "audit_subject_index" in _tables(path)
        through, last = _indexed(path)
        assert through == last == 160
        # A short tail is scanned, not indexed: an export writes nothing for it.
    with SQLiteQueryLog(path) as log:
        _append(log, [2, 3])
        assert len(_exported(log, subject)) == 42
        assert _indexed(path) == (160, 164)
        assert log.verify().ok


def _indexed(path: Path) -> tuple[int | None, int | None]:
    conn = sqlite3.connect(path)
    try:
        return _subject_index.state(conn)
    finally:
        conn.close()


class _Counting(sqlite3.Connection):
    """Counts the SQLite virtual machine's steps (in units of 100) on every connection."""

    steps = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_progress_handler(self._step, 100)

    @classmethod
    def _step(cls) -> int:
        cls.steps += 1
        return 0


class _CountingLog(SQLiteQueryLog):
    _connection_factory = _Counting


def test_an_export_reads_that_subjects_rows_not_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work measured in SQLite VM steps (not time): doubling the log with other subjects'
    records leaves the cost of one subject's export about where it was."""
    monkeypatch.setattr(_subject_index, "CHUNK_SEQS", 4096)
    monkeypatch.setattr(_subject_index, "MAX_RUN_ENTRIES", 1 << 20)
    wanted = pseudonym(SUBJECTS[0])
    others = [
        i for i in range(100, 600)
        if _subject_index.bucket(pseudonym(resident_id(i))) != _subject_index.bucket(wanted)
    ]  # fmt: skip
    with _CountingLog(tmp_path / "a.db") as log:

        def fill() -> None:
            for start in range(0, 4000, 400):
                batch = [make_intent(start + j, raw_id=resident_id(others[j % len(others)]))
                         for j in range(400)]  # fmt: skip
                log.append(batch)

        fill()
        _append(log, [0] * 20)
        log.index_subjects()

        def steps() -> int:
            _Counting.steps = 0
            assert len(_exported(log, wanted)) == 40
            return _Counting.steps

        small = steps()
        fill()
        fill()
        log.index_subjects()
        large = steps()
        assert large < small * 1.5 + 20, (small, large)
        scanned = _Counting.steps = 0
        monkeypatch.setattr(_subject_index, "lookup", lambda conn, p: ([], None))
        assert len(_exported(log, wanted)) == 40
        scanned = _Counting.steps
        assert large * 5 < scanned, (large, scanned)


def test_a_log_that_cannot_be_written_is_exported_by_a_scan(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with SQLiteQueryLog(path) as log:
        _append(log, [0, 1, 2] * 10)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with SQLiteQueryLog(path, create=False, timeout=0.2, busy_timeout=0.2) as reader:
            subject = pseudonym(SUBJECTS[1])
            assert _exported(reader, subject) == _expected(reader, subject)
            assert len(_exported(reader, subject)) == 20
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _indexed(path) == (None, 60)


# -- tampering with the index -----------------------------------------------------------------


@pytest.fixture
def indexed_log(tmp_path: Path) -> Iterator[tuple[SQLiteQueryLog, Path]]:
    path = tmp_path / "a.db"
    with SQLiteQueryLog(path) as log:
        for _ in range(16):
            _append(log, [0, 1, 2, 3, 4, 5])
        log.index_subjects()
        yield log, path


def _edit(path: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(sql, params)
    finally:
        conn.close()


def _entries(path: Path, subject: str) -> list[tuple[int, int]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT run, seq FROM audit_subject_index WHERE subject_pseudonym = ? ORDER BY seq",
            (subject,),
        ).fetchall()
    finally:
        conn.close()


def _intent_seq(path: Path, subject: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(
            "SELECT MIN(seq) FROM audit_records WHERE kind = 'intent' AND subject_pseudonym = ?",
            (subject,),
        ).fetchone()[0])  # fmt: skip
    finally:
        conn.close()


A, B = pseudonym(SUBJECTS[0]), pseudonym(SUBJECTS[1])


def _exact_or_loud(log: SQLiteQueryLog, subject: str) -> bool:
    """The export is exact (True) or fails with AuditIntegrityError (False), nothing else."""
    try:
        got = _exported(log, subject)
    except AuditIntegrityError as err:
        message = str(err)
    else:
        assert got == _expected(log, subject)
        return True
    assert "subject index" in message
    return False


def test_a_deleted_index_row_fails_the_export(indexed_log: tuple[Any, Path]) -> None:
    log, path = indexed_log
    run, seq = _entries(path, A)[3]
    _edit(path, "DELETE FROM audit_subject_index WHERE run = ? AND seq = ?", (run, seq))
    assert not _exact_or_loud(log, A)
    assert log.check_subject_index() is not None


def test_an_added_index_row_fails_the_export(indexed_log: tuple[Any, Path]) -> None:
    log, path = indexed_log
    run, _ = _entries(path, A)[0]
    other = next(s for r, s in _entries(path, B) if r == run)
    _edit(path, "INSERT INTO audit_subject_index VALUES (?, ?, ?)", (run, A, other))
    assert not _exact_or_loud(log, A)


@pytest.mark.parametrize("column", ["seq", "subject_pseudonym"])
def test_an_altered_index_row_fails_the_export(
    indexed_log: tuple[Any, Path], column: str
) -> None:
    log, path = indexed_log
    run, seq = _entries(path, A)[1]
    value: Any = seq + 1 if column == "seq" else B
    _edit(
        path, f"UPDATE audit_subject_index SET {column} = ? WHERE run = ? AND seq = ?",
        (value, run, seq),
    )  # fmt: skip
    assert not _exact_or_loud(log, A)


def test_deleted_or_moved_runs_fail_the_export(indexed_log: tuple[Any, Path]) -> None:
    log, path = indexed_log
    conn = sqlite3.connect(path, isolation_level=None)
    runs = conn.execute(
        "SELECT run, first_seq FROM audit_subject_runs ORDER BY first_seq"
    ).fetchall()
    conn.close()
    assert len(runs) >= 3
    # The newest run's row deleted: its range is unindexed again, indexed anew (exact).
    _edit(path, "DELETE FROM audit_subject_runs WHERE run = ?", (runs[-1][0],))
    assert _exact_or_loud(log, A)
    assert log.check_subject_index() is None
    _edit(path, "DELETE FROM audit_subject_runs WHERE run = ?", (runs[1][0],))
    assert not _exact_or_loud(log, A)
    _edit(path, "DELETE FROM audit_subject_runs WHERE run = ?", (runs[0][0],))
    assert not _exact_or_loud(log, A)


def test_a_damaged_summary_fails_the_export(indexed_log: tuple[Any, Path]) -> None:
    log, path = indexed_log
    _edit(path, "UPDATE audit_subject_runs SET summary = x'00'")
    assert not _exact_or_loud(log, A)


def test_a_consistent_rewrite_is_found_by_the_check_and_undone_by_a_rebuild(
    indexed_log: tuple[Any, Path],
) -> None:
    """Index rows and their summary changed together: the export cannot tell (documented),
    the check against the chain can, and a rebuild restores the exact export."""
    log, path = indexed_log
    run, seq = _entries(path, A)[2]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DELETE FROM audit_subject_index WHERE run = ? AND seq = ?", (run, seq))
    kept = conn.execute(
        "SELECT subject_pseudonym, seq FROM audit_subject_index WHERE run = ?", (run,)
    ).fetchall()
    conn.execute(
        "UPDATE audit_subject_runs SET entries = ?, summary = ? WHERE run = ?",
        (len(kept), _subject_index.summarize(kept), run),
    )
    conn.close()
    problem = log.check_subject_index()
    assert problem is not None
    assert "records" in problem
    log.index_subjects(rebuild=True)
    assert log.check_subject_index() is None
    assert _exported(log, A) == _expected(log, A)


def test_an_index_row_naming_another_subjects_record_is_refused(
    indexed_log: tuple[Any, Path],
) -> None:
    """Even with a consistent summary, a record the index names must be that subject's."""
    log, path = indexed_log
    run, _ = _entries(path, A)[0]
    other = next(s for r, s in _entries(path, B) if r == run)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("INSERT INTO audit_subject_index VALUES (?, ?, ?)", (run, A, other))
    kept = conn.execute(
        "SELECT subject_pseudonym, seq FROM audit_subject_index WHERE run = ?", (run,)
    ).fetchall()
    conn.execute(
        "UPDATE audit_subject_runs SET entries = ?, summary = ? WHERE run = ?",
        (len(kept), _subject_index.summarize(kept), run),
    )
    conn.close()
    with pytest.raises(AuditIntegrityError, match="not an intent of that subject"):
        _exported(log, A)


def test_prune_keeps_the_index_consistent(tmp_path: Path) -> None:
    with SQLiteQueryLog(tmp_path / "a.db") as log:
        cutoffs = []
        for _ in range(6):
            _append(log, [0, 1, 2, 3])
            cutoffs.append(_later_than_now())
        log.index_subjects()
        result = log.prune(cutoffs[2])  # the pruned prefix ends inside a run
        assert result.pruned == 24
        assert log.check_subject_index() is None
        for raw in SUBJECTS[:4]:
            assert _exported(log, pseudonym(raw)) == _expected(log, pseudonym(raw))
        assert log.verify().ok


# -- a crash while the index is being built ----------------------------------------------------


def _build_forever(path: str, ready: Any) -> None:
    _subject_index.CHUNK_SEQS = 64
    _subject_index.MAX_RUN_ENTRIES = 400
    with SQLiteQueryLog(path, create=False) as log:
        ready.set()
        while True:
            log.index_subjects(rebuild=True)


def test_a_crash_mid_build_leaves_whole_runs(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with SQLiteQueryLog(path) as log:
        for _ in range(40):
            _append(log, [0, 1, 2, 3, 4, 5] * 5)
    ctx = multiprocessing.get_context("spawn")
    for trial in range(3):
        ready = ctx.Event()
        child = ctx.Process(target=_build_forever, args=(str(path), ready), daemon=True)
        child.start()
        try:
            assert ready.wait(30)
            time.sleep(0.05 + 0.1 * trial)
        finally:
            assert child.pid is not None
            child.kill() if child.is_alive() else None
            child.join(10)
        assert child.exitcode == -signal.SIGKILL
        with SQLiteQueryLog(path, create=False) as log:
            assert log.check_subject_index() is None
            for raw in SUBJECTS:
                assert _exported(log, pseudonym(raw)) == _expected(log, pseudonym(raw))
            assert log.verify().ok
