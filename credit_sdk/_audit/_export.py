"""Exports of the query log for auditors and for a subject's right to know (Art. 50).

Two formats:

* **JSON Lines**: one record per line, exactly as chained (``seq``, ``kind``, ``record_id``,
  ``recorded_at``, ``prev_hash``, ``hash`` and the hashed ``data``), so an auditor can re-check
  every hash offline.
* **CSV**: one row per record with the fields flattened for a spreadsheet. Cells that a
  spreadsheet would run as a formula (leading ``=``, ``+``, ``-``, ``@``) get a leading ``'``.

>>> import io
>>> from credit_sdk import MemoryQueryLog
>>> out = io.StringIO()
>>> write_jsonl(MemoryQueryLog().export(), out)
0
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from credit_sdk._audit._chain import StoredRow, record_hash
from credit_sdk._audit._types import AuditRecord, VerifyResult, canonical_json
from credit_sdk._audit._witness import SignedCheckpoint
from credit_sdk._errors import AuditError, ConfigurationError

__all__ = ["CSV_COLUMNS", "load_key_file", "verify_export", "write_csv", "write_jsonl"]

CSV_COLUMNS = (
    "seq", "kind", "record_id", "query_id", "recorded_at",
    "requested_at", "organ", "operator", "matter_code", "purpose", "scenario",
    "subject_pseudonym", "subject_display", "subject_kind", "authorization_id",
    "completed_at", "outcome", "applied_measure_ids", "report_id", "lists", "policy_profile",
    "sdk_version", "flags", "error", "trace_id", "checkpoint", "prev_hash", "hash",
)  # fmt: skip

_HEX_KEY = re.compile(r"(?:[0-9a-fA-F]{2}){16,}")


def write_jsonl(records: Iterable[AuditRecord], out: TextIO) -> int:
    """Write one JSON object per record; return how many were written."""
    n = 0
    for record in records:
        out.write(canonical_json(record.to_dict()))
        out.write("\n")
        n += 1
    return n


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = ";".join(
            "/".join(str(v) for v in item.values()) if isinstance(item, dict) else str(item)
            for item in value
        )
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def write_csv(records: Iterable[AuditRecord], out: TextIO) -> int:
    """Write a header and one flattened row per record; return how many records were written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    n = 0
    for record in records:
        data = record.data
        row: dict[str, Any] = {
            "seq": record.seq,
            "kind": record.kind,
            "record_id": record.record_id,
            "query_id": record.query_id,
            "recorded_at": record.to_dict()["recorded_at"],
            "prev_hash": record.prev_hash,
            "hash": record.hash,
        }
        if record.kind in ("checkpoint", "signed_checkpoint"):
            row["checkpoint"] = json.dumps(data, sort_keys=True)
        else:
            for column in CSV_COLUMNS:
                if column in data:
                    row[column] = data[column]
        writer.writerow([_cell(row.get(column)) for column in CSV_COLUMNS])
        n += 1
    return n


def load_key_file(path: str | Path) -> bytes:
    """Read the pseudonymisation key from a file.

    The file holds either the key as hex text (at least 32 hex digits, surrounding whitespace
    ignored) or the raw key bytes (at least 16). The same rule must be used wherever the key is
    configured, or pseudonyms will not match.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise ConfigurationError(f"cannot read the key file: {err.strerror}") from err
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        text = ""
    key = bytes.fromhex(text) if _HEX_KEY.fullmatch(text) else raw
    if len(key) < 16:
        raise ConfigurationError("the key file holds fewer than 16 bytes of key")
    return key


def verify_export(
    lines: Iterable[str],
    *,
    witnessed: Mapping[int, tuple[str, str]] | None = None,
    public_key: bytes | None = None,
) -> VerifyResult:
    """Verify a JSON Lines export without the database (``credit-sdk audit verify --export``).

    Every record's hash is recomputed from its exact stored ``body`` and header; consecutive
    positions must link (each ``prev_hash`` the hash of the record before); signed checkpoint
    records in it must name the record before them (and verify under ``public_key``); and every
    witnessed position (``witnessed``: from signed checkpoints or expected hashes) that the
    export covers must hold exactly the witnessed hash. An export filtered by subject, organ or
    time holds runs of consecutive records with gaps between them: each run is checked as a
    chain, each record on its own, and a witnessed position in a gap is reported as not
    covered (``witnessed_seq`` names the newest one proven).
    """
    witnessed = dict(witnessed or {})
    previous: StoredRow | None = None
    count = 0
    proven: int | None = None
    last: StoredRow | None = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        row = _export_row(line, number)
        problem = _row_problem(row, previous, public_key)
        if problem is not None:
            return _broken_at(row, count, problem)
        if row.seq in witnessed:
            digest, what = witnessed[row.seq]
            if row.hash != digest:
                return _broken_at(
                    row, count, f"it differs from {what}: the log was rewritten at or before it"
                )
            proven = row.seq
        previous = last = row
        count += 1
    if last is None:
        return VerifyResult(ok=True, count=0, head_seq=0, head_hash="0" * 64)
    return VerifyResult(
        ok=True, count=count, head_seq=last.seq, head_hash=last.hash, witnessed_seq=proven
    )


def _export_row(line: str, number: int) -> StoredRow:
    try:
        data = json.loads(line)
        return StoredRow(
            seq=int(data["seq"]),
            record_id=str(data["record_id"]),
            kind=str(data["kind"]),
            query_id=data.get("query_id"),
            recorded_at=str(data["recorded_at"]),
            event_at=None,
            organ=None,
            subject_pseudonym=None,
            outcome=None,
            body=str(data["body"]),
            prev_hash=str(data["prev_hash"]),
            hash=str(data["hash"]),
        )
    except (ValueError, KeyError, TypeError):
        raise ConfigurationError(
            f"export line {number} is not a record of a JSON Lines export with bodies "
            "(credit-sdk audit export --format jsonl)"
        ) from None


def _row_problem(
    row: StoredRow, previous: StoredRow | None, public_key: bytes | None
) -> str | None:
    recomputed = record_hash(
        seq=row.seq, kind=row.kind, record_id=row.record_id, prev_hash=row.prev_hash,
        recorded_at=row.recorded_at, body=row.body,
    )  # fmt: skip
    if recomputed != row.hash:
        return "its content does not match its hash"
    if previous is not None:
        if row.seq <= previous.seq:
            return f"it comes after record {previous.seq} in the export"
        if row.seq == previous.seq + 1 and row.prev_hash != previous.hash:
            return "it does not link to the record before it"
    if row.kind == "signed_checkpoint":
        try:
            cp = SignedCheckpoint.from_json(row.body)
        except AuditError:
            return "the checkpoint cannot be read"
        if cp.seq != row.seq - 1 or cp.hash != row.prev_hash:
            return "the signed checkpoint does not name the record before it"
        if public_key is not None and not cp.verify(public_key):
            return "the checkpoint's signature does not verify under the given public key"
    return None


def _broken_at(row: StoredRow, count: int, detail: str) -> VerifyResult:
    return VerifyResult(
        ok=False, count=count, head_seq=row.seq, head_hash=row.hash, position=row.seq,
        record_id=row.record_id, break_kind="changed", detail=detail,
    )  # fmt: skip
