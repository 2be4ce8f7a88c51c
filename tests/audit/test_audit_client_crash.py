"""Crash consistency through ``CreditClient``: a child process checks subjects (checkpoints and
the report archive on) and is SIGKILLed again and again on one log (a SQLite file; a
PostgreSQL schema on a throwaway local server), mid-stream and during start-up. After every
kill: every decision the client returned has its intent and completion, at most the checks in
flight lack a completion, the chain verifies (the command line agrees), and every returned
decision replays from its archived report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from credit_sdk import ReportArchive, replay
from credit_sdk.cli import EXIT_OK, main

from .conftest import StoreSpec

ROOT = Path(__file__).resolve().parents[2]
KILLS = 6  # bounded: each trial is one child, killed once


def _spawn(target: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.audit._client_crash_child", target],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def _kill_after(proc: subprocess.Popen[str], wanted: int) -> list[str]:
    """SIGKILL the child once it has returned ``wanted`` decisions (0: at once, during
    start-up); every decision it printed was returned before the kill."""
    assert proc.stdout is not None
    returned: list[str] = []
    if wanted:
        for line in proc.stdout:
            returned.append(line.split()[0])
            if len(returned) >= wanted:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    returned.extend(line.split()[0] for line in proc.stdout if line.strip())
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    return returned


@pytest.mark.slow
@pytest.mark.durable_only
def test_repeated_kills_through_the_client_lose_no_returned_decision(
    spec: StoreSpec, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = ReportArchive(bytes(32))
    all_returned: list[str] = []
    for trial in range(KILLS):
        # Every third trial is killed during start-up, before any decision.
        wanted = 0 if trial % 3 == 2 else 40 + 20 * trial
        returned = _kill_after(_spawn(spec.db_arg), wanted)
        all_returned += returned
        with spec.open(create=False) as log:
            result = log.verify()
            assert result.ok, (trial, result)
            kinds: dict[str, set[str]] = {}
            for record in log.export():
                if record.query_id is not None:
                    kinds.setdefault(record.query_id, set()).add(record.kind)
            for qid in all_returned:
                assert kinds.get(qid) == {"intent", "completion"}, (trial, qid)
            stats = log.stats()
            # Only the checks in flight at the kill (three threads) may lack a completion.
            assert stats.incomplete <= 3 * (trial + 1)
            assert stats.head_problem is None
            for qid in returned[-3:]:
                assert replay(log, qid, archive=archive).same
        capsys.readouterr()
        assert main(["audit", "verify", "--db", spec.db_arg]) == EXIT_OK
        assert "chain verified" in capsys.readouterr().out
    assert len(all_returned) >= 40
