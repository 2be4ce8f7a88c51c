"""The embedded query-log store: one SQLite file, durable, tamper-evident (Art. 25, 46, 50).

The file is opened in WAL mode with ``synchronous=FULL``, so a commit is on disk when it
returns. Writes go through a single writer thread that does **group commit**: concurrent checks
queue their records, the writer puts everything queued into one transaction, and every caller
returns only after the transaction holding its record committed. Many checks thus share one
fsync, and none is acknowledged early.

Each transaction reads the chain head inside ``BEGIN IMMEDIATE`` (SQLite's write lock), so
several *processes* may write the same file: they take turns and the chain stays linear.

If a transaction fails (disk full, read-only file, I/O error) it is rolled back, every caller
waiting on it gets :class:`~credit_sdk.AuditError`, the writer drops its connection, and the
next write starts afresh: once the fault clears, the store works again without a restart.

>>> import tempfile, os
>>> from credit_sdk import SQLiteQueryLog
>>> with tempfile.TemporaryDirectory() as tmp:
...     with SQLiteQueryLog(os.path.join(tmp, "audit.db")) as log:
...         log.verify().ok
True
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import Any, ClassVar

from credit_sdk._audit import _common
from credit_sdk._audit import _subject_index as _subjects
from credit_sdk._audit._archive import ArchivedReport
from credit_sdk._audit._chain import (
    LINKED_COLUMNS,
    PendingRecord,
    StoredRow,
    checkpoint_record,
    head_problem,
    link,
    read_head,
    verify_rows,
)
from credit_sdk._audit._common import StoreCorrupt, StoreNotFound
from credit_sdk._audit._outbox_chain import (
    OUTBOX_RECORD_KINDS,
    SELF_PROVING_KINDS,
    OutboxLedger,
    OutboxRow,
    adopt_records,
    enqueue_records,
    item_entry,
    state_record,
)
from credit_sdk._audit._types import (
    AuditRecord,
    AuditStats,
    ClaimedOutboxItem,
    FeedbackItem,
    OutboxItem,
    OutboxStats,
    PruneResult,
    VerifyResult,
    feedback_to_outbox,
    iso,
    parse_iso,
)
from credit_sdk._audit._witness import CheckpointPolicy, CheckpointSigner, SignedCheckpoint
from credit_sdk._audit._writer import GroupCommitWriter, Op
from credit_sdk._errors import AuditError, AuditIntegrityError, ConfigurationError

__all__ = ["SQLiteQueryLog"]

_log = logging.getLogger("credit_sdk.audit")

# PRAGMA application_id marks the file as a credit-sdk query log ("CSQL"), user_version is
# the schema version: a CLI pointed at the wrong file says so instead of guessing.
APPLICATION_ID = 0x4353514C
SCHEMA_VERSION = 2
# Version 1 had a feedback-only outbox table; opening such a log migrates it (see _migrate_v1).

#: Set on every connection. ``synchronous=FULL`` makes a commit durable when it returns (WAL:
#: the log is synced at every commit); nothing here weakens that. The others only move work:
#: a 32 MiB page cache keeps the record-id index's pages in memory instead of re-reading them,
#: and a checkpoint every 4,000 WAL pages (16 MiB, instead of 1,000) copies each index page
#: that many records touched once instead of several times; the WAL file is cut back to
#: 32 MiB after a checkpoint if it grew beyond that.
PRAGMAS = (
    "PRAGMA synchronous=FULL",
    "PRAGMA cache_size=-32768",
    "PRAGMA wal_autocheckpoint=4000",
    "PRAGMA journal_size_limit=33554432",
)

_SCHEMA = """
CREATE TABLE audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE audit_chain_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE audit_records (
    seq INTEGER PRIMARY KEY,
    record_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    query_id TEXT,
    recorded_at TEXT NOT NULL,
    event_at TEXT,
    organ TEXT,
    subject_pseudonym TEXT,
    outcome TEXT,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
{outbox}
INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, '{genesis}');
"""

_OUTBOX_SCHEMA = """
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    subject TEXT,
    subject_pseudonym TEXT,
    due_on TEXT,
    enqueued_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at TEXT NOT NULL,
    lease_until TEXT,
    last_error TEXT,
    delivered_at TEXT,
    UNIQUE (kind, idempotency_key)
);
CREATE INDEX outbox_state ON outbox (state, id);
"""

# An index that logs created by earlier versions have; see _drop_legacy_index.
_LEGACY_INDEX = "audit_records_subject"

_COLUMNS = (
    "seq, record_id, kind, query_id, recorded_at, event_at, organ, subject_pseudonym, outcome, "
    "body, prev_hash, hash"
)
# Built from fixed column names only; rows come from link() in LINKED_COLUMNS order.
_INSERT_RECORD = f"INSERT INTO audit_records ({LINKED_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"  # noqa: S608
# Rows go in with multi-row INSERTs of up to _CHUNK rows: one statement step (one release of
# the GIL) per chunk instead of one per row, so caller threads preparing the next records do
# not make the writer wait for the GIL once per row. Chunk sizes are powers of two, so a few
# prepared statements serve every batch size.
_CHUNK = 256
_INSERT_MANY = {
    n: f"INSERT INTO audit_records ({LINKED_COLUMNS}) VALUES "  # noqa: S608 -- placeholders only
    + ",".join(["(?,?,?,?,?,?,?,?,?,?,?,?)"] * n)
    for n in (1 << k for k in range(_CHUNK.bit_length()))
}


def _insert_rows(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    if len(rows) == 1:
        conn.execute(_INSERT_RECORD, rows[0])
        return
    start, total = 0, len(rows)
    while start < total:
        n = min(_CHUNK, 1 << ((total - start).bit_length() - 1))
        conn.execute(_INSERT_MANY[n], list(chain.from_iterable(rows[start : start + n])))
        start += n


# Every row, not only id 1: a second row (CHECK constraints can be switched off) or none at all
# is a broken chain, which readers report and writers refuse to build on.
_SELECT_HEAD = "SELECT id, seq, hash FROM audit_chain_head"
_UPDATE_HEAD = "UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1"
_SELECT_ROWS = f"SELECT {_COLUMNS} FROM audit_records"  # noqa: S608
_SELECT_PRUNES = f"{_SELECT_ROWS} WHERE kind = 'checkpoint' ORDER BY seq"
_PREVIOUS_SIGNED = _common.PREVIOUS_SIGNED.format(table="audit_records", mark="?")
# What the checkpoint sinks acknowledged: per set of sinks, the position of the newest
# checkpoint every one of them took. Created on the first acknowledgement, like the archive.
_SINKS_TABLE = (
    "CREATE TABLE IF NOT EXISTS checkpoint_sinks (sinks TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
)
_HAS_SINKS_TABLE = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checkpoint_sinks'"
_SINKS_MARK = "SELECT seq FROM checkpoint_sinks WHERE sinks = ?"
_SET_SINKS_MARK = (
    "INSERT INTO checkpoint_sinks (sinks, seq) VALUES (?, ?) "
    "ON CONFLICT (sinks) DO UPDATE SET seq = max(seq, excluded.seq)"
)
_NEWEST_SIGNED = (
    "SELECT body FROM audit_records WHERE kind = 'signed_checkpoint' ORDER BY seq DESC LIMIT 1"
)
# A checkpoint of record n is record n + 1.
_SIGNED_AFTER = (
    "SELECT body FROM audit_records WHERE kind = 'signed_checkpoint' AND seq > ? "
    "ORDER BY seq LIMIT ?"
)
# Created on the first archived report: logs that never archive have no such table.
_ARCHIVE_TABLE = (
    "CREATE TABLE IF NOT EXISTS report_archive (query_id TEXT PRIMARY KEY, "
    "report_sha256 TEXT NOT NULL, key_id TEXT NOT NULL, stored_at TEXT NOT NULL, "
    "blob BLOB NOT NULL)"
)
_INSERT_OUTBOX = (
    "INSERT INTO outbox (kind, idempotency_key, payload, subject, subject_pseudonym, due_on, "
    "enqueued_at, available_at) VALUES {values} "
    "ON CONFLICT (kind, idempotency_key) DO NOTHING RETURNING id, kind, idempotency_key"
)
_OUTBOX_CHUNK = 500
_INSERT_OUTBOX_ONE = _INSERT_OUTBOX.format(values="(?,?,?,?,?,?,?,?)")
# What verify() holds against the chain (see credit_sdk._audit._outbox_chain).
_SELECT_OUTBOX_STATED = (
    "SELECT id, kind, idempotency_key, payload, subject_pseudonym, due_on, enqueued_at, state "
    "FROM outbox"
)
_OUTBOX_KINDS_SQL = ", ".join(f"'{k}'" for k in OUTBOX_RECORD_KINDS)
_SELECT_OUTBOX_RECORDS = (
    "SELECT kind, body, seq, record_id FROM audit_records "  # noqa: S608 -- fixed names
    f"WHERE kind IN ({_OUTBOX_KINDS_SQL}) ORDER BY seq"
)
# Transitions that the chain states, each for a chunk of ids ({ids}: placeholders only).
_MARK_DELIVERED = (
    "UPDATE outbox SET state = 'delivered', delivered_at = ?, subject = NULL, "
    "lease_until = NULL WHERE id IN ({ids}) AND state = 'pending' RETURNING id, kind"
)
_MARK_FAILED = (
    "UPDATE outbox SET last_error = ?, lease_until = NULL, available_at = ?, "
    "attempts = CASE WHEN ? THEN attempts ELSE max(attempts - 1, 0) END, "
    "state = CASE WHEN ? OR (? AND attempts >= ?) THEN 'dead' ELSE 'pending' END "
    "WHERE id IN ({ids}) AND state = 'pending' RETURNING id, kind, state"
)
_REQUEUE = (
    "UPDATE outbox SET state = 'pending', attempts = 0, lease_until = NULL, "
    "available_at = ? WHERE state = 'dead'{only} RETURNING id, kind"
)
# Set when the outbox is chained from its first row (new logs), or once the rows of a log
# written before were adopted into the chain (see _adopt_outbox).
_OUTBOX_CHAIN_META = "outbox_chain"
_OUTBOX_COLUMNS = (
    "id, kind, idempotency_key, payload, subject, subject_pseudonym, due_on, attempts, enqueued_at"
)
# The feedback outbox of schema version 1, read once to migrate it.
_V1_FEEDBACK_COLUMNS = (
    "id, idempotency_key, query_id, measure_id, applied, reason, case_id, "
    "implementing_department, occurred_at, amount, enqueued_at, state, attempts, available_at, "
    "lease_until, last_error, delivered_at"
)


def _stored(t: Sequence[Any]) -> StoredRow:
    return StoredRow(*t)


def _outbox_row(t: Sequence[Any]) -> OutboxRow:
    return OutboxRow(int(t[0]), t[1], t[2], t[3], t[4], t[5], t[6], t[7])


def _enqueue(conn: sqlite3.Connection, ops: list[Op], now: str) -> list[PendingRecord]:
    """Insert the items of the outbox operations and return the records that state the items
    added (an idempotency key already queued adds nothing): one for the whole transaction, so
    concurrent enqueues that share a commit share a record too."""
    entries = []
    for items, chunk in _common.outbox_batches(ops, _OUTBOX_CHUNK):
        sql = _INSERT_OUTBOX.format(values=",".join(["(?,?,?,?,?,?,?,?)"] * len(chunk)))
        params = list(chain.from_iterable(_outbox_tuple(i, now) for i in chunk))
        for outbox_id, kind, key in conn.execute(sql, params).fetchall():
            if kind not in SELF_PROVING_KINDS:
                entries.append(item_entry(outbox_id, items[(kind, key)], now))
    return enqueue_records(entries)


def _chain_records(conn: sqlite3.Connection, records: Sequence[PendingRecord]) -> None:
    """Chain ``records`` after the head, inside the caller's write transaction."""
    if not records:
        return
    seq, head = read_head(conn.execute(_SELECT_HEAD).fetchall())
    rows = link(records, seq, head, iso(_common.now()))
    _insert_rows(conn, rows)
    conn.execute(_UPDATE_HEAD, (rows[-1][-3], rows[-1][-1]))


