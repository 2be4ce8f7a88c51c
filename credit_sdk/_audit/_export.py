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
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from credit_sdk._audit._types import AuditRecord, canonical_json
from credit_sdk._errors import ConfigurationError

__all__ = ["CSV_COLUMNS", "load_key_file", "write_csv", "write_jsonl"]

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
