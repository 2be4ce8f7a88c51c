"""The sandbox platform's state: a seeded SQLite store.

What it holds:

* **subjects**, keyed by a pseudonym (HMAC-SHA256 of the identifier under a key generated for
  this store and kept in it), each with the report JSON the platform serves for it and the name
  of its state (``severe_list``, ``repaired``...). The raw identifier is stored only inside the
  report, where the contract puts it; it is never a key, never logged.
* **measure-list editions**, as the exact JSON documents served (their ``sha256`` is over that
  content, so a client can verify what it received).
* **feedback items** and **objections**, with the answers given under each
  ``Idempotency-Key`` so that a retried request gets the same answer.
* **request counters** per contract route, in memory: they describe this process's traffic.

On first start the store is seeded with one subject per shipped sample report
(``credit_sdk/data/reports/*.json``; synthetic identifiers) and the shipped measure lists.
:func:`seeded_subjects` lists them without starting anything.

>>> store = Store()                                     # in memory, seeded
>>> sorted(s.state for s in seeded_subjects())[:2]      # doctest: +SKIP
['clean', 'disputed']
>>> store.report_for(seeded_subject("severe_list").identifier)["records"]  # doctest: +SKIP
>>> store.close()
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import secrets
import sqlite3
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from credit_sdk._catalog import MeasureList
from credit_sdk._identifiers import Identifier
from credit_sdk._models import CreditReport, subject_kind_of

__all__ = [
    "CHINA_TZ",
    "FeedbackOutcome",
    "IdempotencyConflict",
    "ListConflict",
    "ObjectionOutcome",
    "SeededSubject",
    "Store",
    "canonical_digest",
    "sample_report",
    "seeded_subject",
    "seeded_subjects",
]

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")
"""Platform time: China Standard Time (reports' ``generated_at``, objections' ``received_on``)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subjects (
    pseudonym TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    masked TEXT NOT NULL,
    state TEXT NOT NULL,
    seeded INTEGER NOT NULL,
    report_json TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS measure_lists (
    list_id TEXT NOT NULL,
    version TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    effective_until TEXT,
    document TEXT NOT NULL,
    seeded INTEGER NOT NULL,
    PRIMARY KEY (list_id, version)
);
CREATE TABLE IF NOT EXISTS idempotency (
    route TEXT NOT NULL,
    key TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    status INTEGER NOT NULL,
    response_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (route, key)
);
CREATE TABLE IF NOT EXISTS feedback_items (
    item_key TEXT PRIMARY KEY,
    request_key TEXT NOT NULL,
    received_at TEXT NOT NULL,
    item_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS duties (
    receipt_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    request_key TEXT NOT NULL,
    subject_pseudonym TEXT NOT NULL,
    subject_display TEXT NOT NULL,
    record_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    key_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    request_key TEXT NOT NULL,
    received_at TEXT NOT NULL,
    checkpoint_json TEXT NOT NULL,
    PRIMARY KEY (key_id, seq)
);
CREATE TABLE IF NOT EXISTS objections (
    objection_id TEXT PRIMARY KEY,
    subject_pseudonym TEXT NOT NULL,
    item_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    needs_assistance INTEGER NOT NULL,
    organ TEXT,
    received_on TEXT NOT NULL,
    status TEXT NOT NULL,
    request_key TEXT NOT NULL
);
"""

_DATA_TABLES = (
    "subjects",
    "measure_lists",
    "idempotency",
    "feedback_items",
    "duties",
    "checkpoints",
    "objections",
)


#: The duty kind each contract route takes (Art. 22, 52 ¶1, 52 ¶3).
_DUTY_KINDS = {
    "information:push": "push",
    "information:correct": "correction",
    "information:updateBasis": "basis_update",
}


class IdempotencyConflict(Exception):
    """An ``Idempotency-Key`` was reused with a different request body (the app answers 409)."""


class ListConflict(Exception):
    """A list edition (``list_id`` + ``version``) was published again with other content."""


@dataclass(frozen=True, slots=True)
class SeededSubject:
    """One seeded subject: the sample state it shows and its (synthetic) identifier.

    The identifier is an :class:`~credit_sdk.Identifier`: it prints masked; send
    ``identifier.reveal()`` to the sandbox.

    >>> s = seeded_subject("judgment_defaulter")       # doctest: +SKIP
    >>> s.kind, s.identifier                           # doctest: +SKIP
    ('natural_person', ResidentId('2301**********023X'))
    """

    state: str
    identifier: Identifier
    kind: str

    @property
    def subject(self) -> dict[str, str]:
        """The ``subject`` object of a report query for this subject (raw number inside)."""
        ref = {"kind": self.identifier.kind.value, "number": self.identifier.reveal()}
        return ref


@dataclass(frozen=True, slots=True)
class FeedbackOutcome:
    status: int
    body: dict[str, Any]
    replayed: bool


@dataclass(frozen=True, slots=True)
class ObjectionOutcome:
    """``body`` is ``None`` when the subject or the item is unknown (the app answers 404)."""

    status: int
    body: dict[str, Any] | None
    replayed: bool


def _reports_dir() -> Path:
    return Path(str(resources.files("credit_sdk") / "data" / "reports"))


def _lists_dir() -> Path:
    return Path(str(resources.files("credit_sdk") / "data" / "lists"))


@cache
def _samples() -> tuple[tuple[SeededSubject, str], ...]:
    out = []
    for path in sorted(_reports_dir().glob("*.json")):
        text = path.read_text(encoding="utf-8")
        # Validating each sample here means a broken sample fails the sandbox's start, loudly,
        # instead of serving a report that no client can read.
        report = CreditReport.model_validate_json(text)
        subject = SeededSubject(
            state=path.stem, identifier=report.subject.identifier, kind=report.subject.kind.value
        )
        out.append((subject, text))
    return tuple(out)


def seeded_subjects() -> tuple[SeededSubject, ...]:
    """The subjects a seeded sandbox starts with, one per shipped sample report, by state name.

    >>> [s.state for s in seeded_subjects()]  # doctest: +SKIP
    ['clean', 'disputed', 'expired', ...]
    """
    return tuple(subject for subject, _ in _samples())


def seeded_subject(state: str) -> SeededSubject:
    """The seeded subject in ``state``; ``ValueError`` names the states available."""
    for subject in seeded_subjects():
        if subject.state == state:
            return subject
    available = ", ".join(s.state for s in seeded_subjects())
    raise ValueError(f"no seeded subject in state {state!r}; available: {available}")


def sample_report(state: str) -> dict[str, Any]:
    """A copy of the raw sample report for ``state`` (as shipped, before any re-keying)."""
    for subject, text in _samples():
        if subject.state == state:
            data: dict[str, Any] = json.loads(text)
            return data
    raise ValueError(f"no sample report {state!r}")


def canonical_digest(data: Any) -> str:
    """SHA-256 of ``data``'s canonical JSON: equal for equal JSON values, whatever the spacing
    or key order of the bytes they came from (what "the same body" means for idempotency)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _subject_kind(identifier: Identifier) -> str:
    return subject_kind_of(identifier).value


def _now() -> dt.datetime:
    return dt.datetime.now(CHINA_TZ).replace(microsecond=0)


class Store:
    """The sandbox's SQLite store. ``path=None`` keeps it in memory.

    Thread-safe: one connection behind a lock (the server's event loop and a test's admin
    calls may touch it from different threads). Durability does not matter for a development
    server, so a file database runs with ``synchronous=OFF``.

    >>> with Store(seed=False) as store:
    ...     store.report_for(parse_identifier("91110000600037341L"))["records"]  # doctest: +SKIP
    []
    """

    def __init__(self, path: str | Path | None = None, *, seed: bool = True) -> None:
        self._seed = seed
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            ":memory:" if path is None else str(path),
            check_same_thread=False,
            isolation_level=None,  # autocommit; transactions are explicit (see _transaction)
        )
        self._counts: Counter[str] = Counter()
        # Stored report text -> its encoded body without report_id and generated_at.
        self._tails: dict[str, bytes] = {}
        try:
            if path is not None:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=OFF")
            self._conn.executescript(_SCHEMA)
            key = self._meta("pseudonym_key")
            if key is None:
                key = secrets.token_hex(32)
                self._set_meta("pseudonym_key", key)
            self._key = bytes.fromhex(key)
            if seed and self._meta("seeded") is None:
                self._seed_all()
        except BaseException:
            self._conn.close()
            raise

    # --- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<sandbox Store subjects={self.subject_count()}>"

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _seed_all(self) -> None:
        for subject, text in _samples():
            self.put_subject(subject.identifier, json.loads(text), state=subject.state, seeded=True)
        for path in sorted(_lists_dir().glob("*.json")):
            self.publish_list(json.loads(path.read_text(encoding="utf-8")), seeded=True)
        self._set_meta("seeded", _now().isoformat())

    def reset(self) -> None:
        """Forget everything (subjects, lists, feedback, objections, idempotency answers,
        counters) and seed again if this store was created with ``seed=True``."""
        with self._transaction() as conn:
            for table in _DATA_TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            conn.execute("DELETE FROM meta WHERE key = 'seeded'")
        self.reset_counts()
        if self._seed:
            self._seed_all()

    # --- subjects ----------------------------------------------------------------------------

    def pseudonym(self, identifier: Identifier) -> str:
        """The identifier's pseudonym under this store's key (what logs may show)."""
        return identifier.pseudonym(self._key)

    def put_subject(
        self,
        identifier: Identifier,
        report: Mapping[str, Any],
        *,
        state: str = "custom",
        seeded: bool = False,
    ) -> str:
        """Set the report served for ``identifier``; returns its pseudonym."""
        pseudonym = self.pseudonym(identifier)
        text = json.dumps(report, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO subjects VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    pseudonym,
                    _subject_kind(identifier),
                    identifier.masked,
                    state,
                    int(seeded),
                    text,
                    _now().isoformat(),
                ),
            )
        return pseudonym

    def delete_subject(self, identifier: Identifier) -> bool:
        """Forget a subject: the platform then knows nothing against it."""
        with self._lock:
            cur = self._conn.execute(
                "DELETE FROM subjects WHERE pseudonym = ?", (self.pseudonym(identifier),)
            )
        return cur.rowcount > 0

    def subject_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM subjects").fetchone()[0])

    def subjects(self) -> list[dict[str, Any]]:
        """Every subject with its state, kind, masked identifier and pseudonym.

        The raw identifier is included too (from the stored report): this listing is the
        sandbox-only admin view whose purpose is to tell tests what to query.
        """
        with self._lock:
            rows = self._conn.execute(
                "SELECT pseudonym, kind, masked, state, seeded, report_json FROM subjects "
                "ORDER BY state, masked"
            ).fetchall()
        out = []
        for pseudonym, kind, masked, state, seeded, report_json in rows:
            subject = json.loads(report_json).get("subject", {})
            out.append(
                {
                    "state": state,
                    "kind": kind,
                    "identifier": subject.get("identifier"),
                    "masked": masked,
                    "pseudonym": pseudonym,
                    "seeded": bool(seeded),
                }
            )
        return out

    def stored_report(self, identifier: Identifier) -> dict[str, Any] | None:
        """The stored report for ``identifier`` as set (no fresh id or time), or ``None``."""
        with self._lock:
            row = self._conn.execute(
                "SELECT report_json FROM subjects WHERE pseudonym = ?",
                (self.pseudonym(identifier),),
            ).fetchone()
        if row is None:
            return None
        data: dict[str, Any] = json.loads(row[0])
        return data

    def report_bytes_for(self, identifier: Identifier) -> bytes:
        """:meth:`report_for` as the JSON the platform sends. A stored report is served from
        its stored text, with only the fresh ``report_id`` and ``generated_at`` put in front:
        it is not decoded and encoded again for every query."""
        with self._lock:
            row = self._conn.execute(
                "SELECT report_json FROM subjects WHERE pseudonym = ?",
                (self.pseudonym(identifier),),
            ).fetchone()
        if row is None:
            return _encode(self.report_for(identifier))
        tail = self._tails.get(row[0])
        if tail is None:
            stored = json.loads(row[0])
            rest = {k: v for k, v in stored.items() if k not in ("report_id", "generated_at")}
            text = json.dumps(rest, ensure_ascii=False, separators=(",", ":"))
            tail = ("," + text[1:] if rest else "}").encode("utf-8")
            with self._lock:
                if len(self._tails) >= 4096:
                    self._tails.clear()
                self._tails[row[0]] = tail
        fresh = f'{{"report_id":"SBX-{uuid.uuid4().hex}","generated_at":"{_now().isoformat()}"'
        return fresh.encode("ascii") + tail

    def report_for(self, identifier: Identifier) -> dict[str, Any]:
        """The report to serve now: the stored one, or an empty one for an unknown subject
        (the platform knows nothing against it), with a fresh ``report_id`` and
        ``generated_at``."""
        report = self.stored_report(identifier)
        if report is None:
            subject: dict[str, Any] = {
                "kind": _subject_kind(identifier),
                "identifier": identifier.reveal(),
            }
            report = {"schema_version": "1", "subject": subject}
        report["report_id"] = "SBX-" + uuid.uuid4().hex
        report["generated_at"] = _now().isoformat()
        return report

    # --- measure lists -----------------------------------------------------------------------

    def publish_list(self, raw: Mapping[str, Any], *, seeded: bool = False) -> tuple[str, bool]:
        """Validate and add a list edition; returns ``(sha256, created)``.

        Raises :class:`~credit_sdk.CatalogError` for a list that breaks Art. 39-48 or the
        schema, and :class:`ListConflict` when that edition exists with other content (an
        edition, once published, never changes).
        """
        document = {k: v for k, v in raw.items() if k != "sha256"}
        parsed = MeasureList.from_json(copy.deepcopy(raw))
        document["sha256"] = parsed.sha256
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT sha256 FROM measure_lists WHERE list_id = ? AND version = ?",
                (parsed.list_id, parsed.version),
            ).fetchone()
            if row is not None:
                if row[0] != parsed.sha256:
                    raise ListConflict(
                        f"edition {parsed.version!r} of {parsed.list_id!r} exists with other "
                        "content; publish a new version instead"
                    )
                return parsed.sha256, False
            conn.execute(
                "INSERT INTO measure_lists VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    parsed.list_id,
                    parsed.version,
                    parsed.sha256,
                    parsed.kind.value,
                    parsed.title,
                    parsed.effective_from.isoformat(),
                    parsed.effective_until.isoformat() if parsed.effective_until else None,
                    text,
                    int(seeded),
                ),
            )
        return parsed.sha256, True

    def list_index(self) -> list[dict[str, Any]]:
        """Every edition, ordered by list id, then effective date, then version."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT list_id, version, sha256, kind, title, effective_from, effective_until "
                "FROM measure_lists ORDER BY list_id, effective_from, version"
            ).fetchall()
        keys = ("list_id", "version", "sha256", "kind", "title", "effective_from")
        return [
            {**dict(zip(keys, row[:6], strict=True)), "effective_until": row[6]} for row in rows
        ]

    def list_document(self, list_id: str, version: str) -> tuple[str, str] | None:
        """``(document JSON, sha256)`` of one edition, or ``None``."""
        with self._lock:
            row = self._conn.execute(
                "SELECT document, sha256 FROM measure_lists WHERE list_id = ? AND version = ?",
                (list_id, version),
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    # --- idempotent writes -------------------------------------------------------------------

    @staticmethod
    def _replay(
        conn: sqlite3.Connection, route: str, key: str, body_sha256: str
    ) -> tuple[int, dict[str, Any]] | None:
        row = conn.execute(
            "SELECT body_sha256, status, response_json FROM idempotency "
            "WHERE route = ? AND key = ?",
            (route, key),
        ).fetchone()
        if row is None:
            return None
        if row[0] != body_sha256:
            raise IdempotencyConflict("this Idempotency-Key was used with another request body")
        return int(row[1]), json.loads(row[2])

    @staticmethod
    def _remember(
        conn: sqlite3.Connection,
        route: str,
        key: str,
        body_sha256: str,
        status: int,
        body: Mapping[str, Any],
    ) -> None:
        conn.execute(
            "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?, ?)",
            (route, key, body_sha256, status, json.dumps(body), _now().isoformat()),
        )

    def record_feedback(
        self, key: str, body_sha256: str, items: list[dict[str, Any]]
    ) -> FeedbackOutcome:
        """Store feedback items once each (by their ``idempotency_key``), atomically with the
        answer kept under the request's ``Idempotency-Key``.

        Raises :class:`IdempotencyConflict` for a key reused with another body.
        """
        with self._transaction() as conn:
            previous = self._replay(conn, "feedback", key, body_sha256)
            if previous is not None:
                return FeedbackOutcome(previous[0], previous[1], replayed=True)
            accepted = duplicates = 0
            received = _now().isoformat()
            for item in items:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO feedback_items VALUES (?, ?, ?, ?)",
                    (item["idempotency_key"], key, received, json.dumps(item, ensure_ascii=False)),
                )
                if cur.rowcount:
                    accepted += 1
                else:
                    duplicates += 1
            body = {"accepted": accepted, "duplicates": duplicates}
            self._remember(conn, "feedback", key, body_sha256, 202, body)
        return FeedbackOutcome(202, body, replayed=False)

    def record_duty(
        self,
        route: str,
        key: str,
        body_sha256: str,
        identifier: Identifier,
        body: dict[str, Any],
    ) -> FeedbackOutcome:
        """Store one of an organ's duties (Art. 22 push, Art. 52 correction or basis update)
        once per ``Idempotency-Key``: a retried delivery gets the first answer again and is
        not applied twice. The subject is kept as its pseudonym and masked form only.

        Raises :class:`IdempotencyConflict` for a key reused with another body.
        """
        with self._transaction() as conn:
            previous = self._replay(conn, route, key, body_sha256)
            if previous is not None:
                return FeedbackOutcome(previous[0], previous[1] | {"duplicate": True}, True)
            receipt_id = "RCV-" + uuid.uuid4().hex[:20].upper()
            received = _now().isoformat()
            conn.execute(
                "INSERT INTO duties VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    receipt_id,
                    _DUTY_KINDS[route],
                    key,
                    self.pseudonym(identifier),
                    identifier.masked,
                    str(body["record_id"]),
                    received,
                    json.dumps(body, ensure_ascii=False, sort_keys=True),
                ),
            )
            answer = {"receipt_id": receipt_id, "duplicate": False, "received_at": received}
            self._remember(conn, route, key, body_sha256, 201, answer)
        return FeedbackOutcome(201, answer, replayed=False)

    def duties(self) -> list[dict[str, Any]]:
        """Every duty received, in order: ``kind`` (push, correction, basis_update), the receipt,
        the subject's pseudonym and masked form, the body and the request's key."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT receipt_id, kind, request_key, subject_pseudonym, subject_display, "
                "record_id, received_at, body_json FROM duties ORDER BY rowid"
            ).fetchall()
        keys = ("receipt_id", "kind", "request_idempotency_key", "subject_pseudonym",
                "subject_display", "record_id", "received_at")  # fmt: skip
        return [
            dict(zip(keys, row[:7], strict=True)) | {"body": json.loads(row[7])} for row in rows
        ]

    def record_checkpoint(
        self, key: str, body_sha256: str, checkpoint: dict[str, Any]
    ) -> FeedbackOutcome:
        """Keep a signed checkpoint of a client's query log once (by key id and position),
        atomically with the answer under the request's ``Idempotency-Key``."""
        with self._transaction() as conn:
            previous = self._replay(conn, "checkpoints", key, body_sha256)
            if previous is not None:
                return FeedbackOutcome(previous[0], previous[1], replayed=True)
            cur = conn.execute(
                "INSERT OR IGNORE INTO checkpoints VALUES (?, ?, ?, ?, ?)",
                (
                    checkpoint["key"], checkpoint["seq"], key, _now().isoformat(),
                    json.dumps(checkpoint, sort_keys=True),
                ),
            )  # fmt: skip
            body = {"accepted": cur.rowcount, "duplicates": 1 - cur.rowcount}
            self._remember(conn, "checkpoints", key, body_sha256, 202, body)
        return FeedbackOutcome(202, body, replayed=False)

    def checkpoints(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT checkpoint_json, received_at FROM checkpoints ORDER BY rowid"
            ).fetchall()
        return [{**json.loads(cp), "received_at": received} for cp, received in rows]

    def feedback_items(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT item_json, request_key, received_at FROM feedback_items ORDER BY rowid"
            ).fetchall()
        return [
            {**json.loads(item), "request_idempotency_key": request_key, "received_at": received}
            for item, request_key, received in rows
        ]

    def file_objection(
        self,
        key: str,
        body_sha256: str,
        identifier: Identifier,
        *,
        item_id: str,
        reason: str,
        needs_assistance: bool,
        organ: str | None,
    ) -> ObjectionOutcome:
        """Record an objection (Art. 53) and label the disputed item in the subject's report.

        The sandbox labels at once (the regulation allows one working day), so the next
        report query shows the item with a pending ``objection``. Returns a ``None`` body when
        the subject or the item (a ``record_id`` or ``membership_id`` of the subject's
        report) is unknown. Raises :class:`IdempotencyConflict` for a key reused with another
        body.
        """
        pseudonym = self.pseudonym(identifier)
        with self._transaction() as conn:
            previous = self._replay(conn, "objections", key, body_sha256)
            if previous is not None:
                return ObjectionOutcome(previous[0], previous[1], replayed=True)
            row = conn.execute(
                "SELECT report_json FROM subjects WHERE pseudonym = ?", (pseudonym,)
            ).fetchone()
            if row is None:
                return ObjectionOutcome(404, None, replayed=False)
            report = json.loads(row[0])
            objection_id = "OBJ-" + uuid.uuid4().hex[:20].upper()
            today = _now().date().isoformat()
            label = {
                "objection_id": objection_id,
                "filed_on": today,
                "labelled_on": today,
                "status": "pending",
                "needs_assistance": needs_assistance,
            }
            if not _label_item(report, item_id, label):
                return ObjectionOutcome(404, None, replayed=False)
            conn.execute(
                "UPDATE subjects SET report_json = ?, updated_at = ? WHERE pseudonym = ?",
                (json.dumps(report, ensure_ascii=False), _now().isoformat(), pseudonym),
            )
            conn.execute(
                "INSERT INTO objections VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    objection_id,
                    pseudonym,
                    item_id,
                    reason,
                    int(needs_assistance),
                    organ,
                    today,
                    "pending",
                    key,
                ),
            )
            body = {"objection_id": objection_id, "received_on": today, "status": "pending"}
            self._remember(conn, "objections", key, body_sha256, 201, body)
        return ObjectionOutcome(201, body, replayed=False)

    def objections(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT objection_id, subject_pseudonym, item_id, reason, needs_assistance, "
                "organ, received_on, status FROM objections ORDER BY rowid"
            ).fetchall()
        keys = (
            "objection_id",
            "subject_pseudonym",
            "item_id",
            "reason",
            "needs_assistance",
            "organ",
            "received_on",
            "status",
        )
        out = [dict(zip(keys, row, strict=True)) for row in rows]
        for item in out:
            item["needs_assistance"] = bool(item["needs_assistance"])
        return out

    # --- counters ----------------------------------------------------------------------------

    def count(self, route: str) -> None:
        with self._lock:
            self._counts[route] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()


def _encode(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _label_item(report: dict[str, Any], item_id: str, label: dict[str, Any]) -> bool:
    for field, id_key in (("records", "record_id"), ("list_memberships", "membership_id")):
        for item in report.get(field) or ():
            if isinstance(item, dict) and item.get(id_key) == item_id:
                item["objection"] = label
                return True
    return False
