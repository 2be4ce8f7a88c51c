"""A checkpoint vouches only for records it has checked (Art. 25).

A signed checkpoint makes a witness hold the head hash, and through the links everything
before it. An insider with write access to the database who edits a record written after the
last checkpoint, before the next one, must not get the edit signed: the writer recomputes and
links every record since the previous signed checkpoint and refuses to sign a broken range,
loudly (``AuditIntegrityError``, a critical log line, ``status()``), while ``verify`` names the
position. Every store; the edits go through the database, behind the store's back.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import (
    AuditIntegrityError,
    CheckpointPolicy,
    CheckpointSigner,
    FileCheckpointSink,
    QueryContext,
    SQLiteQueryLog,
    read_checkpoints,
)
from credit_sdk.testing import CreditPlatform, fake_uscc

from .conftest import Raw, StoreSpec, make_completion, make_intent


@pytest.fixture
def signer() -> CheckpointSigner:
    return CheckpointSigner.generate()


def _policy(signer: CheckpointSigner, witness: Path) -> CheckpointPolicy:
    # Cadence out of the way: these tests checkpoint by hand.
    return CheckpointPolicy(
        signer, every_records=1_000_000, every_seconds=86_400, sinks=[FileCheckpointSink(witness)]
    )


@pytest.fixture
def witness(tmp_path: Path) -> Path:
    return tmp_path / "witness.jsonl"


@pytest.fixture
def store(spec: StoreSpec, signer: CheckpointSigner, witness: Path) -> Any:
    return spec.open(checkpoints=_policy(signer, witness))


def _pairs(store: Any, n: int, start: int = 0) -> None:
    for k in range(start, start + n):
        intent = make_intent(k)
        store.record_intent(intent)
        store.record_completion(make_completion(intent))


def _flip_outcome(raw: Raw, seq: int) -> None:
    """What an insider does to a fresh completion: another outcome in the stored body and
    column, the stored hash left as it was."""
    (row,) = [r for r in raw.rows() if r.seq == seq]
    assert row.kind == "completion"
    assert row.outcome is not None
    other = "RESTRICTED" if row.outcome != "RESTRICTED" else "CLEAR"
    raw.update(seq, "body", row.body.replace(f'"{row.outcome}"', f'"{other}"'))
    raw.update(seq, "outcome", other)


def test_a_record_edited_between_two_checkpoints_is_not_signed(
    store: Any, raw: Raw, witness: Path, caplog: Any
) -> None:
    _pairs(store, 5)  # records 1..10
    first = store.checkpoint()
    assert first is not None
    assert first.seq == 10
    _pairs(store, 3, start=5)  # records 12..17
    _flip_outcome(raw, 15)
    before = store.verify()
    caplog.set_level(logging.CRITICAL, logger="credit_sdk.audit")
    with pytest.raises(AuditIntegrityError, match="broken at record 15") as err:
        store.checkpoint()
    assert "no checkpoint was signed" in str(err.value)
    # Nothing signed, nothing witnessed, the chain as it was.
    assert [cp.seq for cp in read_checkpoints(witness)] == [10]
    after = store.verify()
    assert (after.head_seq, after.head_hash) == (before.head_seq, before.head_hash)
    assert after.head_seq == 17
    assert not after.ok
    assert after.position == 15
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert critical
    assert "record 15" in critical[0].getMessage()
    assert store.last_checkpoint_error.startswith("AuditIntegrityError: ")
    store.close()


def test_an_edit_before_the_first_checkpoint_is_not_signed(
    store: Any, raw: Raw, witness: Path
) -> None:
    _pairs(store, 3)  # records 1..6
    _flip_outcome(raw, 2)
    with pytest.raises(AuditIntegrityError, match="broken at record 2"):
        store.checkpoint()
    assert not witness.exists()
    store.close()


def test_a_record_deleted_since_the_checkpoint_is_not_signed(
    store: Any, raw: Raw, witness: Path
) -> None:
    _pairs(store, 2)
    assert store.checkpoint() is not None  # of record 4, its record is 5
    _pairs(store, 2, start=2)  # 6..9
    raw.delete(7)
    with pytest.raises(AuditIntegrityError, match="broken at record 7"):
        store.checkpoint()
    assert len(read_checkpoints(witness)) == 1
    store.close()


def test_an_intact_range_is_signed_after_a_key_rotation(
    spec: StoreSpec, signer: CheckpointSigner, tmp_path: Path
) -> None:
    """The previous checkpoint's signature is checked under the current key only when it is
    that key's; one signed under a retired key does not block the next checkpoint."""
    witness = tmp_path / "witness.jsonl"
    store = spec.open(checkpoints=_policy(signer, witness))
    _pairs(store, 2)
    assert store.checkpoint() is not None
    store.close()
    if spec.kind == "memory":
        return  # nothing survives a reopen
    rotated = CheckpointSigner.generate()
    store = spec.open(checkpoints=_policy(rotated, witness))
    _pairs(store, 2, start=2)
    cp = store.checkpoint()
    assert cp is not None
    assert cp.key == rotated.key_id
    assert store.last_checkpoint_error is None
    store.close()


def test_status_shows_a_refused_checkpoint(tmp_path: Path, signer: CheckpointSigner) -> None:
    platform = CreditPlatform()
    db = tmp_path / "audit.db"
    log = SQLiteQueryLog(db, checkpoints=_policy(signer, tmp_path / "witness.jsonl"))
    client = platform.client(audit=log)
    ctx = QueryContext(organ="230100-SCJGJ", operator="u1", matter_code="XK-7", purpose="licence 7")
    client.check(fake_uscc(1), "admin_licensing", ctx)
    assert client.status().last_checkpoint_error is None
    import sqlite3

    conn = sqlite3.connect(db, isolation_level=None)
    try:  # the insider: the completion now says something else, the hash untouched
        (body,) = conn.execute("SELECT body FROM audit_records WHERE seq = 2").fetchone()
        assert '"outcome":"CLEAR"' in body
        edited = body.replace('"outcome":"CLEAR"', '"outcome":"RESTRICTED"')
        conn.execute("UPDATE audit_records SET body = ? WHERE seq = 2", (edited,))
    finally:
        conn.close()
    with pytest.raises(AuditIntegrityError):
        log.checkpoint()
    status = client.status()
    assert status.last_checkpoint_error is not None
    assert status.last_checkpoint_error.startswith("AuditIntegrityError: ")
    assert "record 2" in status.last_checkpoint_error
    client.close()
    log.close()


def test_a_rewrite_behind_the_last_checkpoint_this_process_signed_is_not_signed(
    store: Any, raw: Raw, witness: Path
) -> None:
    """The insider deletes the newest signed checkpoint record (its signature cannot be
    forged) and rewrites the chain consistently from before it: every hash recomputed, the
    head moved. The database alone no longer shows it, but the process that signed the deleted
    checkpoint still knows what it signed, and refuses to sign the rewrite."""
    from .test_audit_checkpoints import _rewrite_from

    _pairs(store, 5)  # records 1..10
    signed = store.checkpoint()
    assert signed is not None  # of record 10; its record is 11
    _pairs(store, 2, start=5)  # 12..15
    _rewrite_from(raw, 5)  # the checkpoint record dropped, 5..14 rehashed
    assert store.verify().ok  # consistent on its own
    with pytest.raises(AuditIntegrityError, match="broken at record 10") as err:
        store.checkpoint()
    assert "this process signed" in str(err.value)
    assert [cp.seq for cp in read_checkpoints(witness)] == [10]