def _state_change(conn: sqlite3.Connection, state: str, changed: Sequence[Sequence[Any]]) -> None:
    """Chain one record stating that the items ``changed`` (``id, kind`` rows) moved to
    ``state``, in the transaction that moved them."""
    ids = [r[0] for r in changed if r[1] not in SELF_PROVING_KINDS]
    if ids:
        _chain_records(conn, [state_record(state, ids)])


def _id_chunks(ids: list[int]) -> Iterator[tuple[str, list[int]]]:
    """``ids`` in chunks, each with its placeholders."""
    for start in range(0, len(ids), _OUTBOX_CHUNK):
        chunk = ids[start : start + _OUTBOX_CHUNK]
        yield ",".join("?" * len(chunk)), chunk


def _ledger(conn: sqlite3.Connection) -> OutboxLedger:
    ledger = OutboxLedger()
    for t in conn.execute(_SELECT_OUTBOX_RECORDS):
        ledger.note_body(*t)
    return ledger


def _outbox_tuple(item: OutboxItem, now: str) -> tuple[Any, ...]:
    return (
        item.kind, item.idempotency_key, item.payload, item.subject, item.subject_pseudonym,
        None if item.due_on is None else item.due_on.isoformat(), now, now,
    )  # fmt: skip


def _outbox_item(t: Sequence[Any]) -> OutboxItem:
    return OutboxItem(
        kind=t[1], idempotency_key=t[2], payload=t[3], subject=t[4], subject_pseudonym=t[5],
        due_on=None if t[6] is None else date.fromisoformat(t[6]),
    )  # fmt: skip


def _v1_feedback_item(t: Sequence[Any]) -> FeedbackItem:
    return FeedbackItem(
        idempotency_key=t[1], query_id=t[2], measure_id=t[3], applied=bool(t[4]), reason=t[5],
        case_id=t[6], implementing_department=t[7], occurred_at=parse_iso(t[8]),
        amount=None if t[9] is None else Decimal(t[9]),
    )  # fmt: skip


def _place(appends: list[Op], existing: set[str]) -> list[PendingRecord]:
    """The records of ``appends`` to write; an operation holding a record id that is stored
    already (or earlier in the batch) is refused alone, the others go ahead."""
    pending: list[PendingRecord] = []
    batch_ids: set[str] = set()
    for op in appends:
        op.error = None
        ids = {p.record_id for p in op.payload}
        clash = (ids & existing) or (ids & batch_ids)
        if clash:
            op.error = AuditError(f"the query log already holds record {min(clash)}")
            continue
        batch_ids |= ids
        pending.extend(op.payload)
    return pending


