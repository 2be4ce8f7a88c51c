"""No checkpoint is left unwitnessed by a crash (Art. 25).

A checkpoint is worth something only once someone outside the machine holds it. The process
writing it can die (SIGKILL, power) right after the checkpoint's transaction committed: the
platform's copy must be in that same transaction (the outbox item), and the sinks (a file, a
host's callable) must be handed it when the log is next opened, once, whatever happens in
between. A sink that raised gets it again too; the file sink never writes a line twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import (
    AuditError,
    CheckpointPolicy,
    CheckpointSigner,
    FileCheckpointSink,
    SignedCheckpoint,
    read_checkpoints,
)
from credit_sdk._feedback import FeedbackSender
from credit_sdk.testing import CreditPlatform

from .conftest import StoreSpec, make_completion, make_intent

ROOT = Path(__file__).resolve().parents[2]


def _policy(signer: CheckpointSigner, *sinks: Any) -> CheckpointPolicy:
    return CheckpointPolicy(signer, every_records=1_000_000, every_seconds=86_400, sinks=sinks)


def _killed_while_checkpointing(spec: StoreSpec, key_hex: str, witness: Path, start: int) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.audit._checkpoint_crash_child", spec.db_arg, key_hex,
         str(witness), str(start), "5"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.splitlines() == ["checkpointing"]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@pytest.mark.durable_only
def test_a_checkpoint_committed_before_a_kill_reaches_every_witness(
    spec: StoreSpec, tmp_path: Path
) -> None:
    signer = CheckpointSigner.generate()
    key_hex = signer.private_hex()
    witness = tmp_path / "witness.jsonl"
    spec.open().close()  # the schema first: the child only writes

    # Killed twice on one log, each time between the commit and the sinks.
    for round_, start in enumerate((0, 5)):
        _killed_while_checkpointing(spec, key_hex, witness, start)
        assert len(_lines(witness)) == round_  # the sinks never saw this one
        with spec.open() as plain:  # the platform's copy was committed with the checkpoint
            claims = plain.claim_outbox(10, 30.0, kinds=["checkpoint"])
            assert len(claims) == round_ + 1
            plain.mark_failed([c.outbox_id for c in claims], "inspected", attempt=False)
        log = spec.open(checkpoints=_policy(signer, FileCheckpointSink(witness)))
        held = read_checkpoints(witness)
        expected = [10] if round_ == 0 else [10, 21]  # records 1..10 | 11 | 12..21 | 22
        assert [cp.seq for cp in held] == expected  # handed over when the log was opened
        result = log.verify(held, public_key=signer.public_key)
        assert result.ok, result
        assert result.witnessed_seq == expected[-1]
        log.close()

    # Opened again: nothing is handed twice, the file has no duplicate line.
    with spec.open(checkpoints=_policy(signer, FileCheckpointSink(witness))) as log:
        assert [cp.seq for cp in read_checkpoints(witness)] == [10, 21]
        assert len(_lines(witness)) == len(set(_lines(witness))) == 2
        # The platform's copies were committed with the checkpoints: both are in the outbox,
        # and are delivered once.
        platform = CreditPlatform()
        stats = FeedbackSender(log).flush(platform, timeout=30.0)
        assert (stats.pending, stats.dead) == (0, 0)
        assert sorted(c["seq"] for c in platform.checkpoints) == [10, 21]
        for copy in platform.checkpoints:
            assert SignedCheckpoint.from_dict(copy).verify(signer.public_key)


def test_a_sink_that_failed_is_handed_the_checkpoint_again(spec: StoreSpec, tmp_path: Path) -> None:
    signer = CheckpointSigner.generate()
    witness = tmp_path / "witness.jsonl"
    received: list[int] = []
    down = [True]

    def remote(cp: SignedCheckpoint) -> None:
        if down[0]:
            raise ConnectionError("witness unreachable")
        received.append(cp.seq)

    log = spec.open(checkpoints=_policy(signer, FileCheckpointSink(witness), remote))
    for k in range(2):
        intent = make_intent(k)
        log.record_intent(intent)
        log.record_completion(make_completion(intent))
    assert log.checkpoint() is not None  # of record 4; the remote witness is down
    assert received == []
    intent = make_intent(7)
    log.record_intent(intent)
    down[0] = False
    assert log.checkpoint() is not None  # of record 6: both are handed over, in order
    assert received == [4, 6]
    # The file sink took the first one already: no line twice.
    assert [cp.seq for cp in read_checkpoints(witness)] == [4, 6]
    log.close()


def test_the_file_sink_writes_a_repeated_checkpoint_once(tmp_path: Path) -> None:
    signer = CheckpointSigner.generate()
    path = tmp_path / "witness.jsonl"
    sink = FileCheckpointSink(path)
    first = signer.sign(4, "ab" * 32, "2026-03-01T08:00:00.000000Z")
    second = signer.sign(9, "cd" * 32, "2026-03-01T08:05:00.000000Z")
    for cp in (first, first, second, first, second):
        sink(cp)
    assert read_checkpoints(path) == [first, second]
    assert FileCheckpointSink(path)(second) is None  # another process, the same file
    assert read_checkpoints(path) == [first, second]


def test_a_witness_file_that_may_not_be_read_still_gets_every_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A witness file the application may append to but not read (the OS refuses to open it
    for reading; root is not refused, so the refusal is injected at ``os.open``): every
    checkpoint is appended, a repeat as a second line, which proving the log accepts."""
    from credit_sdk._audit._witness import expectations

    signer = CheckpointSigner.generate()
    path = tmp_path / "witness.jsonl"
    real_open = os.open

    def append_only(file: Any, flags: int, mode: int = 0o777) -> int:
        if flags & os.O_RDWR:
            raise PermissionError(13, "Permission denied")
        return real_open(file, flags, mode)

    monkeypatch.setattr(os, "open", append_only)
    sink = FileCheckpointSink(path)
    cp = signer.sign(4, "ab" * 32, "2026-03-01T08:00:00.000000Z")
    sink(cp)
    sink(cp)
    monkeypatch.undo()
    held = read_checkpoints(path)
    assert held == [cp, cp]
    assert expectations(held, signer.public_key) == {
        4: (cp.hash, f"the checkpoint signed at {cp.at}")
    }


def test_a_failed_look_at_the_mark_moves_no_mark(
    spec: StoreSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the store cannot say which checkpoints the sinks lack (the read fails), the fresh
    one is handed over but the mark stays: an earlier checkpoint a sink missed is not skipped."""
    signer = CheckpointSigner.generate()
    received: list[int] = []
    down = [True]

    def remote(cp: SignedCheckpoint) -> None:
        if down[0]:
            raise ConnectionError("witness unreachable")
        received.append(cp.seq)

    log = spec.open(checkpoints=_policy(signer, remote))
    real = log._unwitnessed_checkpoints
    calls = [0]

    def failing_once(sinks: str) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            raise AuditError("query log: checkpoint sinks: database is locked")
        return real(sinks)

    def checkpoint_of_a_new_record(k: int) -> None:
        log.record_intent(make_intent(k))
        assert log.checkpoint() is not None

    checkpoint_of_a_new_record(0)  # of record 1; the sink is down
    down[0] = False
    monkeypatch.setattr(log, "_unwitnessed_checkpoints", failing_once)
    checkpoint_of_a_new_record(1)  # of record 3, handed over fresh; the look fails
    assert received == [3]
    checkpoint_of_a_new_record(2)  # of record 5: record 1's is handed over now, not skipped
    assert received == [3, 1, 3, 5]
    log.close()
