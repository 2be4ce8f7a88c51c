"""Checks and helpers that every store shares, so that all of them behave the same."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from credit_sdk._audit._chain import PendingRecord, StoredRow
from credit_sdk._audit._types import FeedbackItem, iso, parse_iso, redact_identifiers
from credit_sdk._errors import AuditError, ConfigurationError

__all__ = [
    "LEASE_EXPIRED",
    "ExportFilter",
    "StoreCorrupt",
    "StoreNotFound",
    "check_claim",
    "check_duplicates",
    "check_feedback",
    "check_ids",
    "check_max_attempts",
    "check_prune_before",
    "clean_error",
    "duplicate_within",
    "now",
    "opt_time",
]

LEASE_EXPIRED = "lease expired without a reported outcome"
_MAX_ERROR = 1000


def now() -> datetime:
    return datetime.now(UTC)


def opt_time(text: str | None) -> datetime | None:
    return None if text is None else parse_iso(text)


def check_max_attempts(value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigurationError("max_attempts must be a positive int")


def check_duplicates(pending: Sequence[PendingRecord], existing: Iterable[str]) -> None:
    """Refuse a second intent or completion for the same query id."""
    seen = set(existing)
    for p in pending:
        if p.record_id in seen:
            raise AuditError(f"the query log already holds record {p.record_id}")
        seen.add(p.record_id)


def duplicate_within(pending: Sequence[PendingRecord]) -> str | None:
    seen: set[str] = set()
    for p in pending:
        if p.record_id in seen:
            return p.record_id
        seen.add(p.record_id)
    return None


def check_prune_before(before: datetime) -> datetime:
    if not isinstance(before, datetime) or before.tzinfo is None or before.utcoffset() is None:
        raise ConfigurationError("prune(before=...) needs a timezone-aware datetime")
    if before > now():
        raise ConfigurationError("prune(before=...) lies in the future; refusing to prune")
    return before.astimezone(UTC)


def check_feedback(items: Sequence[FeedbackItem]) -> None:
    for item in items:
        if not isinstance(item, FeedbackItem):
            raise TypeError(f"expected FeedbackItem, got {type(item).__name__}")


def check_claim(limit: int, lease_seconds: float) -> None:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ConfigurationError("claim_feedback(limit=...) must be a positive int")
    if not lease_seconds > 0:
        raise ConfigurationError("claim_feedback(lease_seconds=...) must be positive")


def check_ids(ids: Sequence[int]) -> list[int]:
    out = []
    for i in ids:
        if not isinstance(i, int) or isinstance(i, bool):
            raise TypeError("outbox ids are ints (ClaimedFeedback.outbox_id)")
        out.append(i)
    return out


def clean_error(error: str) -> str:
    """A delivery error as stored: identifier-shaped tokens redacted, length bounded."""
    text = redact_identifiers(str(error)).replace("\x00", "")
    return text[:_MAX_ERROR] or "unspecified error"


@dataclass(frozen=True, slots=True)
class ExportFilter:
    """Filters of an export; all apply to the *intent* (who asked about whom, and when)."""

    subject_pseudonym: str | None
    organ: str | None
    since: str | None
    until: str | None

    @classmethod
    def build(
        cls,
        subject_pseudonym: str | None,
        organ: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> ExportFilter:
        for name, value in (("since", since), ("until", until)):
            if value is not None and (
                not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None
            ):
                raise ConfigurationError(f"export({name}=...) needs a timezone-aware datetime")
        return cls(
            subject_pseudonym,
            organ,
            iso(since) if since is not None else None,
            iso(until) if until is not None else None,
        )

    @property
    def empty(self) -> bool:
        return (
            self.subject_pseudonym is None
            and self.organ is None
            and self.since is None
            and self.until is None
        )

    def matches(self, row: StoredRow) -> bool:
        if self.subject_pseudonym is not None and row.subject_pseudonym != self.subject_pseudonym:
            return False
        if self.organ is not None and row.organ != self.organ:
            return False
        event = row.event_at or ""
        if self.since is not None and event < self.since:
            return False
        return not (self.until is not None and event >= self.until)


class StoreNotFound(AuditError):
    """The query-log database does not exist (and the store was told not to create it)."""


class StoreCorrupt(AuditError):
    """The file or database is not a readable credit-sdk query log (garbage, damaged, another
    application's database, or a newer schema than this SDK knows)."""
