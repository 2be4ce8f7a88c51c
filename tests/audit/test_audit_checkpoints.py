"""Signed checkpoints held by a witness (Art. 25): what an insider who can write the database
can do without them (cut off the newest records, rewrite the chain consistently from any point,
delete or rewind the head row) and how the witnessed checkpoints prove each of them, on every
store; and what stays outside the proven range."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import (
    AuditIntegrityError,
    CheckpointPolicy,
    CheckpointSigner,
    ConfigurationError,
    FileCheckpointSink,
    SignedCheckpoint,
    read_checkpoints,
)
from credit_sdk._audit._chain import PendingRecord, StoredRow, chain

from .conftest import Raw, StoreSpec, make_completion, make_intent


@pytest.fixture
def signer() -> CheckpointSigner:
    return CheckpointSigner.generate()


@pytest.fixture
def witness_file(tmp_path: Path) -> Path:
    return tmp_path / "witness.jsonl"


@pytest.fixture
def store(spec: StoreSpec, signer: CheckpointSigner, witness_file: Path) -> Any:
    # Cadence out of the way (a day, a million records): these tests checkpoint by hand.
    policy = CheckpointPolicy(
        signer,
        every_records=1_000_000,
        every_seconds=86_400,
        sinks=[FileCheckpointSink(witness_file)],
    )
    return spec.open(checkpoints=policy)


def _pairs(store: Any, n: int, start: int = 0) -> None:
    for k in range(start, start + n):
        intent = make_intent(k)
        store.record_intent(intent)
        store.record_completion(make_completion(intent))


@pytest.fixture
def witnessed(store: Any, witness_file: Path) -> list[SignedCheckpoint]:
    """Records 1..10, a checkpoint of record 10 (its record is 11), then records 12..15."""
    _pairs(store, 5)
    cp = store.checkpoint()
    assert cp is not None
    assert cp.seq == 10
    _pairs(store, 2, start=5)
    assert store.verify().head_seq == 15
    return read_checkpoints(witness_file)


def _set_head(raw: Raw, seq: int, digest: str) -> None:
    if raw.spec.kind == "memory":
        raw.store._head = (seq, digest)
        return
    raw.sql("UPDATE {s}.audit_chain_head SET seq = %s, hash = %s", (seq, digest))


def _truncate(raw: Raw, keep_through: int) -> None:
    """Cut the chain after ``keep_through`` and move the head back to it: consistent."""
    rows = raw.rows()
    for r in rows:
        if r.seq > keep_through:
            raw.delete(r.seq)
    last = next(r for r in rows if r.seq == keep_through)
    _set_head(raw, last.seq, last.hash)


def _rewrite_from(raw: Raw, position: int, *, drop_signed: bool = True) -> list[StoredRow]:
    """Rewrite every record from ``position`` on, outcomes changed, every hash recomputed and
    the head row moved: a chain that verifies on its own. Signed checkpoints after the point
    are dropped (their signatures cannot be forged) unless ``drop_signed`` is false."""
    rows = raw.rows()
    kept = [r for r in rows if r.seq < position]
    doomed = [r for r in rows if r.seq >= position]
    pending = []
    for r in doomed:
        if r.kind == "signed_checkpoint" and drop_signed:
            continue
        body = r.body.replace('"CLEAR"', '"RESTRICTED"')
        outcome = "RESTRICTED" if r.outcome == "CLEAR" else r.outcome
        pending.append(
            PendingRecord(
                r.record_id, r.kind, r.query_id, r.event_at, r.organ, r.subject_pseudonym,
                outcome, body,
            )
        )  # fmt: skip
    after = (kept[-1].seq, kept[-1].hash) if kept else (0, "0" * 64)
    new = chain(pending, after[0], after[1], doomed[0].recorded_at)
    for r in doomed:
        raw.delete(r.seq)
    for r in new:
        raw.insert(r)
    _set_head(raw, new[-1].seq, new[-1].hash)
    return new


def test_checkpoints_are_signed_chained_and_witnessed(
    store: Any, signer: CheckpointSigner, witnessed: list[SignedCheckpoint]
) -> None:
    (cp,) = witnessed
    assert cp.verify(signer.public_key)
    assert not cp.verify(CheckpointSigner.generate().public_key)
    records = list(store.export())
    assert records[9].hash == cp.hash
    assert records[10].kind == "signed_checkpoint"
    assert json.loads(records[10].body)["signature"] == cp.signature
    result = store.verify(witnessed, public_key=signer.public_key)
    assert result.ok, result
    assert result.witnessed_seq == 10
    assert "records 11..15 are outside the proven range" in str(result)
    # Nothing new since the newest record was a checkpoint: no second one.
    store.checkpoint()
    assert store.checkpoint() is None


def test_tail_truncation_is_proven_by_the_witness(
    store: Any, raw: Raw, signer: CheckpointSigner, witnessed: list[SignedCheckpoint]
) -> None:
    _truncate(raw, 7)
    assert store.verify().ok  # the chain alone cannot tell
    result = store.verify(witnessed, public_key=signer.public_key)
    assert (result.ok, result.break_kind, result.position) == (False, "deleted", 8)
    assert "names record 10" in str(result)
    assert "chain ends at record 7" in str(result)


def test_tail_truncation_is_proven_by_an_expected_hash(
    store: Any, raw: Raw, witnessed: list[SignedCheckpoint]
) -> None:
    head = store.verify()
    _truncate(raw, 12)
    assert store.verify().ok
    result = store.verify(expect=[(head.head_seq, head.head_hash)])
    assert (result.ok, result.break_kind, result.position) == (False, "deleted", 13)


@pytest.mark.parametrize("position", [1, 4, 10])
def test_consistent_rewrite_at_or_before_the_checkpoint_is_proven(
    store: Any, raw: Raw, signer: CheckpointSigner, witnessed: list[SignedCheckpoint], position: int
) -> None:
    _rewrite_from(raw, position)
    assert store.verify().ok  # rewritten consistently: the chain alone cannot tell
    result = store.verify(witnessed, public_key=signer.public_key)
    assert (result.ok, result.break_kind, result.position) == (False, "changed", 10)
    assert "rewritten at or before this record" in str(result)


def test_rewrite_keeping_the_signed_record_is_found_without_the_witness(
    store: Any, raw: Raw, witnessed: list[SignedCheckpoint]
) -> None:
    _rewrite_from(raw, 6, drop_signed=False)
    result = store.verify()
    assert (result.ok, result.break_kind, result.position) == (False, "changed", 11)
    assert "does not name the record before it" in str(result)


def test_rewrite_after_the_last_checkpoint_is_outside_the_proven_range(
    store: Any, raw: Raw, signer: CheckpointSigner, witnessed: list[SignedCheckpoint]
) -> None:
    _rewrite_from(raw, 13)
    result = store.verify(witnessed, public_key=signer.public_key)
    assert result.ok
    assert result.witnessed_seq == 10
    assert "records 11..15 are outside the proven range" in str(result)


def test_head_row_deleted_after_truncation_is_proven(
    store: Any, spec: StoreSpec, raw: Raw, signer: CheckpointSigner, witnessed: list[Any]
) -> None:
    if spec.kind == "memory":
        pytest.skip("the in-memory store keeps no head row")
    _truncate(raw, 9)
    raw.sql("DELETE FROM {s}.audit_chain_head")
    result = store.verify(witnessed, public_key=signer.public_key)
    assert (result.ok, result.break_kind, result.position) == (False, "deleted", 10)


def test_edited_signature_in_the_chain_is_found(
    store: Any, raw: Raw, signer: CheckpointSigner, witnessed: list[SignedCheckpoint]
) -> None:
    row = next(r for r in raw.rows() if r.kind == "signed_checkpoint")
    forged = SignedCheckpoint(row.seq - 1, json.loads(row.body)["hash"],
                              json.loads(row.body)["at"], signer.key_id, "0" * 128)  # fmt: skip
    body = forged.to_json()
    from credit_sdk._audit._chain import record_hash

    raw.update(row.seq, "body", body)
    raw.update(row.seq, "hash", record_hash(
        seq=row.seq, kind=row.kind, record_id=row.record_id, prev_hash=row.prev_hash,
        recorded_at=row.recorded_at, body=body,
    ))  # fmt: skip
    result = store.verify(public_key=signer.public_key)
    assert (result.ok, result.position) == (False, 11)
    assert "signature does not verify" in str(result)


def test_a_forged_or_foreign_witness_copy_is_refused(
    store: Any, signer: CheckpointSigner, witnessed: list[SignedCheckpoint]
) -> None:
    (cp,) = witnessed
    other = CheckpointSigner.generate()
    with pytest.raises(ConfigurationError, match="not signed by this key"):
        store.verify([cp], public_key=other.public_key)
    bent = SignedCheckpoint(cp.seq, "f" * 64, cp.at, cp.key, cp.signature)
    with pytest.raises(ConfigurationError, match="not signed by this key"):
        store.verify([bent], public_key=signer.public_key)


def test_checkpoint_file_lines_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonl"
    path.write_text('{"v":1,"seq":1}\n')
    with pytest.raises(ConfigurationError, match="line 1"):
        read_checkpoints(path)
    path.write_text("not json\n")
    with pytest.raises(ConfigurationError, match="line 1"):
        read_checkpoints(path)


def test_checkpoint_without_a_policy_is_a_configuration_error(spec: StoreSpec) -> None:
    log = spec.open()
    with pytest.raises(ConfigurationError, match="no checkpoint policy"):
        log.checkpoint()


def test_checkpoint_on_a_broken_head_fails_closed(
    store: Any, spec: StoreSpec, raw: Raw, witnessed: list[SignedCheckpoint]
) -> None:
    if spec.kind == "memory":
        pytest.skip("the in-memory store keeps no head row")
    raw.sql("DELETE FROM {s}.audit_chain_head")
    with pytest.raises(AuditIntegrityError):
        store.checkpoint()


# -- cadence -----------------------------------------------------------------------------------


def _wait_for(predicate: Any, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


@pytest.mark.parametrize("group_commit", [True, False])
def test_every_n_records_and_on_close(
    spec: StoreSpec, signer: CheckpointSigner, witness_file: Path, group_commit: bool
) -> None:
    policy = CheckpointPolicy(
        signer, every_records=6, every_seconds=86_400, sinks=[FileCheckpointSink(witness_file)]
    )
    log = spec.open(checkpoints=policy, group_commit=group_commit)
    _pairs(log, 3)  # 6 records: a checkpoint is due
    _wait_for(lambda: witness_file.exists() and len(read_checkpoints(witness_file)) == 1)
    (first,) = read_checkpoints(witness_file)
    assert first.seq == 6
    log.record_intent(make_intent(50))  # one more, not yet witnessed ...
    log.close()  # ... until the store closes
    cps = read_checkpoints(witness_file)
    assert [c.seq for c in cps] == [6, 8]
    reopened = spec.open()
    result = reopened.verify(cps, public_key=signer.public_key)
    assert result.ok, result
    assert result.witnessed_seq == 8


def test_every_t_seconds(spec: StoreSpec, signer: CheckpointSigner, witness_file: Path) -> None:
    policy = CheckpointPolicy(
        signer, every_records=1_000_000, every_seconds=0.2, sinks=[FileCheckpointSink(witness_file)]
    )
    log = spec.open(checkpoints=policy)
    log.record_intent(make_intent(1))
    _wait_for(lambda: witness_file.exists() and len(read_checkpoints(witness_file)) == 1)
    assert read_checkpoints(witness_file)[0].seq == 1
    log.close()
    assert len(read_checkpoints(witness_file)) == 1  # nothing new to witness at close


def test_a_failing_sink_never_fails_a_check(
    spec: StoreSpec, signer: CheckpointSigner, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(cp: SignedCheckpoint) -> None:
        raise OSError("witness unreachable")

    log = spec.open(checkpoints=CheckpointPolicy(signer, sinks=[broken]))
    log.record_intent(make_intent(1))
    cp = log.checkpoint()
    assert cp is not None
    assert any("sink" in r.getMessage() for r in caplog.records)
    assert log.verify().ok


def test_policy_arguments_are_checked(signer: CheckpointSigner) -> None:
    with pytest.raises(ConfigurationError):
        CheckpointPolicy(signer, every_records=0)
    with pytest.raises(ConfigurationError):
        CheckpointPolicy(signer, every_seconds=0)
    with pytest.raises(ConfigurationError):
        CheckpointPolicy("key")  # type: ignore[arg-type]
    assert "CheckpointSigner(key_id=" in repr(signer)
    assert signer.private_hex() not in repr(signer)


# -- the command line --------------------------------------------------------------------------


@pytest.mark.durable_only
def test_command_line_keygen_checkpoint_and_verify(
    spec: StoreSpec, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from credit_sdk.cli import EXIT_BROKEN_CHAIN, EXIT_OK, EXIT_USAGE, main

    key, pub, witness = tmp_path / "cp.key", tmp_path / "cp.pub", tmp_path / "w.jsonl"
    assert main(["audit", "keygen", "-o", str(key), "--public-output", str(pub)]) == EXIT_OK
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert main(["audit", "keygen", "-o", str(key)]) == EXIT_USAGE  # never overwritten
    capsys.readouterr()
    log = spec.open()
    _pairs(log, 4)
    log.close()
    argv = ["--db", spec.db_arg]
    checkpoint = ["audit", "checkpoint", *argv, "--signing-key", str(key), "--to", str(witness)]
    assert main(checkpoint) == EXIT_OK
    (cp,) = read_checkpoints(witness)
    assert cp.seq == 8
    assert cp.to_json() in capsys.readouterr().out
    assert main(checkpoint) == EXIT_OK  # nothing new: no second checkpoint
    assert len(read_checkpoints(witness)) == 1
    verify = ["audit", "verify", *argv, "--checkpoints", str(witness), "--public-key", str(pub)]
    assert main(verify) == EXIT_OK
    assert "proven against witnessed checkpoints up to record 8" in capsys.readouterr().out
    assert main(["audit", "verify", *argv, "--expect", f"8:{cp.hash}"]) == EXIT_OK
    capsys.readouterr()
    # An insider cuts the log back to record 5, head row and all.
    store = spec.open()
    _truncate(Raw(spec, store), 5)
    assert main(["audit", "verify", *argv]) == EXIT_OK  # the chain alone cannot tell
    capsys.readouterr()
    assert main(verify) == EXIT_BROKEN_CHAIN
    assert "chain broken at position 6" in capsys.readouterr().out
    assert main(["audit", "verify", *argv, "--expect", f"8:{cp.hash}"]) == EXIT_BROKEN_CHAIN
    capsys.readouterr()
    assert main(["audit", "verify", *argv, "--checkpoints", str(witness)]) == EXIT_USAGE
    assert main(["audit", "verify", *argv, "--expect", "8:abc"]) == EXIT_USAGE
    other = tmp_path / "other.pub"
    other.write_text(CheckpointSigner.generate().public_key.hex())
    bad = ["audit", "verify", *argv, "--checkpoints", str(witness), "--public-key", str(other)]
    assert main(bad) == EXIT_USAGE
    assert "not signed by this key" in capsys.readouterr().err


# -- the platform as a witness -----------------------------------------------------------------


def _context() -> Any:
    from credit_sdk import QueryContext

    return QueryContext(
        organ="230100-GGZY", operator="u1024", matter_code="BID-1", purpose="bidder screening"
    )


def test_checkpoints_reach_the_platform_through_the_outbox(
    spec: StoreSpec, signer: CheckpointSigner
) -> None:
    from credit_sdk import Scenario
    from credit_sdk.testing import CreditPlatform, fake_uscc

    platform = CreditPlatform()
    policy = CheckpointPolicy(signer, every_records=1_000_000, every_seconds=86_400)
    log = spec.open(checkpoints=policy)
    with platform.client(audit=log) as client:
        client.check(fake_uscc(31), Scenario.BIDDING, _context())
        cp = log.checkpoint()
        assert cp is not None
        platform.down()
        assert client.flush(timeout=2).pending == 1  # waits in the outbox while it is down
        platform.up()
        assert client.flush(timeout=10).pending == 0
        client.flush(timeout=10)
    assert platform.checkpoints == [cp.to_dict()]  # once, though flushed three times
    witnessed = [SignedCheckpoint.from_dict(c) for c in platform.checkpoints]
    result = log.verify(witnessed, public_key=signer.public_key)
    assert result.witnessed_seq == cp.seq


@pytest.mark.durable_only
def test_the_sandbox_witnesses_checkpoints_over_http(
    spec: StoreSpec, signer: CheckpointSigner
) -> None:
    import httpx

    from credit_sdk import CreditClient, Scenario
    from credit_sdk.sandbox import SandboxServer, seeded_subject

    policy = CheckpointPolicy(signer, every_records=1_000_000, every_seconds=86_400)
    log = spec.open(checkpoints=policy)
    with SandboxServer() as sandbox, CreditClient.sandbox(
        sandbox.url, token=sandbox.token, audit=log, pseudonym_key=b"k" * 32
    ) as client:
        client.check(seeded_subject("severe_list").identifier, Scenario.BIDDING, _context())
        cp = log.checkpoint()
        assert cp is not None
        assert client.flush(timeout=20).pending == 0
        auth = {"Authorization": f"Bearer {sandbox.token}"}
        answer = httpx.get(f"{sandbox.url}/_sandbox/checkpoints", headers=auth, timeout=10)
        kept = answer.json()["checkpoints"]
    assert [(c["seq"], c["hash"], c["signature"]) for c in kept] == [
        (cp.seq, cp.hash, cp.signature)
    ]
    witnessed = [SignedCheckpoint.from_dict({k: v for k, v in c.items() if k != "received_at"})
                 for c in kept]  # fmt: skip
    assert log.verify(witnessed, public_key=signer.public_key).witnessed_seq == cp.seq
