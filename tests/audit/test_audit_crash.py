"""Crash consistency: a child process writes, reports each acknowledged id over a pipe, and is
SIGKILLed mid-stream. Every reported id must be in the log (or the outbox), and the chain must
verify. Also: several processes writing one SQLite file keep one linear chain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import StoreSpec

ROOT = Path(__file__).resolve().parents[2]


def _spawn(target: str, what: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.audit._crash_child", target, what],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def _kill_after(proc: subprocess.Popen[str], wanted: int) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        if line.strip() != "ready":
            lines.append(line.strip())
        if len(lines) >= wanted:
            break
    proc.send_signal(signal.SIGKILL)  # no cleanup, no flush, no close
    proc.wait(timeout=30)
    # Whatever was already in the pipe was acknowledged before the kill too.
    lines.extend(line.strip() for line in proc.stdout if line.strip())
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    return [line for line in lines if line != "ready"]


def _target(spec: StoreSpec) -> str:
    return spec.db_arg


@pytest.mark.slow
@pytest.mark.durable_only
def test_killed_writer_loses_no_acknowledged_record(spec: StoreSpec) -> None:
    spec.open().close()  # create the schema first so the child only writes
    acknowledged = _kill_after(_spawn(_target(spec), "log"), 300)
    assert len(acknowledged) >= 300
    with spec.open() as log:
        result = log.verify()
        assert result.ok, result
        stored = {(r.kind, r.query_id) for r in log.export()}
    for line in acknowledged:
        kind, query_id = line.split()
        assert (kind, query_id) in stored, line


@pytest.mark.slow
@pytest.mark.durable_only
def test_killed_writer_loses_no_acknowledged_feedback(spec: StoreSpec) -> None:
    spec.open().close()
    acknowledged = _kill_after(_spawn(_target(spec), "outbox"), 200)
    keys = {line.split()[1] for line in acknowledged}
    with spec.open() as log:
        # Every row has the chained record of its enqueue and no record lacks its row: the two
        # are one transaction, whatever moment the kill hit.
        result = log.verify()
        assert result.ok, result
        assert result.outbox_items >= len(keys)
        seen: set[str] = set()
        while batch := log.claim_feedback(500, 60):
            seen.update(c.item.idempotency_key for c in batch)
            log.mark_delivered([c.outbox_id for c in batch])
    assert keys <= seen


@pytest.mark.slow
def test_several_processes_share_one_sqlite_file(tmp_path: Path) -> None:
    from credit_sdk import SQLiteQueryLog

    path = str(tmp_path / "shared.db")
    SQLiteQueryLog(path).close()
    procs = [_spawn(path, "log") for _ in range(3)]
    acknowledged: list[str] = []
    for proc in procs:
        acknowledged += _kill_after(proc, 120)
    with SQLiteQueryLog(path) as log:
        result = log.verify()
        assert result.ok, result
        stored = {(r.kind, r.query_id) for r in log.export()}
    assert {tuple(line.split()) for line in acknowledged} <= stored
    assert result.count >= len(acknowledged)
