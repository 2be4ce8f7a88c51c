"""Exports that verify offline: ``credit-sdk audit export`` carries each record's exact stored
body, so an export (with the witnessed checkpoints) is proven without the database, and a
subject's Art. 50 export can be checked record by record."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import CheckpointPolicy, CheckpointSigner, ConfigurationError
from credit_sdk._audit._export import verify_export, write_jsonl
from credit_sdk._audit._witness import expectations

from .conftest import Raw, StoreSpec, make_completion, make_intent, pseudonym, resident_id


@pytest.fixture
def signer() -> CheckpointSigner:
    return CheckpointSigner.generate()


@pytest.fixture
def logged(spec: StoreSpec, signer: CheckpointSigner) -> tuple[Any, Any]:
    """Ten records about two subjects, a checkpoint of record 10 (record 11), two more."""
    log = spec.open(checkpoints=CheckpointPolicy(signer, every_records=10**6, every_seconds=86_400))
    for n in range(6):
        intent = make_intent(n, raw_id=resident_id(1 if n % 2 else 2))
        log.record_intent(intent)
        log.record_completion(make_completion(intent))
        if n == 4:
            cp = log.checkpoint()
    return log, cp


def _export(log: Any, **filters: Any) -> list[str]:
    out = io.StringIO()
    write_jsonl(log.export(**filters), out)
    return out.getvalue().splitlines()


def test_a_full_export_verifies_offline_against_the_checkpoint(
    logged: tuple[Any, Any], signer: CheckpointSigner
) -> None:
    log, cp = logged
    lines = _export(log)
    assert all("body" in json.loads(line) for line in lines)
    witnessed = expectations([cp], signer.public_key)
    result = verify_export(lines, witnessed=witnessed, public_key=signer.public_key)
    assert result.ok, result
    assert (result.count, result.head_seq, result.witnessed_seq) == (13, 13, 10)
    assert result.head_hash == log.verify().head_hash


def test_an_edited_export_line_is_found_at_its_position(logged: tuple[Any, Any]) -> None:
    log, _ = logged
    lines = _export(log)
    record = json.loads(lines[5])
    record["body"] = record["body"].replace('"CLEAR"', '"RESTRICTED"')
    lines[5] = json.dumps(record)
    result = verify_export(lines)
    assert (result.ok, result.position, result.break_kind) == (False, 6, "changed")
    assert "does not match its hash" in str(result)
    swapped = _export(log)
    swapped[3], swapped[4] = swapped[4], swapped[3]
    assert verify_export(swapped).position == 4
    dropped = _export(log)
    del dropped[6]
    assert verify_export(dropped).ok  # a gap: the runs on both sides verify on their own


def test_an_export_of_a_rewritten_log_is_proven_wrong_by_the_witness(
    logged: tuple[Any, Any], spec: StoreSpec, signer: CheckpointSigner
) -> None:
    from .test_audit_checkpoints import _rewrite_from

    log, cp = logged
    _rewrite_from(Raw(spec, log), 3)
    lines = _export(log)
    assert verify_export(lines).ok  # consistent on its own
    result = verify_export(lines, witnessed=expectations([cp], signer.public_key))
    assert (result.ok, result.position) == (False, 10)
    assert "rewritten at or before it" in str(result)


def test_a_subject_export_is_checked_record_by_record(logged: tuple[Any, Any]) -> None:
    log, _ = logged
    lines = _export(log, subject_pseudonym=pseudonym(resident_id(1)))
    assert len(lines) == 6
    assert verify_export(lines).ok
    record = json.loads(lines[2])
    record["body"] = record["body"].replace("u1024", "u9999")
    lines[2] = json.dumps(record)
    assert verify_export(lines).position == record["seq"]


def test_an_export_without_bodies_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="line 1"):
        verify_export(['{"seq": 1}'])


@pytest.mark.durable_only
def test_command_line_verify_export(
    logged: tuple[Any, Any],
    spec: StoreSpec,
    signer: CheckpointSigner,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from credit_sdk.cli import EXIT_BROKEN_CHAIN, EXIT_OK, EXIT_USAGE, main

    log, cp = logged
    log.close()
    exported, witness, pub = tmp_path / "log.jsonl", tmp_path / "w.jsonl", tmp_path / "cp.pub"
    assert main(["audit", "export", "--db", spec.db_arg, "-o", str(exported)]) == EXIT_OK
    witness.write_text(cp.to_json() + "\n")
    pub.write_text(signer.public_key.hex())
    capsys.readouterr()
    argv = ["audit", "verify", "--export", str(exported)]
    assert main([*argv, "--checkpoints", str(witness), "--public-key", str(pub)]) == EXIT_OK
    assert "proven against witnessed checkpoints up to record 10" in capsys.readouterr().out
    lines = exported.read_text().splitlines()
    record = json.loads(lines[0])
    record["body"] = record["body"].replace("u1024", "u9999")
    lines[0] = json.dumps(record)
    exported.write_text("\n".join(lines) + "\n")
    assert main(argv) == EXIT_BROKEN_CHAIN
    assert "chain broken at position 1" in capsys.readouterr().out
    assert main([*argv, "--db", spec.db_arg]) == EXIT_USAGE