def _fetch(conn: sqlite3.Connection, column: str, keys: Sequence[Any]) -> dict[Any, StoredRow]:
    """The records whose ``column`` (``seq`` or ``record_id``) is one of ``keys``, by key."""
    found: dict[Any, StoredRow] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        # A fixed column name and placeholders only.
        for t in conn.execute(f"{_SELECT_ROWS} WHERE {column} IN ({marks})", chunk):
            row = _stored(t)
            found[row.seq if column == "seq" else row.record_id] = row
    return found


def _rollback(conn: sqlite3.Connection) -> None:
    # After an error SQLite may already have rolled back on its own (e.g. SQLITE_FULL).
    with contextlib.suppress(sqlite3.Error):
        if conn.in_transaction:
            conn.execute("ROLLBACK")


class SQLiteQueryLog(_common.WriterBackedLog):
    """The default query log: a SQLite file (WAL, ``synchronous=FULL``, mode 0600).

    ``group_commit=True`` (default) writes through one writer thread that batches concurrent
    records into one transaction; ``group_commit=False`` makes every record its own
    transaction in the caller's thread. Either way a call returns only once its record is on
    disk, and raises :class:`~credit_sdk.AuditError` when it is not.

    ``create=False`` opens an existing log only (what the CLI does). ``max_attempts`` bounds
    feedback deliveries before an item becomes a dead letter; ``timeout`` bounds how long a
    caller waits for its write; ``busy_timeout`` how long a transaction waits for another
    process's lock.

    >>> import tempfile, os
    >>> from datetime import datetime, UTC
    >>> from credit_sdk import SQLiteQueryLog, QueryIntent
    >>> with tempfile.TemporaryDirectory() as tmp, SQLiteQueryLog(os.path.join(tmp, "a.db")) as log:
    ...     log.record_intent(QueryIntent(query_id="q1", requested_at=datetime.now(UTC),
    ...         organ="230100-SCJGJ", operator="u1024", matter_code="", purpose="licence 2026-118",
    ...         scenario="admin_licensing", subject_pseudonym="0" * 64,
    ...         subject_display="9123**********Y4K", subject_kind="uscc"))
    ...     log.verify().count
    1
    """

    #: The sqlite3 connection class; a subclass can inject faults in tests.
    _connection_factory: ClassVar[type[sqlite3.Connection]] = sqlite3.Connection

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        group_commit: bool = True,
        create: bool = True,
        max_attempts: int = 10,
        timeout: float = 30.0,
        busy_timeout: float = 30.0,
        max_batch_rows: int = 4096,
        checkpoints: CheckpointPolicy | None = None,
    ) -> None:
        _common.check_max_attempts(max_attempts)
        self._path = os.fspath(path)
        if not self._path or self._path == ":memory:" or self._path.startswith("file:"):
            raise ConfigurationError(
                "SQLiteQueryLog needs a file path; use MemoryQueryLog for an in-memory log"
            )
        self._max_attempts = max_attempts
        self._busy_timeout = busy_timeout
        self._timeout = timeout
        self._prepare_file(create)
        self._side_lock = threading.RLock()
        # (connection id, busy timeout in ms) last set on the side connection.
        self._side_busy: tuple[int, int] | None = None
        self._closed = False
        self._side: sqlite3.Connection | None = self._connect()
        try:
            self._init_schema(self._side, create)
        except BaseException:
            self._side.close()
            raise
        self._writer_conn: sqlite3.Connection | None = None
        self._writer: GroupCommitWriter | None = (
            GroupCommitWriter(
                "credit-sdk-audit-writer",
                self._run_batch,
                on_failure=self._drop_writer_connection,
                max_batch_rows=max_batch_rows,
                timeout=timeout,
            )
            if group_commit
            else None
        )
        self._start_checkpoints(checkpoints)

    def __repr__(self) -> str:
        mode = "group commit" if self._writer is not None else "per-row commit"
        return f"SQLiteQueryLog({Path(self._path).name!r}, {mode})"

    # -- opening ---------------------------------------------------------------------------

    def _prepare_file(self, create: bool) -> None:
        path = Path(self._path)
        if path.exists():
            if not path.is_file():
                raise StoreCorrupt(f"query log {path.name!r} is not a regular file")
            if create:
                # The application's own log is kept owner-only. A tool that only opens an
                # existing log (create=False: the command line) never changes its mode.
                self._tighten_mode(path)
            return
        if not create:
            raise StoreNotFound(f"query log database {path.name!r} does not exist")
        if not path.parent.is_dir():
            raise StoreNotFound(f"the directory for query log {path.name!r} does not exist")
        try:
            # Create the file ourselves so that it is never, even briefly, readable by others;
            # SQLite gives its -wal and -shm files the same mode.
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass  # another process won the race; it created the file with the same mode
        except OSError as err:
            raise AuditError(f"cannot create query log {path.name!r}: {err.strerror}") from err

    @staticmethod
    def _tighten_mode(path: Path) -> None:
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            try:
                mode = stat.S_IMODE(candidate.stat().st_mode)
                if mode & 0o077:
                    candidate.chmod(mode & 0o700)
                    _log.warning(
                        "query log %s was accessible to others; mode set to 0600", candidate.name
                    )
            except FileNotFoundError:
                continue
            except OSError as err:
                _log.warning(
                    "query log %s: cannot restrict its mode: %s", candidate.name, err.strerror
                )

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self._path,
                timeout=self._busy_timeout,
                isolation_level=None,  # explicit BEGIN IMMEDIATE / COMMIT
                check_same_thread=False,  # each connection is guarded by one lock or thread
                factory=self._connection_factory,
            )
        except sqlite3.Error as err:
            raise self._convert(err, "open") from err
        try:
            for pragma in PRAGMAS:
                conn.execute(pragma)
        except sqlite3.Error as err:
            conn.close()
            raise self._convert(err, "open") from err
        return conn

    def _convert(self, err: sqlite3.Error, action: str) -> AuditError:
        text = str(err)
        name = Path(self._path).name
        if "database is locked" in text or "database table is locked" in text:
            return AuditError(
                f"query log {name!r}: {action} failed: another connection held the write lock "
                f"beyond the timeout ({min(self._busy_timeout, self._timeout):g} s); treat the "
                "check as failed"
            )
        if isinstance(err, sqlite3.DatabaseError) and (
            "not a database" in text or "malformed" in text or "corrupt" in text
        ):
            return StoreCorrupt(f"query log {name!r} is not a readable SQLite database ({text})")
        return AuditError(f"query log {name!r}: {action} failed: {text}")

    def _init_schema(self, conn: sqlite3.Connection, create: bool) -> None:
        name = Path(self._path).name
        try:
            app_id, version, tables = self._identify(conn)
            if app_id == APPLICATION_ID and version == 1:
                self._migrate_v1(conn)
                version = SCHEMA_VERSION
            if app_id == APPLICATION_ID and version == SCHEMA_VERSION:
                if create:
                    self._ensure_wal(conn)  # a creator may have died before setting it
                    self._drop_legacy_index(conn)
                    self._adopt_outbox(conn)
                return
            if app_id == APPLICATION_ID and version > SCHEMA_VERSION:
                raise StoreCorrupt(
                    f"query log {name!r} has schema version {version}, newer than this SDK "
                    f"knows ({SCHEMA_VERSION}); upgrade credit-sdk"
                )
            if app_id != 0 or tables:
                raise StoreCorrupt(f"{name!r} is not a credit-sdk query log")
            if not create:
                raise StoreCorrupt(f"{name!r} is an empty database, not a credit-sdk query log")
            conn.execute("BEGIN IMMEDIATE")
            try:
                app_id, version, tables = self._identify(conn, snapshot=False)
                if app_id == 0 and not tables:  # nobody else created it meanwhile
                    schema = _SCHEMA.format(genesis="0" * 64, outbox=_OUTBOX_SCHEMA)
                    for statement in schema.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(
                        "INSERT INTO audit_meta (key, value) VALUES ('created_at', ?), (?, ?)",
                        (iso(_common.now()), _OUTBOX_CHAIN_META, iso(_common.now())),
                    )
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
            self._ensure_wal(conn)
            app_id, version, tables = self._identify(conn)
            if app_id != APPLICATION_ID or version != SCHEMA_VERSION:
                raise StoreCorrupt(f"{name!r} is not a credit-sdk query log")
        except sqlite3.Error as err:
            raise self._convert(err, "schema check") from err

    def _ensure_wal(self, conn: sqlite3.Connection) -> None:
        """Put the file in WAL mode (it stays so). Set after the schema's transaction, not
        before: while another process has the file open, SQLite answers this pragma with
        "locked" at once, without waiting in its busy handler, so it is retried here within the
        busy timeout (processes that start together on a new file must not fail)."""
        if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        end = time.monotonic() + min(self._busy_timeout, self._timeout)
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or time.monotonic() >= end:
                    raise
            time.sleep(0.005)

    @staticmethod
    def _migrate_v1(conn: sqlite3.Connection) -> None:
        """Schema 1 -> 2: the feedback-only outbox becomes the outbox of every kind. Each row
        moves with its id, state, attempts, lease, error and times; its kind is feedback. One
        transaction: a crash leaves version 1 whole, and the next opening migrates again."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            if int(conn.execute("PRAGMA user_version").fetchone()[0]) == 1:
                for statement in _OUTBOX_SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                rows = conn.execute(
                    f"SELECT {_V1_FEEDBACK_COLUMNS} FROM feedback_outbox ORDER BY id"  # noqa: S608
                ).fetchall()
                moved = []
                for r in rows:
                    item = feedback_to_outbox(_v1_feedback_item(r))
                    moved.append(
                        (r[0], item.kind, item.idempotency_key, item.payload, r[10], r[11],
                         r[12], r[13], r[14], r[15], r[16])
                    )  # fmt: skip
                conn.executemany(
                    "INSERT INTO outbox (id, kind, idempotency_key, payload, enqueued_at, state, "
                    "attempts, available_at, lease_until, last_error, delivered_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    moved,
                )
                conn.execute("DROP TABLE feedback_outbox")
                # Its rows were never stated in the chain: the opening adopts them next.
                conn.execute("DELETE FROM audit_meta WHERE key = ?", (_OUTBOX_CHAIN_META,))
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
        _log.info("query log: outbox migrated to schema %d", SCHEMA_VERSION)

    @staticmethod
    def _adopt_outbox(conn: sqlite3.Connection) -> None:
        """A log written before the outbox was chained: its rows are stated in the chain once,
        as they are now (``outbox_adopted`` records, reason ``opened``), in one transaction
        that also marks the log as chained. What happened to them before is not proven. A
        log that holds outbox records already but lost its mark is left alone (verify then
        reports any row no record states): adopting would launder rows forged meanwhile."""
        if conn.execute("SELECT 1 FROM audit_meta WHERE key = ?", (_OUTBOX_CHAIN_META,)).fetchone():
            return
        try:
            SQLiteQueryLog._adopt_now(conn)
        except (sqlite3.Error, AuditError) as err:
            # A file that cannot be written now: verify reports the rows as unstated until
            # an opening that can write adopts them.
            _log.warning("query log: outbox rows not adopted into the chain yet: %s", err)

    @staticmethod
    def _adopt_now(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            chained = conn.execute(
                "SELECT 1 FROM audit_meta WHERE key = ?", (_OUTBOX_CHAIN_META,)
            ).fetchone()
            stated = conn.execute(
                f"SELECT 1 FROM audit_records WHERE kind IN ({_OUTBOX_KINDS_SQL}) LIMIT 1"  # noqa: S608 -- fixed names
            ).fetchone()
            if not chained and not stated:
                rows = [_outbox_row(t) for t in conn.execute(_SELECT_OUTBOX_STATED)]
                rows = [r for r in rows if r.kind not in SELF_PROVING_KINDS]
                _chain_records(conn, adopt_records(rows, "opened"))
                conn.execute(
                    "INSERT INTO audit_meta (key, value) VALUES (?, ?)",
                    (_OUTBOX_CHAIN_META, iso(_common.now())),
                )
                if rows:
                    _log.info("query log: %d outbox items adopted into the chain", len(rows))
            elif not chained:
                _log.warning(
                    "query log: the outbox chain mark is missing; rows are not adopted "
                    "(run credit-sdk audit verify)"
                )
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise

    @staticmethod
    def _drop_legacy_index(conn: sqlite3.Connection) -> None:
        """Logs created by earlier versions index the subject pseudonym. Its keys are random,
        so every record cost a random page write for an index that only a subject's export
        uses; a writer drops it once (the schema is otherwise the same). Best effort: a file
        that cannot be written now keeps it, and works the same."""
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (_LEGACY_INDEX,)
        ).fetchone():
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(f"DROP INDEX IF EXISTS {_LEGACY_INDEX}")
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
        except sqlite3.Error as err:
            _log.info("query log: keeping the legacy subject index for now: %s", err)

    @staticmethod
    def _identify(conn: sqlite3.Connection, snapshot: bool = True) -> tuple[int, int, list[str]]:
        """The file's application id, schema version and tables, read in one transaction
        (``snapshot``): read one by one, they could straddle another process's creation of
        the schema and describe a file that never existed (tables, but no application id)."""
        if snapshot:
            conn.execute("BEGIN")
        try:
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
        finally:
            if snapshot:
                conn.execute("COMMIT")
        return app_id, version, tables

    # -- writing -----------------------------------------------------------------------------

    def _submit(self, op: Op) -> None:
        if self._closed:
            raise AuditError("the query log is closed")
        if self._writer is not None:
            self._writer.submit(op)
            return
        with self._bounded("write") as conn:
            try:
                self._write(conn, [op])
            except sqlite3.Error as err:
                raise self._convert(err, "write") from err
        if op.error is not None:
            raise op.error

    @contextlib.contextmanager
    def _bounded(self, action: str) -> Iterator[sqlite3.Connection]:
        """The side connection, for at most ``timeout`` seconds in all: waiting for this
        store's other callers (the lock), then for another connection's or process's write
        lock (SQLite's busy timeout, set to what is left). Past it: AuditError, fail closed."""
        deadline = time.monotonic() + self._timeout
        if not self._side_lock.acquire(timeout=self._timeout):
            raise AuditError(
                f"query log {Path(self._path).name!r}: {action}: not done within "
                f"{self._timeout:g} s (other writes of this store hold it); treat the check "
                "as failed"
            )
        try:
            try:
                conn = self._side_conn()
                left = max(0.0, min(self._busy_timeout, deadline - time.monotonic()))
                # In 100 ms steps, and only when it changes: without contention (the usual
                # case) the first write sets it and later ones run no extra statement.
                wanted = (id(conn), int(left * 10) * 100)
                if wanted != self._side_busy:
                    conn.execute(f"PRAGMA busy_timeout = {wanted[1]}")
                    self._side_busy = wanted
            except sqlite3.Error as err:
                raise self._convert(err, action) from err
            yield conn
        finally:
            self._side_lock.release()

    def _run_batch(self, ops: list[Op]) -> None:
        """Writer thread: one transaction for the whole batch."""
        if self._writer_conn is None:
            self._writer_conn = self._connect()
            # Its callers wait at most ``timeout``: the writer does not wait longer for a lock.
            wait = min(self._busy_timeout, self._timeout)
            self._writer_conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        try:
            self._write(self._writer_conn, ops)
        except sqlite3.Error as err:
            raise self._convert(err, "write") from err

    def _drop_writer_connection(self, err: BaseException) -> None:
        conn, self._writer_conn = self._writer_conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def _write(self, conn: sqlite3.Connection, ops: list[Op]) -> None:
        stream = ops[0].payload if len(ops) == 1 and ops[0].alone else None
        if isinstance(stream, _common.RecordStream):
            # A large append, alone in its transaction: insert its chunks as they arrive.
            try:
                self._transaction(conn, ops, stream.chunks())
            except sqlite3.IntegrityError:
                ops[0].payload = stream.all()
                self._transaction(conn, ops, None)
            return
        appends = [op for op in ops if op.kind == "append"]
        pending: list[PendingRecord] = (
            appends[0].payload if len(appends) == 1 else [p for op in appends for p in op.payload]
        )
        # Optimistic: the UNIQUE index finds duplicates (stored already, or two callers in one
        # batch); only then is the transaction redone with a lookup, so the common case costs
        # no extra statement.
        try:
            self._transaction(conn, ops, (pending,))
        except sqlite3.IntegrityError:
            if not pending:
                raise
            self._transaction(conn, ops, None)

    def _transaction(
        self,
        conn: sqlite3.Connection,
        ops: list[Op],
        pending: Iterable[list[PendingRecord]] | None,
    ) -> None:
        """One transaction: chain and insert the chunks of ``pending`` (``None``: look up which
        records are stored already and refuse the operations holding them), feedback, head,
        commit."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            seq, head = read_head(conn.execute(_SELECT_HEAD).fetchall())
            now = iso(_common.now())
            if pending is None:
                appends = [op for op in ops if op.kind == "append"]
                wanted = [p.record_id for op in appends for p in op.payload]
                pending = (_place(appends, self._existing_ids(conn, wanted)),)
            # Queued items are stated in the chain in the same transaction (after the batch's
            # own records): a row can never exist without its record, nor the other way round.
            queued = _enqueue(conn, ops, now) if any(op.kind == "outbox" for op in ops) else []
            new_seq, new_hash = seq, head
            for chunk in chain(pending, (queued,)):
                if chunk:
                    rows = link(chunk, new_seq, new_hash, now)
                    _insert_rows(conn, rows)
                    new_seq, new_hash = rows[-1][-3], rows[-1][-1]
            if new_seq != seq:
                conn.execute(_UPDATE_HEAD, (new_seq, new_hash))
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise

    @staticmethod
    def _existing_ids(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in conn.execute(
                    f"SELECT record_id FROM audit_records WHERE record_id IN ({marks})",  # noqa: S608 -- placeholders only
                    chunk,
                )
            )
        return found

    def _side_conn(self) -> sqlite3.Connection:
        if self._side is None:
            self._side = self._connect()
            self._side_busy = None  # a new connection: its busy timeout is set afresh
        return self._side

    @contextlib.contextmanager
    def _side_transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        """A write transaction on the side connection (outbox, prune), in the caller's thread."""
        if self._closed:
            raise AuditError("the query log is closed")
        with self._bounded(action) as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    _rollback(conn)
                    raise
            except sqlite3.Error as err:
                # The connection may be unusable (I/O error); open a fresh one next time.
                conn_, self._side = self._side, None
                if conn_ is not None:
                    with contextlib.suppress(sqlite3.Error):
                        conn_.close()
                raise self._convert(err, action) from err

    @contextlib.contextmanager
    def _reading(self, action: str) -> Iterator[sqlite3.Connection]:
        """A fresh read connection holding one snapshot; WAL readers never block the writer."""
        if self._closed:
            raise AuditError("the query log is closed")
        conn = self._connect()
        try:
            conn.execute("PRAGMA query_only = ON")
            conn.execute("BEGIN")
            yield conn
        except sqlite3.Error as err:
            raise self._convert(err, action) from err
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    # -- reading -----------------------------------------------------------------------------

    def verify(
        self,
        checkpoints: Iterable[SignedCheckpoint] = (),
        *,
        public_key: bytes | None = None,
        expect: Iterable[tuple[int, str]] = (),
    ) -> VerifyResult:
        """Walk the whole chain and report the first broken link, or the count and head hash.

        ``checkpoints`` (signed, checked under ``public_key``) and ``expect`` (``(seq, hash)``
        pairs written down elsewhere) prove the chain up to the newest of them: a rewrite or
        truncation at or before a witnessed record is reported there."""
        witnessed, key = _common.witness_args(self._checkpointer, checkpoints, public_key, expect)
        with self._reading("verify") as conn:
            return self._verify_on(conn, None, witnessed, key)

    def _verify_on(
        self,
        conn: sqlite3.Connection,
        through: int | None,
        witnessed: dict[int, tuple[str, str]] | None = None,
        public_key: bytes | None = None,
    ) -> VerifyResult:
        head_row, fault = head_problem(conn.execute(_SELECT_HEAD).fetchall())
        checkpoints = [
            _stored(t)
            for t in conn.execute(f"{_SELECT_ROWS} WHERE kind = 'checkpoint' ORDER BY seq")
        ]
        if through is None:
            cursor = conn.execute(f"{_SELECT_ROWS} ORDER BY seq")
            head = head_row
        else:
            cursor = conn.execute(f"{_SELECT_ROWS} WHERE seq <= ? ORDER BY seq", (through,))
            head = fault = None
        ledger = OutboxLedger()
        result = verify_rows(
            ledger.watch(map(_stored, cursor)),
            checkpoints=checkpoints,
            head=head,
            head_fault=fault,
            witnessed=witnessed,
            public_key=public_key,
        )
        if through is not None:
            return result
        return _common.reconciled(
            result, ledger, map(_outbox_row, conn.execute(_SELECT_OUTBOX_STATED)), public_key
        )

    def _write_checkpoint(self, policy: CheckpointPolicy) -> SignedCheckpoint | None:
        signer = policy.signer
        # The records since the previous checkpoint are checked on a snapshot first, without
        # the write lock; inside the write transaction only what was appended meanwhile.
        with self._reading("checkpoint") as conn:
            seq, digest = read_head(conn.execute(_SELECT_HEAD).fetchall())
            known = None if self._checkpointer is None else self._checkpointer.last_signed
            checked = (
                self._check_unsigned(conn, signer, (seq, digest), None, known) if seq else None
            )
        with self._side_transaction("checkpoint") as conn:
            head_seq, head_hash = read_head(conn.execute(_SELECT_HEAD).fetchall())
            newest = conn.execute(
                "SELECT kind FROM audit_records WHERE seq = ?", (head_seq,)
            ).fetchone()
            made = _common.next_checkpoint(signer, head_seq, head_hash, newest, _common.now())
            if made is None:
                return None
            self._check_unsigned(conn, signer, (head_seq, head_hash), checked)
            row, cp = made
            conn.execute(_INSERT_RECORD, row)
            conn.execute(_UPDATE_HEAD, (row[-3], row[-1]))
            if policy.to_platform:
                item = _common.checkpoint_outbox_item(cp)
                # A checkpoint item proves itself (its record is this checkpoint's): no
                # outbox record states it (see credit_sdk._audit._outbox_chain).
                conn.execute(_INSERT_OUTBOX_ONE, _outbox_tuple(item, iso(_common.now()))).fetchall()
        return cp

    def _unwitnessed_checkpoints(self, sinks: str) -> tuple[list[SignedCheckpoint], bool]:
        with self._reading("checkpoint sinks") as conn:
            mark = None
            if conn.execute(_HAS_SINKS_TABLE).fetchone() is not None:
                found = conn.execute(_SINKS_MARK, (sinks,)).fetchone()
                mark = None if found is None else int(found[0])
            if mark is None:
                bodies = conn.execute(_NEWEST_SIGNED).fetchall()
            else:
                bodies = conn.execute(_SIGNED_AFTER, (mark + 1, _common.OFFER_LIMIT)).fetchall()
        return _common.readable_checkpoints(bodies), mark is not None

    def _mark_witnessed(self, sinks: str, seq: int) -> None:
        with self._side_transaction("checkpoint sinks") as conn:
            conn.execute(_SINKS_TABLE)
            conn.execute(_SET_SINKS_MARK, (sinks, seq))

    @staticmethod
    def _check_unsigned(
        conn: sqlite3.Connection,
        signer: CheckpointSigner,
        head: tuple[int, str],
        checked: tuple[int, str] | None,
        known: SignedCheckpoint | None = None,
    ) -> tuple[int, str]:
        """Refuse (``AuditIntegrityError``) if the records not yet under a signed checkpoint
        were changed; from ``checked`` (a record a first pass verified, and its ``prev_hash``)
        on when given."""
        prunes: list[StoredRow] = []
        key: bytes | None = signer.public_key
        if checked is not None:
            previous: Sequence[Any] | None = (checked[0], checked[1], "")
            key = None  # a signed checkpoint there was checked by the first pass
        else:
            previous = conn.execute(_PREVIOUS_SIGNED, (head[0],)).fetchone()
        if previous is None:
            prunes = [_stored(t) for t in conn.execute(_SELECT_PRUNES)]
            rows = conn.execute(f"{_SELECT_ROWS} ORDER BY seq")
        else:
            rows = conn.execute(f"{_SELECT_ROWS} WHERE seq >= ? ORDER BY seq", (previous[0],))
        return _common.refuse_unless_intact(
            map(_stored, rows),
            previous=previous,
            prunes=prunes,
            head=head,
            public_key=key,
            known=known,
        )

    def export(
        self,
        *,
        subject_pseudonym: str | None = None,
        organ: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[AuditRecord]:
        """Records in chain order (Art. 50). With filters: the intents that match (subject,
        organ, ``since <= requested_at < until``) and their completions.

        With ``subject_pseudonym`` the subject index is read (and first brought up to date when
        more than a few thousand records are unindexed, see :meth:`index_subjects`); an index
        that does not match its own summaries raises :class:`~credit_sdk.AuditIntegrityError`
        rather than giving an incomplete answer."""
        filters = _common.ExportFilter.build(subject_pseudonym, organ, since, until)
        return self._export(filters)

    def _export(self, f: _common.ExportFilter) -> Iterator[AuditRecord]:
        if f.subject_pseudonym is not None:
            yield from self._export_subject(f, f.subject_pseudonym)
            return
        with self._reading("export") as conn:
            if f.empty:
                cursor = conn.execute(f"{_SELECT_ROWS} ORDER BY seq")
            else:
                where, params = ["kind = 'intent'"], []
                for column, op, value in (
                    ("subject_pseudonym", "=", f.subject_pseudonym),
                    ("organ", "=", f.organ),
                    ("event_at", ">=", f.since),
                    ("event_at", "<", f.until),
                ):
                    if value is not None:
                        where.append(f"{column} {op} ?")
                        params.append(value)
                # One pass over the intents finds the matching queries (no index on the subject:
                # see _drop_legacy_index); their records are then fetched by record id.
                matching = " AND ".join(where)  # fixed column names, values as parameters
                cursor = conn.execute(
                    f"WITH q AS MATERIALIZED (SELECT query_id FROM audit_records WHERE {matching}) "  # noqa: S608
                    f"{_SELECT_ROWS} WHERE record_id IN (SELECT 'intent:' || query_id FROM q "
                    "UNION ALL SELECT 'completion:' || query_id FROM q) ORDER BY seq",
                    params,
                )
            for t in cursor:
                yield _stored(t).to_record()

    # -- one subject's export and its index (see credit_sdk._audit._subject_index) ----------

    def index_subjects(
        self, *, rebuild: bool = False, progress: Callable[[int, int, int], None] | None = None
    ) -> int:
        """Bring the subject index up to the newest record; returns how many records it
        indexed now. An export does this itself when more than a few thousand records are
        unindexed; the command line calls it first to show progress on a long first build.

        Each chunk of records is its own short transaction (the writers wait for it no longer
        than for one of their own). ``rebuild=True`` drops the index and builds it afresh from
        the chain. ``progress(done, total, 0)`` is called after each chunk.

        >>> import tempfile, os
        >>> from credit_sdk import SQLiteQueryLog
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     with SQLiteQueryLog(os.path.join(tmp, "audit.db")) as log:
        ...         log.index_subjects()
        0
        """
        if rebuild:
            with self._side_transaction("rebuild the subject index") as conn:
                _subjects.drop(conn)
        with self._reading("subject index") as conn:
            through, last = _subjects.state(conn)
            first = conn.execute("SELECT MIN(seq) FROM audit_records").fetchone()[0]
        start = (first or 0) if through is None else through + 1
        total = 0 if last is None else max(last - start + 1, 0)
        done = 0
        while True:
            with self._side_transaction("index subjects") as conn:
                step = _subjects.build_step(conn)
            if step is None:
                break
            done = step[0] - start + 1
            total = max(total, step[1] - start + 1)
            if progress is not None:
                progress(done, total, 0)
        return done

    def check_subject_index(
        self, progress: Callable[[int, int, int], None] | None = None
    ) -> str | None:
        """Compare the subject index with the chain, record by record: ``None`` when it holds
        exactly the chain's intents, else what differs (a rewrite of the index that kept its
        summaries consistent, which an export alone cannot see)."""
        with self._reading("check the subject index") as conn:
            return _subjects.check(conn, progress)

    def _export_subject(self, f: _common.ExportFilter, pseudonym: str) -> Iterator[AuditRecord]:
        rows = self._subject_rows(f, pseudonym, catch_up=True)
        if rows is None:
            # More records are unindexed than an export should scan: index them first. Best
            # effort: a log that cannot be written now (read-only copy, lock held beyond the
            # timeout) is exported with a scan of its unindexed records instead.
            try:
                self.index_subjects()
            except AuditIntegrityError:
                raise
            except AuditError as err:
                _log.info("query log: subject index not brought up to date: %s", err)
            rows = self._subject_rows(f, pseudonym, catch_up=False)
            assert rows is not None
        for row in rows:
            yield row.to_record()

    def _subject_rows(
        self, f: _common.ExportFilter, pseudonym: str, *, catch_up: bool
    ) -> list[StoredRow] | None:
        """The subject's records that match ``f``, in chain order, in one snapshot; ``None``
        (with ``catch_up``) when more than ``TAIL`` records are unindexed."""
        with self._reading("export") as conn:
            through, last = _subjects.state(conn)
            if catch_up and last is not None and (
                through is None or last - through > _subjects.TAIL
            ):
                return None
            seqs, through = _subjects.lookup(conn, pseudonym)
            if through is None:
                through = 0  # no index (a log that could not be written): scan it all
            seqs.extend(
                r[0]
                for r in conn.execute(
                    "SELECT seq FROM audit_records WHERE seq > ? AND kind = 'intent' "
                    "AND subject_pseudonym = ?",
                    (through, pseudonym),
                )
            )
            first = conn.execute("SELECT MIN(seq) FROM audit_records").fetchone()[0]
            intents = _fetch(conn, "seq", seqs)
            for seq in seqs:
                row = intents.get(seq)
                if row is None:
                    if first is not None and seq < first:
                        continue  # pruned by a version that kept no index
                    raise AuditIntegrityError(
                        f"the subject index names record {seq}, which is not in the query "
                        "log; run `credit-sdk audit verify`"
                    )
                if row.kind != "intent" or row.subject_pseudonym != pseudonym:
                    raise AuditIntegrityError(
                        f"the subject index names record {seq}, which is not an intent of "
                        "that subject; run `credit-sdk audit verify` and "
                        "`credit-sdk audit index --check`"
                    )
            wanted = [row for row in intents.values() if f.matches(row)]
            completions = _fetch(
                conn, "record_id", [f"completion:{row.query_id}" for row in wanted]
            )
        return sorted([*wanted, *completions.values()], key=lambda r: r.seq)

    def stats(self) -> AuditStats:
        """Counts by kind, outcome, organ and UTC day, queries without a completion, and the
        outbox (what ``credit-sdk audit stats`` prints)."""
        with self._reading("stats") as conn:
            head, fault = head_problem(conn.execute(_SELECT_HEAD).fetchall())
            newest = conn.execute(
                "SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            kinds = {
                k: (n, lo, hi)
                for k, n, lo, hi in conn.execute(
                    "SELECT kind, COUNT(*), MIN(recorded_at), MAX(recorded_at) "
                    "FROM audit_records GROUP BY kind"
                )
            }
            by_outcome = dict(conn.execute(
                "SELECT outcome, COUNT(*) FROM audit_records WHERE kind = 'completion' "
                "GROUP BY outcome ORDER BY outcome"
            ).fetchall())  # fmt: skip
            by_organ = dict(conn.execute(
                "SELECT organ, COUNT(*) FROM audit_records WHERE kind = 'intent' "
                "GROUP BY organ ORDER BY organ"
            ).fetchall())  # fmt: skip
            by_day = dict(conn.execute(
                "SELECT substr(event_at, 1, 10) AS day, COUNT(*) FROM audit_records "
                "WHERE kind = 'intent' GROUP BY day ORDER BY day"
            ).fetchall())  # fmt: skip
            incomplete = conn.execute(
                "SELECT COUNT(*) FROM audit_records i WHERE i.kind = 'intent' AND NOT EXISTS "
                "(SELECT 1 FROM audit_records c WHERE c.record_id = 'completion:' || i.query_id)"
            ).fetchone()[0]
            outbox = self._outbox_stats_on(conn)
            outbox_problem = _common.outbox_finding(
                _ledger(conn), map(_outbox_row, conn.execute(_SELECT_OUTBOX_STATED))
            )
        lows = [v[1] for v in kinds.values() if v[1]]
        highs = [v[2] for v in kinds.values() if v[2]]
        return AuditStats(
            records=sum(v[0] for v in kinds.values()),
            intents=kinds.get("intent", (0,))[0],
            completions=kinds.get("completion", (0,))[0],
            checkpoints=kinds.get("checkpoint", (0,))[0],
            incomplete=int(incomplete),
            **_common.head_fields(head, fault, newest),
            first_recorded_at=_common.opt_time(min(lows, default=None)),
            last_recorded_at=_common.opt_time(max(highs, default=None)),
            by_outcome=by_outcome,
            by_organ=by_organ,
            by_day=by_day,
            outbox=outbox,
            outbox_problem=outbox_problem,
        )

    # -- pruning -----------------------------------------------------------------------------

    def prune(self, before: datetime) -> PruneResult:
        """Delete the records written before ``before`` under a chained checkpoint (see
        :meth:`_prune_chain`), and the reports archived before it."""
        result = self._prune_chain(before)
        self.prune_archive(before)
        return result

    def _prune_chain(self, before: datetime) -> PruneResult:
        """Delete the records written before ``before`` and chain a checkpoint in their place.

        Only a prefix of the chain is deleted (up to the first record written at or after
        ``before``), and only after that prefix verifies: pruning never hides tampering. The
        checkpoint holds the pruned range, count and the hash of the last pruned record, which
        the first kept record links to; :meth:`verify` starts there.
        """
        cutoff = iso(_common.check_prune_before(before))
        with self._side_transaction("prune") as conn:
            head_seq, head_hash = read_head(conn.execute(_SELECT_HEAD).fetchall())
            first = conn.execute("SELECT MIN(seq) FROM audit_records").fetchone()[0]
            keep_from = conn.execute(
                "SELECT MIN(seq) FROM audit_records WHERE recorded_at >= ?", (cutoff,)
            ).fetchone()[0]
            last = keep_from - 1 if keep_from is not None else head_seq
            if first is None or last < first:
                return PruneResult(pruned=0)
            check = self._verify_on(conn, last + 1)
            if not check.ok:
                raise AuditIntegrityError(
                    f"refusing to prune a chain that does not verify: {check}"
                )
            ledger = _ledger(conn)
            outbox = [_outbox_row(t) for t in conn.execute(_SELECT_OUTBOX_STATED)]
            unreconciled = _common.outbox_unreconciled(ledger, outbox)
            if unreconciled is not None:
                raise unreconciled
            pruned_hash, oldest, newest, count = conn.execute(
                "SELECT (SELECT hash FROM audit_records WHERE seq = ?), MIN(recorded_at), "
                "MAX(recorded_at), COUNT(*) FROM audit_records WHERE seq <= ?",
                (last, last),
            ).fetchone()
            cp = checkpoint_record(
                first_pruned_seq=first,
                last_pruned_seq=last,
                pruned_head_hash=pruned_hash,
                before=cutoff,
                oldest_recorded_at=oldest,
                newest_recorded_at=newest,
            )
            conn.execute("DELETE FROM audit_records WHERE seq <= ?", (last,))
            _subjects.prune(conn, last)
            # Items whose stating records go are restated after the checkpoint, with their
            # state now: the outbox stays covered by the chain.
            adopted = adopt_records(ledger.pruned_with(outbox, last), "pruned")
            rows = link([cp, *adopted], head_seq, head_hash, iso(_common.now()))
            cp_seq, cp_hash = rows[0][-3], rows[0][-1]
            _insert_rows(conn, rows)
            conn.execute(_UPDATE_HEAD, (rows[-1][-3], rows[-1][-1]))
        return PruneResult(
            pruned=int(count),
            first_pruned_seq=first,
            last_pruned_seq=last,
            pruned_head_hash=pruned_hash,
            checkpoint_seq=cp_seq,
            checkpoint_hash=cp_hash,
        )

    # -- the outbox (Art. 22, 46, 52) -------------------------------------------------------

    def claim_outbox(
        self, limit: int, lease_seconds: float, *, kinds: Collection[str] | None = None
    ) -> list[ClaimedOutboxItem]:
        """Lease up to ``limit`` deliverable items (of ``kinds``, default all) for
        ``lease_seconds``, oldest first.

        Each claim counts as an attempt. An item whose lease ran out after its last allowed
        attempt becomes a dead letter instead of being claimed again.
        """
        _common.check_claim(limit, lease_seconds)
        wanted = _common.check_kinds(kinds)
        if wanted is not None and not wanted:
            return []
        now_dt = _common.now()
        now = iso(now_dt)
        until_dt = now_dt + timedelta(seconds=lease_seconds)
        until = iso(until_dt)
        only = "" if wanted is None else f" AND kind IN ({','.join('?' * len(wanted))})"
        with self._side_transaction("claim outbox") as conn:
            died = conn.execute(
                "UPDATE outbox SET state = 'dead', lease_until = NULL, "
                "last_error = COALESCE(last_error, ?) WHERE state = 'pending' AND "
                "lease_until IS NOT NULL AND lease_until <= ? AND attempts >= ? RETURNING id, kind",
                (_common.LEASE_EXPIRED, now, self._max_attempts),
            ).fetchall()
            _state_change(conn, "dead", died)
            rows = conn.execute(
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE state = 'pending' "  # noqa: S608
                "AND available_at <= ? AND (lease_until IS NULL OR lease_until <= ?) "
                f"AND attempts < ?{only} ORDER BY id LIMIT ?",
                (now, now, self._max_attempts, *(wanted or ()), limit),
            ).fetchall()
            conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1, lease_until = ? WHERE id = ?",
                [(until, r[0]) for r in rows],
            )
        return [
            ClaimedOutboxItem(
                outbox_id=int(r[0]),
                item=_outbox_item(r),
                attempt=int(r[7]) + 1,
                lease_expires_at=until_dt,
                enqueued_at=parse_iso(r[8]),
            )
            for r in rows
        ]

    def mark_delivered(self, ids: Sequence[int]) -> None:
        """Record that the platform accepted these items (by ``outbox_id``); the subject's
        identifier an item carried for the platform is erased from the outbox."""
        wanted = _common.check_ids(ids)
        if not wanted:
            return
        now = iso(_common.now())
        with self._side_transaction("mark delivered") as conn:
            done = [
                r
                for marks, ids in _id_chunks(wanted)
                for r in conn.execute(_MARK_DELIVERED.format(ids=marks), [now, *ids]).fetchall()
            ]
            _state_change(conn, "delivered", done)

    def mark_failed(
        self,
        ids: Sequence[int],
        error: str,
        *,
        retry_after: float = 0.0,
        attempt: bool = True,
        dead: bool = False,
    ) -> None:
        """Record a failed delivery; the item is retried after ``retry_after`` seconds, or
        becomes a dead letter once it has used ``max_attempts``.

        ``attempt=False``: the platform did not answer about the items (unavailable, timeout,
        connection failure): the claim's attempt is given back, the lease released, and the
        items stay pending whatever their count. ``dead=True``: they become dead letters now
        (the sender's dead-letter age)."""
        wanted = _common.check_ids(ids)
        if not wanted:
            return
        message = _common.clean_error(error)
        now_dt = _common.now()
        available = iso(now_dt + timedelta(seconds=max(retry_after, 0.0)))
        with self._side_transaction("mark failed") as conn:
            died = [
                r[:2]
                for marks, ids in _id_chunks(wanted)
                for r in conn.execute(
                    _MARK_FAILED.format(ids=marks),
                    [message, available, attempt, dead, attempt, self._max_attempts, *ids],
                ).fetchall()
                if r[2] == "dead"
            ]
            _state_change(conn, "dead", died)

    # -- the report archive (see credit_sdk._audit._archive) ------------------------------------

    def archive_reports(self, reports: Sequence[ArchivedReport]) -> None:
        """Durably store encrypted reports (one transaction); a query archived already keeps
        its first report."""
        rows = _common.check_archived(reports)
        if not rows:
            return
        now = iso(_common.now())
        with self._side_transaction("archive reports") as conn:
            conn.execute(_ARCHIVE_TABLE)
            conn.executemany(
                "INSERT INTO report_archive (query_id, report_sha256, key_id, stored_at, blob) "
                "VALUES (?,?,?,?,?) ON CONFLICT (query_id) DO NOTHING",
                [(r.query_id, r.report_sha256, r.key_id, now, r.blob) for r in rows],
            )

    def archived_report(self, query_id: str) -> ArchivedReport | None:
        """The encrypted report archived for ``query_id``, if any."""
        with self._reading("read archive") as conn:
            if not conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'report_archive'"
            ).fetchone():
                return None
            row = conn.execute(
                "SELECT query_id, report_sha256, key_id, blob FROM report_archive "
                "WHERE query_id = ?",
                (query_id,),
            ).fetchone()
        return None if row is None else ArchivedReport(row[0], row[1], row[2], bytes(row[3]))

    def prune_archive(self, before: datetime) -> int:
        """Delete reports archived before ``before``; returns how many."""
        cutoff = iso(_common.check_prune_before(before))
        with self._side_transaction("prune archive") as conn:
            conn.execute(_ARCHIVE_TABLE)
            return int(
                conn.execute("DELETE FROM report_archive WHERE stored_at < ?", (cutoff,)).rowcount
            )

    def requeue_dead_letters(self, ids: Sequence[int] | None = None) -> int:
        """Move dead letters (all, or those of ``ids``) back to pending with their attempts
        reset and any lease cleared, deliverable at once; ids that are not dead letters are
        ignored. Returns how many were requeued."""
        wanted = None if ids is None else _common.check_ids(ids)
        if wanted is not None and not wanted:
            return 0
        now = iso(_common.now())
        with self._side_transaction("requeue dead letters") as conn:
            if wanted is None:
                moved = conn.execute(_REQUEUE.format(only=""), (now,)).fetchall()
            else:
                moved = [
                    r
                    for marks, ids in _id_chunks(wanted)
                    for r in conn.execute(
                        _REQUEUE.format(only=f" AND id IN ({marks})"), [now, *ids]
                    ).fetchall()
                ]
            _state_change(conn, "pending", moved)
            return len(moved)

    def outbox_stats(self) -> OutboxStats:
        """Backlog, in-flight, delivered, dead-letter and overdue counts, also per kind."""
        with self._reading("outbox stats") as conn:
            return self._outbox_stats_on(conn)

    @staticmethod
    def _outbox_stats_on(conn: sqlite3.Connection) -> OutboxStats:
        now = iso(_common.now())
        today = _common.today().isoformat()
        return _common.outbox_stats(
            (kind, state, n, leased, _common.opt_time(oldest), overdue)
            for kind, state, n, leased, oldest, overdue in conn.execute(
                "SELECT kind, state, COUNT(*), SUM(lease_until > ?), MIN(enqueued_at), "
                "SUM(due_on < ?) FROM outbox GROUP BY kind, state",
                (now, today),
            )
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Commit whatever is queued, write a last checkpoint (with a checkpoint policy), stop
        the writer and close the file. Idempotent."""
        if self._closed:
            return
        self._stop_checkpoints()
        if self._writer is not None:
            self._writer.close()
        self._closed = True
        self._drop_writer_connection(AuditError("closed"))
        with self._side_lock:
            side, self._side = self._side, None
            if side is not None:
                with contextlib.suppress(sqlite3.Error):
                    side.close()
