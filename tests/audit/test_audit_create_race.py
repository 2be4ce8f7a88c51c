"""Processes that start together on a query log that does not exist yet (the workers of a bulk
run, several instances of a service deployed at once) all open it: one creates it, the others
find it created, none fails. Real processes, released together by a barrier; bounded trials.

Before this was fixed, about one trial in three failed: SQLite answers the pragma that puts a
new file in WAL mode with "locked" at once, without waiting, while another process has the
file open, and a reader could see the tables of a half-made schema without its application id.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

from credit_sdk import SQLiteQueryLog

TRIALS = 8
OPENERS = 3


def _open(path: str, barrier: Any, answers: Any) -> None:
    barrier.wait(timeout=60)
    try:
        with SQLiteQueryLog(path) as log:
            answers.put(("ok", log.stats().records))
    except Exception as err:  # reported to the test, which fails naming it
        answers.put((type(err).__name__, str(err)))


def test_processes_that_open_a_new_log_together_all_succeed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    for trial in range(TRIALS):
        path = str(tmp_path / f"trial-{trial}.db")
        barrier = ctx.Barrier(OPENERS)
        answers = ctx.Queue()
        procs = [ctx.Process(target=_open, args=(path, barrier, answers)) for _ in range(OPENERS)]
        for p in procs:
            p.start()
        got = [answers.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        assert all(kind == "ok" for kind, _ in got), (trial, got)
        with SQLiteQueryLog(path, create=False) as log:
            assert log.verify().ok
        with contextlib.closing(sqlite3.connect(path)) as conn:
            assert str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal"
