"""Record types, results and the :class:`QueryLog` protocol of the query log (查询日志).

Art. 25 requires a log of who queried whose credit information, when and for what; Art. 50
gives a subject the right to know how its information was used; Art. 46 requires the results
of rewards and punishments to be fed back. The types here are what a store persists:

* :class:`QueryIntent`: written *before* a report is fetched (who, when, why, about whom).
* :class:`QueryCompletion`: written *before* a decision is returned (what came of it).
* :class:`FeedbackItem`: one measure's result, queued in the durable feedback outbox.

Every field is validated on construction. A record never holds a raw identifier: the subject is
kept as an HMAC pseudonym plus its masked display form, and any text field that looks like a
resident ID number or a unified social credit code is refused (:class:`~credit_sdk.InvalidQuery`
naming the field, never echoing the value).

>>> from datetime import datetime, UTC
>>> intent = QueryIntent(
...     query_id="5f0c6a1e9b2d4c3fa1e2d3c4b5a69788",
...     requested_at=datetime(2026, 3, 1, 8, 30, tzinfo=UTC),
...     organ="230100-SCJGJ", operator="u1024", matter_code="LIC-FOOD",
...     purpose="food business licence application 2026-118", scenario="admin_licensing",
...     subject_pseudonym="ab" * 32, subject_display="9123**********Y4K", subject_kind="uscc")
>>> intent.record_id
'intent:5f0c6a1e9b2d4c3fa1e2d3c4b5a69788'
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from json.encoder import encode_basestring
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, Self, runtime_checkable

from credit_sdk._errors import AuditIntegrityError, InvalidQuery
from credit_sdk._version import __version__

if TYPE_CHECKING:
    from credit_sdk._audit._archive import ArchivedReport
    from credit_sdk._audit._witness import SignedCheckpoint

__all__ = [
    "HEAD_TABLE",
    "OUTCOMES",
    "AuditRecord",
    "AuditStats",
    "BreakKind",
    "ClaimedFeedback",
    "ClaimedOutboxItem",
    "FeedbackItem",
    "ListSnapshot",
    "OutboxItem",
    "OutboxStats",
    "PruneResult",
    "QueryCompletion",
    "QueryIntent",
    "QueryLog",
    "RecordKind",
    "VerifyResult",
    "new_query_id",
]

#: The outcomes a completion may carry.
OUTCOMES: frozenset[str] = frozenset(
    {"CLEAR", "INCENTIVES", "RESTRICTED", "REVIEW", "INDETERMINATE"}
)

RecordKind = Literal[
    "intent",
    "completion",
    "checkpoint",
    "signed_checkpoint",
    "outbox",
    "outbox_state",
    "outbox_adopted",
]
BreakKind = Literal["changed", "deleted", "inserted", "reordered", "head"]

#: The table that holds the chain head (one row: the newest record's ``seq`` and ``hash``).
HEAD_TABLE = "audit_chain_head"

_MAX_TEXT = 2000
_HEX64 = re.compile(r"[0-9a-f]{64}")
_QUERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_FLAG = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_ERROR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,199}")
# Whole tokens only (bounded by non-alphanumerics): an 18-character resident ID number (17
# digits and a digit or X), a 15-digit first-generation one, or a USCC-shaped code. Hex digests
# and uuids are longer tokens and never match.
_RESIDENT_TOKEN = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|\d{15})(?![0-9A-Za-z])")
# A mainland mobile number (11 digits from 13x to 19x, optionally +86): a personal field under
# Art. 24 that the log may no more keep in clear than an ID number.
_PHONE_TOKEN = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?1[3-9]\d{9}(?![0-9A-Za-z])")
_USCC_TOKEN = re.compile(
    r"(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def new_query_id() -> str:
    """A fresh query id: 32 hex characters, a millisecond timestamp then 80 random bits.

    Time-ordered so that the query log's record-id index grows at its end (one index page per
    commit instead of one per record); the random part keeps ids unique across hosts and
    unguessable.

    >>> len(new_query_id())
    32
    """
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def _valid_uscc(token: str) -> bool:
    text = token.upper()
    try:
        total = sum(
            _USCC_ALPHABET.index(c) * w for c, w in zip(text[:17], _USCC_WEIGHTS, strict=True)
        )
    except ValueError:
        return False
    return _USCC_ALPHABET[-total % 31] == text[17]


def looks_like_raw_identifier(text: str) -> bool:
    """True when ``text`` contains a token shaped like a resident ID number or a mainland mobile
    phone number, or a USCC whose check character is right.

    Resident-ID-shaped tokens are refused whatever their check digit: a mistyped ID number is
    still somebody's personal data. USCC-shaped tokens need a valid check character, because
    plain upper-case codes of that length (matter codes, case numbers) are otherwise common.
    """
    if _RESIDENT_TOKEN.search(text) or _PHONE_TOKEN.search(text):
        return True
    return any(_valid_uscc(m.group(0)) for m in _USCC_TOKEN.finditer(text))


def redact_identifiers(text: str) -> str:
    """``text`` with every identifier-shaped token replaced by ``[redacted]`` (for error
    strings that come from elsewhere, e.g. a platform's answer)."""
    text = _RESIDENT_TOKEN.sub("[redacted]", text)
    text = _PHONE_TOKEN.sub("[redacted]", text)
    return _USCC_TOKEN.sub(lambda m: "[redacted]" if _valid_uscc(m.group(0)) else m.group(0), text)


def _fail(owner: str, name: str, problem: str, rule: str) -> InvalidQuery:
    return InvalidQuery(f"{owner}.{name} {problem}", rule=rule)


# Texts that passed every check of _text. The values of a batch repeat (the query context,
# measure and list ids, the profile, the version): each is checked once, not once per record.
# Only non-blank texts go in, so a hit passes whether or not the field is required. Bounded:
# emptied when full.
_CHECKED: set[str] = set()
_CHECKED_MAX = 4096


def _text(owner: str, name: str, value: object, *, required: bool = True) -> str:
    if type(value) is str and value in _CHECKED:
        return value
    if not isinstance(value, str):
        raise _fail(owner, name, "must be a str", "type")
    if required and not value.strip():
        raise _fail(owner, name, "is required and may not be empty", "required")
    if len(value) > _MAX_TEXT:
        raise _fail(owner, name, f"is longer than {_MAX_TEXT} characters", "length")
    if "\x00" in value:
        raise _fail(owner, name, "contains a NUL character", "charset")
    if looks_like_raw_identifier(value):
        # Never echo the value: it may be exactly the personal data we refuse to keep.
        raise _fail(
            owner,
            name,
            "looks like it contains a raw resident ID number, unified social credit code or "
            "mobile phone number; "
            "the query log keeps only the subject's pseudonym and masked form (Art. 24, 25)",
            "raw_identifier",
        )
    if type(value) is str and value.strip():
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED.add(value)
    return value


def _opt_text(owner: str, name: str, value: object) -> str | None:
    return None if value is None else _text(owner, name, value)


def _utc(owner: str, name: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise _fail(owner, name, "must be a datetime", "type")
    if value.tzinfo is UTC:
        return value  # kept as it is: a batch's records share one time, formatted once (iso)
    if value.tzinfo is None or value.utcoffset() is None:
        raise _fail(owner, name, "must be timezone-aware (naive times are ambiguous)", "timezone")
    return value.astimezone(UTC)


def _hex64(owner: str, name: str, value: object) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise _fail(owner, name, "must be 64 lower-case hex characters", "format")
    return value


def _query_id(owner: str, value: object) -> str:
    if not isinstance(value, str) or not _QUERY_ID.fullmatch(value):
        raise _fail(
            owner, "query_id", "must be 1-128 characters of letters, digits and ._:-", "format"
        )
    if looks_like_raw_identifier(value):
        raise _fail(owner, "query_id", "looks like a raw identifier", "raw_identifier")
    return value


# The last time formatted, and its text: the records of a batch share one time object, which
# is then formatted once per batch instead of once per record (datetimes are immutable).
_LAST_ISO: tuple[datetime | None, str] = (None, "")


def iso(value: datetime) -> str:
    """Fixed-width UTC ISO 8601 with microseconds: sorts as text in the same order as time."""
    global _LAST_ISO
    last = _LAST_ISO
    if last[0] is value:
        return last[1]
    v = value if value.tzinfo is UTC else value.astimezone(UTC)
    # "YYYY-MM-DDTHH:MM:SS.ffffff+00:00" (the year always has four digits) -> "...ffffffZ":
    # one C call on the hot write path.
    text = v.isoformat("T", "microseconds")[:26] + "Z"
    _LAST_ISO = (value, text)
    return text


_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")


def parse_iso(text: str) -> datetime:
    """Inverse of :func:`iso`; anything else raises ``ValueError``.

    The exact form is checked first, then parsed in C (``fromisoformat``): ``strptime`` cost
    about 10 µs a record in an export, most of a one-subject export's CPU time."""
    if not isinstance(text, str) or not _ISO.fullmatch(text):
        raise ValueError(f"not a query-log time (YYYY-MM-DDTHH:MM:SS.ffffffZ): {text!r:.40}")
    return datetime.fromisoformat(text[:26]).replace(tzinfo=UTC)


# One encoder for every call: json.dumps() with options builds a new encoder each time.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode
# The function that encoder applies to every str (keys and values) with ensure_ascii=False.
_json_str: Callable[[str], str] = encode_basestring


def canonical_json(value: object) -> str:
    """Sorted-key compact JSON, non-ASCII kept as UTF-8: the form that is hashed."""
    return _CANONICAL(value)


def json_str(value: str) -> str:
    """``canonical_json`` of one string (quoted and escaped exactly as inside an object)."""
    return _json_str(value)


def _opt_json_str(value: str | None) -> str:
    return "null" if value is None else _json_str(value)


def _json_str_list(values: Sequence[str]) -> str:
    return "[" + ",".join(map(_json_str, values)) + "]" if values else "[]"


# The canonical bodies below are written out field by field, keys in sorted order, with the
# string encoder canonical_json itself uses: byte for byte what canonical_json(to_body()) gives
# (a property test holds them together), without building and sorting a dict per record.
_INTENT_BODY = (
    '{"authorization_id":%s,"matter_code":%s,"operator":%s,"organ":%s,"purpose":%s,'
    '"query_id":%s,"requested_at":"%s","scenario":%s,"subject_display":%s,"subject_kind":%s,'
    '"subject_pseudonym":%s,"trace_id":%s}'
)
_COMPLETION_BODY = (
    '{"applied_measure_ids":%s,"as_of":%s,"completed_at":"%s","error":%s,"flags":%s,"lists":%s,'
    '"outcome":%s,"policy_profile":%s,"query_id":%s,"report_id":%s,"report_sha256":%s,'
    '"sdk_version":%s,"trace_id":%s}'
)


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryIntent:
    """Art. 25: who queried, when, why and about whom, recorded before any report is fetched.

    ``subject_pseudonym`` is the HMAC-SHA256 of the identifier under the configured key (see
    ``Identifier.pseudonym``); ``subject_display`` its masked form. Neither ever lets the log
    reveal the raw number.
    """

    query_id: str
    requested_at: datetime
    organ: str
    operator: str
    matter_code: str
    purpose: str
    scenario: str
    subject_pseudonym: str
    subject_display: str
    subject_kind: str
    authorization_id: str | None = None
    trace_id: str | None = None

    def __post_init__(self) -> None:
        owner = "QueryIntent"
        set_ = object.__setattr__
        set_(self, "query_id", _query_id(owner, self.query_id))
        set_(self, "requested_at", _utc(owner, "requested_at", self.requested_at))
        for name in ("organ", "operator", "purpose", "scenario", "subject_display", "subject_kind"):
            _text(owner, name, getattr(self, name))
        _text(owner, "matter_code", self.matter_code, required=False)
        _hex64(owner, "subject_pseudonym", self.subject_pseudonym)
        _opt_text(owner, "authorization_id", self.authorization_id)
        _opt_text(owner, "trace_id", self.trace_id)

    @classmethod
    def _from_client(
        cls,
        *,
        query_id: str,
        requested_at: datetime,
        organ: str,
        operator: str,
        matter_code: str,
        purpose: str,
        scenario: str,
        subject_pseudonym: str,
        subject_display: str,
        subject_kind: str,
        authorization_id: str | None,
        trace_id: str | None,
    ) -> QueryIntent:
        """An intent the client built, checked like any other except for what the client
        made itself: a fresh query id (32 hexadecimal characters, which no identifier pattern
        can match), a UTC time, the HMAC pseudonym (hexadecimal), the masked display form (at
        most four characters in clear at each end) and the scenario and subject-kind names.
        The host's texts (organ, operator, matter code, purpose, grant and trace ids) are
        checked as the constructor checks them."""
        owner = "QueryIntent"
        _text(owner, "organ", organ)
        _text(owner, "operator", operator)
        _text(owner, "purpose", purpose)
        _text(owner, "matter_code", matter_code, required=False)
        _opt_text(owner, "authorization_id", authorization_id)
        _opt_text(owner, "trace_id", trace_id)
        self = object.__new__(cls)
        set_ = object.__setattr__
        set_(self, "query_id", query_id)
        set_(self, "requested_at", requested_at)
        set_(self, "organ", organ)
        set_(self, "operator", operator)
        set_(self, "matter_code", matter_code)
        set_(self, "purpose", purpose)
        set_(self, "scenario", scenario)
        set_(self, "subject_pseudonym", subject_pseudonym)
        set_(self, "subject_display", subject_display)
        set_(self, "subject_kind", subject_kind)
        set_(self, "authorization_id", authorization_id)
        set_(self, "trace_id", trace_id)
        return self

    @property
    def record_id(self) -> str:
        return f"intent:{self.query_id}"

    def to_body(self) -> dict[str, Any]:
        """The JSON-ready mapping that is stored and hashed."""
        return {
            "query_id": self.query_id,
            "requested_at": iso(self.requested_at),
            "organ": self.organ,
            "operator": self.operator,
            "matter_code": self.matter_code,
            "purpose": self.purpose,
            "scenario": self.scenario,
            "subject_pseudonym": self.subject_pseudonym,
            "subject_display": self.subject_display,
            "subject_kind": self.subject_kind,
            "authorization_id": self.authorization_id,
            "trace_id": self.trace_id,
        }

    def canonical_body(self, requested_at: str | None = None) -> str:
        """``canonical_json(self.to_body())``, computed directly: the text that is hashed.
        ``requested_at`` may pass ``iso(self.requested_at)`` when the caller has it already."""
        j = _json_str
        return _INTENT_BODY % (
            _opt_json_str(self.authorization_id), j(self.matter_code), j(self.operator),
            j(self.organ), j(self.purpose), j(self.query_id),
            iso(self.requested_at) if requested_at is None else requested_at,
            j(self.scenario), j(self.subject_display), j(self.subject_kind),
            j(self.subject_pseudonym), _opt_json_str(self.trace_id),
        )  # fmt: skip

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> QueryIntent:
        data = dict(body)
        data["requested_at"] = parse_iso(data["requested_at"])
        return cls(**data)


class ListSnapshot(NamedTuple):
    """A measure list version a decision used: id, version and the sha256 of its content."""

    list_id: str
    version: str
    sha256: str


# The lists of the last completion checked, and their snapshots: the completions of a batch
# (and of every check on one list snapshot) name the same tuple, checked once.
_LAST_LISTS: tuple[object, tuple[ListSnapshot, ...]] = (None, ())


def _snapshots(owner: str, lists: Iterable[Any]) -> tuple[ListSnapshot, ...]:
    global _LAST_LISTS
    last = _LAST_LISTS
    if last[0] is lists and type(lists) is tuple:
        return last[1]
    snapshots = []
    for item in lists:
        if not isinstance(item, tuple) or len(item) != 3:
            raise _fail(owner, "lists", "items must be (list_id, version, sha256)", "format")
        list_id, version, digest = item
        _text(owner, "lists", list_id)
        _text(owner, "lists", version)
        _hex64(owner, "lists", digest)
        snapshots.append(ListSnapshot(list_id, version, digest))
    checked = tuple(snapshots)
    if type(lists) is tuple:
        _LAST_LISTS = (lists, checked)
    return checked


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryCompletion:
    """Art. 25: what came of a query, recorded before the decision is returned.

    ``lists`` and ``policy_profile`` are the provenance that lets a decision be replayed;
    ``report_sha256`` the digest of the report it was decided on (:func:`report_digest`:
    SHA-256 of the report's canonical JSON), which a replay checks the report against, and
    ``as_of`` the date it was decided for;
    ``error`` is the exception class name when the check failed (never its message, which
    could carry data).
    """

    query_id: str
    completed_at: datetime
    outcome: str
    policy_profile: str
    applied_measure_ids: tuple[str, ...] = ()
    report_id: str | None = None
    lists: tuple[ListSnapshot, ...] = ()
    sdk_version: str = __version__
    trace_id: str | None = None
    flags: tuple[str, ...] = ()
    error: str | None = None
    report_sha256: str | None = None
    as_of: date | None = None

    def __post_init__(self) -> None:
        owner = "QueryCompletion"
        if self.as_of is not None and (
            not isinstance(self.as_of, date) or isinstance(self.as_of, datetime)
        ):
            raise _fail(owner, "as_of", "must be a date", "type")
        if self.report_sha256 is not None:
            _hex64(owner, "report_sha256", self.report_sha256)
        set_ = object.__setattr__
        set_(self, "query_id", _query_id(owner, self.query_id))
        set_(self, "completed_at", _utc(owner, "completed_at", self.completed_at))
        if self.outcome not in OUTCOMES:
            raise _fail(owner, "outcome", f"must be one of {sorted(OUTCOMES)}", "format")
        _text(owner, "policy_profile", self.policy_profile)
        _text(owner, "sdk_version", self.sdk_version)
        ids = tuple(self.applied_measure_ids)
        for measure_id in ids:
            _text(owner, "applied_measure_ids", measure_id)
        set_(self, "applied_measure_ids", ids)
        _opt_text(owner, "report_id", self.report_id)
        set_(self, "lists", _snapshots(owner, self.lists))
        _opt_text(owner, "trace_id", self.trace_id)
        flags = tuple(self.flags)
        for flag in flags:
            if not isinstance(flag, str) or not _FLAG.fullmatch(flag):
                raise _fail(owner, "flags", "items must be UPPER_SNAKE_CASE names", "format")
        set_(self, "flags", flags)
        if self.error is not None and (
            not isinstance(self.error, str) or not _ERROR_NAME.fullmatch(self.error)
        ):
            raise _fail(owner, "error", "must be an exception class name", "format")

    @classmethod
    def _from_client(
        cls,
        *,
        query_id: str,
        completed_at: datetime,
        outcome: str,
        policy_profile: str,
        applied_measure_ids: tuple[str, ...] = (),
        report_id: str | None = None,
        lists: tuple[tuple[str, str, str], ...] = (),
        trace_id: str | None = None,
        flags: tuple[str, ...] = (),
        error: str | None = None,
        report_sha256: str | None = None,
        as_of: date | None = None,
    ) -> QueryCompletion:
        """A completion the client built, checked like any other except for what the client
        made itself: the query id of its intent, a UTC time, an outcome name, the digest it
        computed and the date it decided for. The platform's report id, the measure ids, the
        lists, the profile, flags and error name are checked as the constructor checks them
        (texts seen before and the lists of the last record pass at once)."""
        owner = "QueryCompletion"
        _text(owner, "policy_profile", policy_profile)
        for measure_id in applied_measure_ids:
            _text(owner, "applied_measure_ids", measure_id)
        _opt_text(owner, "report_id", report_id)
        snapshots = _snapshots(owner, lists)
        _opt_text(owner, "trace_id", trace_id)
        for flag in flags:
            if not isinstance(flag, str) or not _FLAG.fullmatch(flag):
                raise _fail(owner, "flags", "items must be UPPER_SNAKE_CASE names", "format")
        if error is not None and (not isinstance(error, str) or not _ERROR_NAME.fullmatch(error)):
            raise _fail(owner, "error", "must be an exception class name", "format")
        self = object.__new__(cls)
        set_ = object.__setattr__
        set_(self, "query_id", query_id)
        set_(self, "completed_at", completed_at)
        set_(self, "outcome", outcome)
        set_(self, "policy_profile", policy_profile)
        set_(self, "applied_measure_ids", applied_measure_ids)
        set_(self, "report_id", report_id)
        set_(self, "lists", snapshots)
        set_(self, "sdk_version", __version__)
        set_(self, "trace_id", trace_id)
        set_(self, "flags", flags)
        set_(self, "error", error)
        set_(self, "report_sha256", report_sha256)
        set_(self, "as_of", as_of)
        return self

    @property
    def record_id(self) -> str:
        return f"completion:{self.query_id}"

    def to_body(self) -> dict[str, Any]:
        return {
            "query_id": self.query_id,
            "completed_at": iso(self.completed_at),
            "outcome": self.outcome,
            "applied_measure_ids": list(self.applied_measure_ids),
            "report_id": self.report_id,
            "report_sha256": self.report_sha256,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "lists": [
                {"list_id": s.list_id, "version": s.version, "sha256": s.sha256} for s in self.lists
            ],
            "policy_profile": self.policy_profile,
            "sdk_version": self.sdk_version,
            "trace_id": self.trace_id,
            "flags": list(self.flags),
            "error": self.error,
        }

    def canonical_body(self, completed_at: str | None = None) -> str:
        """``canonical_json(self.to_body())``, computed directly: the text that is hashed.
        ``completed_at`` may pass ``iso(self.completed_at)`` when the caller has it already."""
        j = _json_str
        lists = (
            "["
            + ",".join(
                f'{{"list_id":{j(s.list_id)},"sha256":{j(s.sha256)},"version":{j(s.version)}}}'
                for s in self.lists
            )
            + "]"
        )
        return _COMPLETION_BODY % (
            _json_str_list(self.applied_measure_ids),
            "null" if self.as_of is None else f'"{self.as_of.isoformat()}"',
            iso(self.completed_at) if completed_at is None else completed_at,
            _opt_json_str(self.error), _json_str_list(self.flags), lists, j(self.outcome),
            j(self.policy_profile), j(self.query_id), _opt_json_str(self.report_id),
            _opt_json_str(self.report_sha256), j(self.sdk_version), _opt_json_str(self.trace_id),
        )  # fmt: skip

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> QueryCompletion:
        data = dict(body)
        data["completed_at"] = parse_iso(data["completed_at"])
        data["applied_measure_ids"] = tuple(data["applied_measure_ids"])
        data["lists"] = tuple(
            ListSnapshot(s["list_id"], s["version"], s["sha256"]) for s in data["lists"]
        )
        data["flags"] = tuple(data["flags"])
        if data.get("as_of") is not None:
            data["as_of"] = date.fromisoformat(data["as_of"])
        return cls(**data)


def _feedback_key(query_id: str, measure_id: str, case_id: str) -> str:
    material = "\x1f".join(("credit-sdk.feedback.v1", query_id, measure_id, case_id))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedbackItem:
    """Art. 46: the result of one measure in one case, queued for the credit platform.

    ``idempotency_key`` defaults to a digest of ``query_id``, ``measure_id`` and ``case_id``,
    so enqueueing the same result twice (a retried request, a replayed job) is harmless.

    >>> from datetime import datetime, UTC
    >>> item = FeedbackItem(query_id="q1", measure_id="N-41-3", applied=False,
    ...     reason="licence already refused on other grounds", case_id="2026-118",
    ...     implementing_department="230100-SCJGJ", occurred_at=datetime(2026, 3, 2, tzinfo=UTC))
    >>> len(item.idempotency_key)
    64
    """

    query_id: str
    measure_id: str
    applied: bool
    case_id: str
    implementing_department: str
    occurred_at: datetime
    reason: str | None = None
    amount: Decimal | None = None
    idempotency_key: str = field(default="")

    def __post_init__(self) -> None:
        owner = "FeedbackItem"
        set_ = object.__setattr__
        set_(self, "query_id", _query_id(owner, self.query_id))
        _text(owner, "measure_id", self.measure_id)
        if not isinstance(self.applied, bool):
            raise _fail(owner, "applied", "must be a bool", "type")
        _text(owner, "case_id", self.case_id)
        _text(owner, "implementing_department", self.implementing_department)
        set_(self, "occurred_at", _utc(owner, "occurred_at", self.occurred_at))
        _opt_text(owner, "reason", self.reason)
        if not self.applied and not (self.reason or "").strip():
            raise _fail(owner, "reason", "is required when a measure was not applied", "required")
        if self.amount is not None:
            if isinstance(self.amount, bool) or not isinstance(self.amount, Decimal | int):
                raise _fail(owner, "amount", "must be a Decimal (floats are inexact)", "type")
            amount = Decimal(self.amount)
            if not amount.is_finite():
                raise _fail(owner, "amount", "must be finite", "format")
            set_(self, "amount", amount)
        if self.idempotency_key:
            key = _text(owner, "idempotency_key", self.idempotency_key)
            if len(key) > 200:
                raise _fail(owner, "idempotency_key", "is longer than 200 characters", "length")
        else:
            set_(
                self, "idempotency_key", _feedback_key(self.query_id, self.measure_id, self.case_id)
            )


#: The outbox kind of Art. 46 feedback (every row of logs written before kinds existed).
FEEDBACK_KIND = "feedback"
_OUTBOX_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")
_MAX_PAYLOAD = 65536


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxItem:
    """One item of the durable outbox (发送队列), of one ``kind``, as a store keeps it.

    The outbox carries several kinds of items to the platform, each delivered once to its own
    operation: Art. 46 feedback (``"feedback"``), Art. 22 pushes, Art. 52 corrections and
    basis-change requests. ``payload`` is the item's canonical JSON; like every text of the
    query log it may not contain a raw identifier. An item that must carry its subject's
    identifier to the platform (a push) keeps it in ``subject``, apart: the stores clear it once
    the platform has accepted the item, keep ``subject_pseudonym`` for good, and never show it
    in a repr. ``idempotency_key`` is unique within its kind: enqueueing it again is a no-op.
    ``due_on`` is the date the law wants the item at the platform by (working days), if any.
    """

    kind: str
    idempotency_key: str
    payload: str
    subject: str | None = field(default=None, repr=False)
    subject_pseudonym: str | None = None
    due_on: date | None = None

    def __post_init__(self) -> None:
        owner = "OutboxItem"
        if not isinstance(self.kind, str) or not _OUTBOX_KIND.fullmatch(self.kind):
            raise _fail(owner, "kind", "must be 1-32 lower-case letters, digits or _", "format")
        key = _text(owner, "idempotency_key", self.idempotency_key)
        if len(key) > 200:
            raise _fail(owner, "idempotency_key", "is longer than 200 characters", "length")
        if not isinstance(self.payload, str):
            raise _fail(owner, "payload", "must be a str (canonical JSON)", "type")
        if len(self.payload) > _MAX_PAYLOAD:
            raise _fail(owner, "payload", f"is longer than {_MAX_PAYLOAD} characters", "length")
        try:
            decoded = json.loads(self.payload)
        except ValueError:
            raise _fail(owner, "payload", "is not JSON", "format") from None
        if not isinstance(decoded, dict):
            raise _fail(owner, "payload", "must be a JSON object", "format")
        if "\x00" in self.payload or looks_like_raw_identifier(self.payload):
            raise _fail(
                owner,
                "payload",
                "looks like it contains a raw resident ID number, phone number or unified social "
                "credit code; an identifier the platform must receive goes in OutboxItem.subject",
                "raw_identifier",
            )
        if self.subject is not None and (
            not isinstance(self.subject, str) or not 0 < len(self.subject) <= 256
        ):
            raise _fail(owner, "subject", "must be a str of 1-256 characters", "format")
        if self.subject_pseudonym is not None:
            _hex64(owner, "subject_pseudonym", self.subject_pseudonym)
        if self.due_on is not None and (
            not isinstance(self.due_on, date) or isinstance(self.due_on, datetime)
        ):
            raise _fail(owner, "due_on", "must be a date", "type")

    def data(self) -> dict[str, Any]:
        """The payload, decoded."""
        result: dict[str, Any] = json.loads(self.payload)
        return result


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedOutboxItem:
    """An outbox item of any kind leased to one sender until ``lease_expires_at``; report the
    outcome with ``mark_delivered`` or ``mark_failed`` by ``outbox_id``."""

    outbox_id: int
    item: OutboxItem
    attempt: int
    lease_expires_at: datetime
    enqueued_at: datetime


def feedback_to_outbox(item: FeedbackItem) -> OutboxItem:
    """The outbox form of a feedback item (its payload holds every field but the key)."""
    return OutboxItem(
        kind=FEEDBACK_KIND,
        idempotency_key=item.idempotency_key,
        payload=canonical_json(
            {
                "query_id": item.query_id,
                "measure_id": item.measure_id,
                "applied": item.applied,
                "reason": item.reason,
                "case_id": item.case_id,
                "implementing_department": item.implementing_department,
                "occurred_at": iso(item.occurred_at),
                "amount": None if item.amount is None else str(item.amount),
            }
        ),
    )


def feedback_from_outbox(item: OutboxItem) -> FeedbackItem:
    """Inverse of :func:`feedback_to_outbox`."""
    data = item.data()
    amount = data.get("amount")
    return FeedbackItem(
        idempotency_key=item.idempotency_key,
        query_id=data["query_id"],
        measure_id=data["measure_id"],
        applied=data["applied"],
        reason=data.get("reason"),
        case_id=data["case_id"],
        implementing_department=data["implementing_department"],
        occurred_at=parse_iso(data["occurred_at"]),
        amount=None if amount is None else Decimal(amount),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedFeedback:
    """A feedback item leased to one sender until ``lease_expires_at``.

    Report the outcome with ``mark_delivered([c.outbox_id])`` or ``mark_failed(...)``; if the
    sender dies instead, the lease runs out and the item is claimed again (at-least-once).
    """

    outbox_id: int
    item: FeedbackItem
    attempt: int
    lease_expires_at: datetime
    enqueued_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxStats:
    """Counts of the outbox, all kinds together and ``by_kind``. ``dead`` items exhausted
    their attempts and need a person to look at them (``requeue_dead_letters`` sends them
    again once settled); ``in_flight`` are leased to a sender right now."""

    pending: int
    in_flight: int
    delivered: int
    dead: int
    oldest_pending_at: datetime | None
    #: Items still pending after their legal due date (Art. 22, 52: late, still delivered).
    overdue: int = 0
    #: The same counts for each kind of item (``"feedback"``, ``"push"`` ...), kinds with
    #: items only; empty in the per-kind entries themselves.
    by_kind: Mapping[str, OutboxStats] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """One record of the hash chain as stored: an intent, a completion or a checkpoint.

    ``body`` is the exact canonical JSON that was hashed, so an auditor can re-check ``hash``
    offline from an export.
    """

    seq: int
    record_id: str
    kind: RecordKind
    query_id: str | None
    recorded_at: datetime
    prev_hash: str
    hash: str
    body: str

    @property
    def data(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result

    def intent(self) -> QueryIntent | None:
        """The intent this record holds, or ``None`` for other kinds."""
        return QueryIntent.from_body(self.data) if self.kind == "intent" else None

    def completion(self) -> QueryCompletion | None:
        """The completion this record holds, or ``None`` for other kinds."""
        return QueryCompletion.from_body(self.data) if self.kind == "completion" else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "record_id": self.record_id,
            "kind": self.kind,
            "query_id": self.query_id,
            "recorded_at": iso(self.recorded_at),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "data": self.data,
            # The exact stored bytes that were hashed: an export verifies offline from them.
            "body": self.body,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyResult:
    """The outcome of walking the hash chain.

    On success ``ok`` is true, ``count`` is the number of records verified and ``head_hash``
    the hash of the newest one (write it down elsewhere: a later verify that reports a
    different head for the same ``head_seq`` proves the tail was rewritten). On failure
    ``position`` is the sequence number of the first broken link, ``record_id`` the record
    found there (``None`` when it is missing), ``break_kind`` one of ``changed``, ``deleted``,
    ``inserted``, ``reordered``, and ``count`` the records before it that did verify.
    """

    ok: bool
    count: int
    head_seq: int
    head_hash: str
    pruned: int = 0
    position: int | None = None
    record_id: str | None = None
    break_kind: BreakKind | None = None
    detail: str | None = None
    #: The newest record proven against a witnessed checkpoint (``verify(witnessed=...)``);
    #: records after it are outside the proven range. ``None`` when none was given.
    witnessed_seq: int | None = None
    #: Outbox items reconciled against the chain (see docs/audit.md, the outbox in the chain).
    outbox_items: int = 0
    #: When an outbox row does not match what the chain states about it (``ok`` is then false
    #: and ``position``/``record_id`` name the record that states the item, if any): its id.
    outbox_id: int | None = None
    #: Every outbox finding, one line each naming the outbox id and chain position (never a
    #: payload or key); the first is the one ``outbox_id`` names.
    outbox_problems: tuple[str, ...] = ()

    def raise_if_broken(self) -> None:
        """Raise :class:`~credit_sdk.AuditIntegrityError` when the chain does not verify."""
        if not self.ok:
            raise AuditIntegrityError(str(self))

    def __str__(self) -> str:
        if self.ok:
            text = f"chain verified: {self.count} records, head {self.head_seq} {self.head_hash}"
            if self.outbox_items:
                text += f"; {self.outbox_items} outbox items match the chain"
            if self.pruned:
                text += f", {self.pruned} earlier records pruned under a checkpoint"
            if self.witnessed_seq is not None:
                text += (
                    f"; proven against witnessed checkpoints up to record {self.witnessed_seq}"
                    + (
                        f" (records {self.witnessed_seq + 1}..{self.head_seq} are outside the "
                        "proven range until a later checkpoint is witnessed)"
                        if self.head_seq > self.witnessed_seq + 1
                        else f" (record {self.head_seq} is outside the proven range until a "
                        "later checkpoint is witnessed)"
                        if self.head_seq == self.witnessed_seq + 1
                        else ""
                    )
                )
            return text
        if self.outbox_id is not None:
            more = len(self.outbox_problems) - 1
            return (
                f"outbox does not match the chain: {self.outbox_problems[0]}"
                + (f" (and {more} more outbox findings)" if more > 0 else "")
                if self.outbox_problems
                else f"outbox does not match the chain at item {self.outbox_id}"
            )
        where = f"record {self.record_id}" if self.record_id else "a missing record"
        return (
            f"chain broken at position {self.position} ({where}): {self.break_kind}"
            f"{': ' + self.detail if self.detail else ''}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PruneResult:
    """What :meth:`QueryLog.prune` removed and the checkpoint that now stands for it."""

    pruned: int
    first_pruned_seq: int | None = None
    last_pruned_seq: int | None = None
    pruned_head_hash: str | None = None
    checkpoint_seq: int | None = None
    checkpoint_hash: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditStats:
    """Counts for operators: records by kind, queries by outcome, organ and UTC day, queries
    without a completion (checks that failed before a decision), and the outbox.
    ``head_problem`` names a broken chain head (see :meth:`QueryLog.verify`)."""

    records: int
    intents: int
    completions: int
    checkpoints: int
    incomplete: int
    head_seq: int
    head_hash: str
    first_recorded_at: datetime | None
    last_recorded_at: datetime | None
    by_outcome: Mapping[str, int]
    by_organ: Mapping[str, int]
    by_day: Mapping[str, int]
    outbox: OutboxStats
    #: What is wrong with the chain head row (missing, duplicated, malformed), else ``None``:
    #: the chain is then broken and ``head_seq``/``head_hash`` are the newest record's.
    head_problem: str | None = None
    #: The first outbox row that does not match what the chain states about it (naming its
    #: outbox id and the record, never its payload), and how many there are, else ``None``.
    outbox_problem: str | None = None


@runtime_checkable
class QueryLog(Protocol):
    """What the client needs from a query-log store (Art. 25, 46, 50).

    Every write returns only once its record is durable and raises
    :class:`~credit_sdk.AuditError` otherwise; the caller must then fail closed. All methods
    are thread-safe. Implementations: :class:`SQLiteQueryLog` (default, embedded),
    :class:`PostgresQueryLog` (several hosts share one log), :class:`MemoryQueryLog` (tests).

    >>> from credit_sdk import MemoryQueryLog
    >>> with MemoryQueryLog() as log:
    ...     log.verify().ok
    True
    """

    def record_intent(self, intent: QueryIntent) -> None: ...

    def record_completion(self, completion: QueryCompletion) -> None: ...

    def append(self, records: Sequence[QueryIntent | QueryCompletion]) -> None: ...

    def verify(
        self,
        checkpoints: Iterable[SignedCheckpoint] = (),
        *,
        public_key: bytes | None = None,
        expect: Iterable[tuple[int, str]] = (),
    ) -> VerifyResult: ...

    def checkpoint(self) -> SignedCheckpoint | None: ...

    def archive_reports(self, reports: Sequence[ArchivedReport]) -> None: ...

    def archived_report(self, query_id: str) -> ArchivedReport | None: ...

    def prune_archive(self, before: datetime) -> int: ...

    def export(
        self,
        *,
        subject_pseudonym: str | None = None,
        organ: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[AuditRecord]: ...

    def prune(self, before: datetime) -> PruneResult: ...

    def enqueue_feedback(self, items: Sequence[FeedbackItem]) -> None: ...

    def claim_feedback(self, limit: int, lease_seconds: float) -> list[ClaimedFeedback]: ...

    def enqueue_outbox(self, items: Sequence[OutboxItem]) -> None: ...

    def claim_outbox(
        self, limit: int, lease_seconds: float, *, kinds: Collection[str] | None = None
    ) -> list[ClaimedOutboxItem]: ...

    def mark_delivered(self, ids: Sequence[int]) -> None: ...

    def mark_failed(
        self,
        ids: Sequence[int],
        error: str,
        *,
        retry_after: float = 0.0,
        attempt: bool = True,
        dead: bool = False,
    ) -> None: ...

    def requeue_dead_letters(self, ids: Sequence[int] | None = None) -> int: ...

    def outbox_stats(self) -> OutboxStats: ...

    def stats(self) -> AuditStats: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
