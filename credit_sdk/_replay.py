"""What a decision was made from, so that anyone can decide it again (Art. 25, 50).

A completion record names the measure lists (id, version, sha256) and the policy profile a
decision used; :func:`report_digest` adds the report: the SHA-256 of its **canonical bytes**,
the report as the platform sent it, after the Art. 20 screening that parsing applies
(prohibited fields are never kept, not even in a digest's input), as sorted-key compact JSON in
UTF-8. Parsing those bytes again gives the same report, and digesting them again the same
digest, so a report kept in the archive, or supplied by a caller, can be checked against the
record before a decision is replayed from it.

>>> from credit_sdk import CreditReport
>>> from credit_sdk._models import sample_report_path
>>> report = CreditReport.parse(sample_report_path("clean").read_bytes())
>>> len(report_digest(report) or "")
64
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from enum import Enum
from typing import Any

from credit_sdk._models import CreditReport
from credit_sdk._privacy import drop_prohibited_fields

__all__ = ["report_bytes", "report_digest", "report_from_bytes"]


def _plain(value: Any) -> Any:
    # Reports handed over as Python data (in-memory platforms, tests) may hold dates, decimals
    # or enums where the wire has strings; they become the strings the wire would carry.
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    reveal = getattr(value, "reveal", None)
    if callable(reveal):
        return str(reveal())
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"a report field of type {type(value).__name__} has no JSON form")


_ENCODE = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_plain
).encode


def report_bytes(report: CreditReport) -> bytes | None:
    """The report's canonical bytes (see the module docstring), or ``None`` for a report that
    was built in code rather than parsed from what a platform sent."""
    source = report.received
    if source is None:
        return None
    try:
        screened = report._screened
        if screened is not None:
            # parse() screened what it decoded: the same objects, not decoded twice.
            cleaned: Any = screened
        else:
            data = json.loads(source) if isinstance(source, str | bytes) else source
            cleaned, _ = drop_prohibited_fields(data)
        if not isinstance(cleaned, dict):
            return None
        # The paths of what screening dropped (never the values) stay with the report.
        cleaned = {k: v for k, v in cleaned.items() if k != "prohibited_fields_dropped"}
        if report.prohibited_fields_dropped:
            cleaned["prohibited_fields_dropped"] = list(report.prohibited_fields_dropped)
        return _ENCODE(cleaned).encode("utf-8")
    except (TypeError, ValueError):
        return None


def report_from_bytes(data: bytes) -> CreditReport:
    """The report whose canonical bytes are ``data`` (what the archive keeps), with the paths
    that screening dropped when it was received."""
    report = CreditReport.parse(data)
    try:
        dropped = json.loads(data).get("prohibited_fields_dropped") or []
    except (ValueError, AttributeError):
        dropped = []
    if dropped and not report.prohibited_fields_dropped:
        restored = report.model_copy(update={"prohibited_fields_dropped": tuple(dropped)})
        restored._received = data
        return restored
    return report


def report_digest(report: CreditReport) -> str | None:
    """SHA-256 (hex) of :func:`report_bytes`, or ``None`` when the report has none."""
    data = report_bytes(report)
    return None if data is None else hashlib.sha256(data).hexdigest()
