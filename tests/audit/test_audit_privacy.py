"""No raw identifier is ever stored (Art. 24, 25): every byte of the SQLite file and its WAL, and
every PostgreSQL row, is scanned for the identifiers the records were written about."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import SQLiteQueryLog
from credit_sdk._identifiers import compute_uscc_check

from .conftest import Raw, StoreSpec, make_completion, make_feedback, make_intent, resident_id


def _uscc(n: int) -> str:
    body = f"91230100MA{n:02d}C2X3Y"
    return body + compute_uscc_check(body)


SUBJECTS = [resident_id(n) for n in range(1, 6)] + [_uscc(n) for n in range(1, 4)]


def _needles(raw: str) -> list[bytes]:
    # The full number, its lower-case form, and its middle part (birth date and serial) which
    # the masked display form must hide.
    return [raw.encode(), raw.lower().encode(), raw[6:14].encode()]


def _write_everything(store: Any) -> None:
    for n, raw in enumerate(SUBJECTS):
        intent = make_intent(n, raw_id=raw)
        store.record_intent(intent)
        store.record_completion(make_completion(intent, "RESTRICTED"))
        store.enqueue_feedback([make_feedback(n)])
    (claimed, *_) = store.claim_feedback(1, 30)
    store.mark_failed([claimed.outbox_id], f"platform: subject {SUBJECTS[0]} not found")


@pytest.mark.durable_only
def test_no_raw_identifier_in_any_stored_byte(spec: StoreSpec, raw: Raw) -> None:
    store = spec.open()
    _write_everything(store)
    if spec.kind == "sqlite":
        blobs = []
        for suffix in ("", "-wal", "-shm"):
            path = Path(spec.target + suffix)
            if path.exists():
                blobs.append(path.read_bytes())
        assert blobs[0] or len(blobs) > 1
        haystack = b"".join(blobs)
    else:
        tables = ["audit_records", "audit_chain_head", "audit_meta", "outbox"]
        haystack = b"".join(
            str(row[0]).encode()
            for table in tables
            for row in raw.sql(f"SELECT t::text FROM {{s}}.{table} t")
        )
    assert b"RESTRICTED" in haystack  # the scan does see the records
    for subject in SUBJECTS:
        for needle in _needles(subject):
            assert needle not in haystack, "a raw identifier reached the store"


def test_sqlite_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with SQLiteQueryLog(path) as log:
        log.record_intent(make_intent(1))
        for candidate in (path, Path(f"{path}-wal")):
            assert stat.S_IMODE(candidate.stat().st_mode) == 0o600, candidate.name


def test_existing_open_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    SQLiteQueryLog(path).close()
    os.chmod(path, 0o644)
    with SQLiteQueryLog(path) as log:
        log.record_intent(make_intent(1))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
