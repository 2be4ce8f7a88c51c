"""The PostgreSQL query-log store: several application instances share one log (Art. 25, 46, 50).

Install the extra: ``pip install 'credit-sdk[postgres]'`` (psycopg 3). psycopg is imported when
a store is constructed, never at ``import credit_sdk``.

**How the chain stays linear with writers on several hosts.** The chain head lives in a
one-row table, ``audit_chain_head``. An append transaction starts with
``SELECT seq, hash, clock_timestamp() FROM audit_chain_head WHERE id = 1 FOR UPDATE``: the row
lock serialises appenders across all hosts and connections, each transaction chains its batch
after the head it locked, and updates the head before committing. A writer that died mid-batch
releases the lock with its rolled-back transaction. ``seq`` is the primary key, so even a buggy
writer that skipped the lock could not fork the chain: its insert would fail. Record times come
from the database server's clock (``clock_timestamp()`` read under the lock), so hosts with
skewed clocks still write times in chain order.

When this store wrote the head last, it skips the separate lock: one statement moves the head
from the one it wrote (taking the same row lock), only if it is still there and the record time
is within a second of the server's clock, and inserts the records only if it moved; otherwise
nothing is written and the locked transaction runs.

Each host batches its concurrent records in one writer thread (group commit, as in the SQLite
store), so the lock is taken once per batch, not once per record. The feedback outbox is
claimed with ``FOR UPDATE SKIP LOCKED`` and a lease, so senders on several hosts never block
each other and never hold the same item at the same time (until a lease runs out).

>>> from credit_sdk import PostgresQueryLog                      # doctest: +SKIP
>>> log = PostgresQueryLog("postgresql://audit@db.internal/credit")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from itertools import chain
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from credit_sdk._audit import _common
from credit_sdk._audit._archive import ArchivedReport
from credit_sdk._audit._chain import (
    GENESIS_HASH,
    LINKED_COLUMNS,
    PendingRecord,
    StoredRow,
    broken_head,
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
)
from credit_sdk._audit._witness import CheckpointPolicy, CheckpointSigner, SignedCheckpoint
from credit_sdk._audit._writer import GroupCommitWriter, Op
from credit_sdk._errors import AuditError, AuditIntegrityError, ConfigurationError

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresQueryLog"]

_log = logging.getLogger("credit_sdk.audit")

SCHEMA_VERSION = 2
# Version 1 had a feedback-only outbox table; opening such a log migrates it (_migrate_v1).
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_T = TypeVar("_T")

_DDL = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.audit_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.audit_chain_head (
    id smallint PRIMARY KEY CHECK (id = 1),
    seq bigint NOT NULL,
    hash text NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.audit_records (
    seq bigint PRIMARY KEY,
    record_id text NOT NULL UNIQUE,
    kind text NOT NULL,
    query_id text,
    recorded_at timestamptz NOT NULL,
    event_at timestamptz,
    organ text,
    subject_pseudonym text,
    outcome text,
    body text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_records_subject ON {s}.audit_records (subject_pseudonym)
    WHERE kind = 'intent';
{outbox}
INSERT INTO {s}.audit_chain_head (id, seq, hash) VALUES (1, 0, '{genesis}') ON CONFLICT DO NOTHING;
INSERT INTO {s}.audit_meta (key, value) VALUES ('schema_version', '{version}')
    ON CONFLICT DO NOTHING;
INSERT INTO {s}.audit_meta (key, value) VALUES ('created_at', now()::text) ON CONFLICT DO NOTHING;
INSERT INTO {s}.audit_meta (key, value) VALUES ('outbox_chain', now()::text) ON CONFLICT DO NOTHING
"""

_OUTBOX_DDL = """
CREATE TABLE IF NOT EXISTS {s}.outbox (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    idempotency_key text NOT NULL,
    payload text NOT NULL,
    subject text,
    subject_pseudonym text,
    due_on date,
    enqueued_at timestamptz NOT NULL,
    state text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    available_at timestamptz NOT NULL,
    lease_until timestamptz,
    last_error text,
    delivered_at timestamptz,
    UNIQUE (kind, idempotency_key)
);
CREATE INDEX IF NOT EXISTS outbox_state ON {s}.outbox (state, id);
"""

_COLUMNS = (
    "seq, record_id, kind, query_id, recorded_at, event_at, organ, subject_pseudonym, outcome, "
    "body, prev_hash, hash"
)
# Taken at the start of every append and prune: the row lock serialises writers on all hosts.
_LOCK_HEAD = "SELECT seq, hash, clock_timestamp() FROM {s}.audit_chain_head WHERE id = 1 FOR UPDATE"
_LOCK_HEAD_AND_FIND = (
    "SELECT h.seq, h.hash, clock_timestamp(), ARRAY(SELECT r.record_id FROM {s}.audit_records r "
    "WHERE r.record_id = ANY(%s::text[])) FROM {s}.audit_chain_head h WHERE h.id = 1 "
    "FOR UPDATE OF h"
)
_INSERT_OUTBOX = (
    "INSERT INTO {s}.outbox (kind, idempotency_key, payload, subject, subject_pseudonym, due_on, "
    "enqueued_at, available_at) VALUES {values} "
    "ON CONFLICT (kind, idempotency_key) DO NOTHING RETURNING id, kind, idempotency_key"
)
_OUTBOX_ROW = "(%s,%s,%s,%s,%s,%s,%s,%s)"
_OUTBOX_CHUNK = 500
# What verify() holds against the chain (see credit_sdk._audit._outbox_chain).
_SELECT_OUTBOX_STATED = (
    "SELECT id, kind, idempotency_key, payload, subject_pseudonym, due_on, enqueued_at, state "
    "FROM {s}.outbox"
)
_OUTBOX_KINDS_SQL = ", ".join(f"'{k}'" for k in OUTBOX_RECORD_KINDS)
_SELECT_OUTBOX_RECORDS = (
    "SELECT kind, body, seq, record_id FROM {s}.audit_records "  # noqa: S608 -- fixed names
    f"WHERE kind IN ({_OUTBOX_KINDS_SQL}) ORDER BY seq"
)
# Set when the outbox is chained from its first row (new logs), or once the rows of a log
# written before were adopted into the chain (see _adopt_outbox).
_OUTBOX_CHAIN_META = "outbox_chain"
_SELECT_ROWS = f"SELECT {_COLUMNS} FROM {{s}}.audit_records"  # noqa: S608 -- fixed column names
# Rows from link(), in LINKED_COLUMNS order (times as ISO text, which the server parses).
_INSERT_RECORD = (
    f"INSERT INTO {{s}}.audit_records ({LINKED_COLUMNS}) "  # noqa: S608 -- fixed column names
    "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
)
# Created on the first archived report: logs that never archive have no such table.
_ARCHIVE_TABLE = (
    "CREATE TABLE IF NOT EXISTS {s}.report_archive (query_id text PRIMARY KEY, "
    "report_sha256 text NOT NULL, key_id text NOT NULL, stored_at timestamptz NOT NULL, "
    "blob bytea NOT NULL)"
)
_COPY_RECORDS = f"COPY {{s}}.audit_records ({LINKED_COLUMNS}) FROM STDIN"
# Every row, not only id 1: none, or more than one (the key dropped), is a broken chain.
_SELECT_HEAD = "SELECT id, seq, hash FROM {s}.audit_chain_head ORDER BY id"
_PREVIOUS_SIGNED = _common.PREVIOUS_SIGNED.format(table="{s}.audit_records", mark="%s")
# What the checkpoint sinks acknowledged (see the SQLite store); created on first use.
_SINKS_TABLE = (
    "CREATE TABLE IF NOT EXISTS {s}.checkpoint_sinks (sinks text PRIMARY KEY, seq bigint NOT NULL)"
)
_SINKS_MARK = "SELECT seq FROM {s}.checkpoint_sinks WHERE sinks = %s"
_SET_SINKS_MARK = (
    "INSERT INTO {s}.checkpoint_sinks AS m (sinks, seq) VALUES (%s, %s) "
    "ON CONFLICT (sinks) DO UPDATE SET seq = GREATEST(m.seq, EXCLUDED.seq)"
)
_NEWEST_SIGNED = (
    "SELECT body FROM {s}.audit_records WHERE kind = 'signed_checkpoint' ORDER BY seq DESC LIMIT 1"
)
_SIGNED_AFTER = (
    "SELECT body FROM {s}.audit_records WHERE kind = 'signed_checkpoint' AND seq > %s "
    "ORDER BY seq LIMIT %s"
)
_UPDATE_HEAD = "UPDATE {s}.audit_chain_head SET seq = %s, hash = %s WHERE id = 1"
# Up to this many rows go in one pipelined round trip; more go in with COPY, chained and
# streamed _COPY_CHUNK rows at a time.
_PIPELINE_ROWS = 64
_COPY_CHUNK = 256
# One statement, one transaction: move the head from the one this store wrote (seq, hash) to
# the new one, only if it is still there and the record time is within a second of the
# server's clock (so times stay the server's, give or take, and in chain order), and insert
# the records only if the head moved. Autocommit makes it one round trip with its COMMIT.
_FAST_APPEND = (  # fixed names and placeholders only
    "WITH head AS (UPDATE {s}.audit_chain_head SET seq = %s, hash = %s "  # noqa: S608
    "WHERE id = 1 AND seq = %s AND hash = %s AND %s::timestamptz "
    "BETWEEN clock_timestamp() - interval '1 second' AND clock_timestamp() + interval '1 second' "
    f"RETURNING 1) INSERT INTO {{s}}.audit_records ({LINKED_COLUMNS}) "
    "SELECT v.* FROM (VALUES {values}) AS v WHERE EXISTS (SELECT 1 FROM head)"
)
_FAST_ROW = "(%s,%s,%s,%s::timestamptz,%s,%s,%s,%s,%s::timestamptz,%s::bigint,%s,%s)"
# The feedback outbox of schema version 1, read once to migrate it.
_V1_FEEDBACK_COLUMNS = (
    "id, idempotency_key, query_id, measure_id, applied, reason, case_id, "
    "implementing_department, occurred_at, amount, enqueued_at, state, attempts, available_at, "
    "lease_until, last_error, delivered_at"
)


def _utc(value: datetime | None) -> datetime | None:
    # The server answers in its session time zone; the SDK speaks UTC.
    return None if value is None else value.astimezone(UTC)


class _InDoubt(Exception):
    """The connection failed while COMMIT was in flight: the outcome is unknown."""


def _locked_head(row: Sequence[Any] | None) -> tuple[int, str, Any]:
    """The head a writer locked (``seq, hash, server time``), or AuditIntegrityError: a
    missing or malformed head row is a broken chain, and nothing is built on it."""
    if row is None:
        raise broken_head(None)
    head, problem = head_problem([(1, row[0], row[1])])
    if head is None:
        raise broken_head(problem)
    return head[0], head[1], row[2]


def _stored(t: Sequence[Any]) -> StoredRow:
    return StoredRow(
        int(t[0]), t[1], t[2], t[3], iso(t[4]), None if t[5] is None else iso(t[5]),
        t[6], t[7], t[8], t[9], t[10], t[11],
    )  # fmt: skip


def _v1_feedback_item(t: Sequence[Any]) -> FeedbackItem:
    return FeedbackItem(
        idempotency_key=t[1], query_id=t[2], measure_id=t[3], applied=bool(t[4]), reason=t[5],
        case_id=t[6], implementing_department=t[7], occurred_at=t[8],
        amount=None if t[9] is None else Decimal(t[9]),
    )  # fmt: skip


def _outbox_row(t: Sequence[Any]) -> OutboxRow:
    return OutboxRow(
        int(t[0]), t[1], t[2], t[3], t[4], None if t[5] is None else t[5].isoformat(),
        iso(t[6]), t[7],
    )  # fmt: skip


def _outbox_item(t: Sequence[Any]) -> OutboxItem:
    return OutboxItem(
        kind=t[1], idempotency_key=t[2], payload=t[3], subject=t[4], subject_pseudonym=t[5],
        due_on=t[6],
    )  # fmt: skip


class _Pool:
    """A few idle connections for the calling threads; broken ones are dropped, not reused."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], max_idle: int) -> None:
        self._connect = connect
        self._max_idle = max_idle
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextlib.contextmanager
    def connection(self, fresh: bool = False) -> Iterator[psycopg.Connection[Any]]:
        conn = None
        if not fresh:
            with self._lock:
                while self._idle and conn is None:
                    candidate = self._idle.pop()
                    if not (candidate.closed or candidate.broken):
                        conn = candidate
        if conn is None:
            conn = self._connect()
        reusable = False
        try:
            yield conn
            reusable = True
        finally:
            keep = False
            if reusable and not (conn.closed or conn.broken):
                from psycopg.pq import TransactionStatus

                if conn.info.transaction_status == TransactionStatus.IDLE:
                    with self._lock:
                        if not self._closed and len(self._idle) < self._max_idle:
                            self._idle.append(conn)
                            keep = True
            if not keep:
                with contextlib.suppress(Exception):
                    conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(Exception):
                conn.close()


class PostgresQueryLog(_common.WriterBackedLog):
    """The query log in a PostgreSQL database, shared by several application instances.

    ``url`` is a libpq URL or conninfo string (credentials may come from ``PGPASSWORD`` or
    ``~/.pgpass``); ``schema`` (default ``credit_sdk``) holds the tables, created on first use
    unless ``create=False``. ``group_commit``, ``max_attempts`` and ``timeout`` mean what they
    mean for :class:`SQLiteQueryLog`.

    >>> log = PostgresQueryLog("postgresql://audit@127.0.0.1/credit")  # doctest: +SKIP
    >>> log.verify().ok                                                  # doctest: +SKIP
    True
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str = "credit_sdk",
        group_commit: bool = True,
        create: bool = True,
        max_attempts: int = 10,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        max_batch_rows: int = 4096,
        pool_size: int = 4,
        checkpoints: CheckpointPolicy | None = None,
    ) -> None:
        try:
            import psycopg
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ConfigurationError(
                "PostgresQueryLog needs psycopg: pip install 'credit-sdk[postgres]'"
            ) from err
        self._psycopg = psycopg
        _common.check_max_attempts(max_attempts)
        if not isinstance(schema, str) or not _SCHEMA_NAME.fullmatch(schema):
            raise ConfigurationError("schema must be a lower-case SQL identifier (a-z, 0-9, _)")
        if not isinstance(url, str) or not url:
            raise ConfigurationError("PostgresQueryLog needs a postgresql:// URL or conninfo")
        self._url = url
        self._where = self._describe(url)
        self._schema = schema
        self._max_attempts = max_attempts
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._closed = False
        self._pool = _Pool(self._connect, pool_size)
        try:
            self._init_schema(create)
        except BaseException:
            self._pool.close()
            raise
        self._writer_conn: psycopg.Connection[Any] | None = None
        # (seq, hash, recorded_at) of the chain head as this store last wrote it: a hint for
        # the one-round-trip append, which checks it in the database before relying on it.
        self._known_head: tuple[int, str, str] | None = None
        self._fast_sql: dict[int, str] = {}
        self._writer: GroupCommitWriter | None = (
            GroupCommitWriter(
                "credit-sdk-audit-pg-writer",
                self._run_batch,
                on_failure=self._drop_writer_connection,
                max_batch_rows=max_batch_rows,
                timeout=timeout,
            )
            if group_commit
            else None
        )
        self._start_checkpoints(checkpoints)

    @staticmethod
    def _describe(url: str) -> str:
        """host/database for messages: never the password."""
        if "://" in url:
            parts = urlsplit(url)
            return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or ''}"
        return "the configured PostgreSQL server"

    def __repr__(self) -> str:
        mode = "group commit" if self._writer is not None else "per-row commit"
        return f"PostgresQueryLog({self._where!r}, schema={self._schema!r}, {mode})"

    def _q(self, template: str) -> str:
        # The schema name was checked against a strict identifier pattern in __init__.
        return template.replace("{s}", f'"{self._schema}"')

    # -- connections and errors --------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            # Every statement, and every wait for a lock (the chain head's row lock above all),
            # is bounded by ``timeout``: past it the server cancels it and the caller gets
            # AuditError (fail closed) instead of waiting behind a lock for minutes.
            ms = max(1, int(self._timeout * 1000))
            return self._psycopg.connect(
                self._url,
                autocommit=True,
                connect_timeout=max(1, round(self._connect_timeout)),
                options=f"-c lock_timeout={ms} -c statement_timeout={ms}",
            )
        except self._psycopg.Error as err:
            raise self._convert(err, "connect") from err

    def _convert(self, err: BaseException, action: str) -> AuditError:
        if isinstance(err, AuditError):
            return err
        sqlstate = getattr(err, "sqlstate", None)
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if sqlstate in ("55P03", "57014"):  # lock_timeout, statement_timeout
            return AuditError(
                f"query log on {self._where}: {action} not done within {self._timeout:g} s "
                f"({first_line}); treat the check as failed"
            )
        if sqlstate == "3D000" or ("does not exist" in first_line and "database" in first_line):
            return StoreNotFound(f"query log database on {self._where} does not exist")
        if sqlstate in ("42P01", "3F000"):
            return StoreCorrupt(
                f"schema {self._schema!r} on {self._where} holds no credit-sdk query log"
            )
        return AuditError(f"query log on {self._where}: {action} failed: {first_line}")

    def _tx(self, conn: psycopg.Connection[Any], fn: Callable[[psycopg.Connection[Any]], _T]) -> _T:
        """Run ``fn`` in one transaction; COMMIT failures are reported as in doubt."""
        conn.execute("BEGIN")
        try:
            result = fn(conn)
        except BaseException:
            if not (conn.closed or conn.broken):
                with contextlib.suppress(self._psycopg.Error):
                    conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except self._psycopg.Error as err:
            raise _InDoubt(str(err)) from err
        return result

    def _side(
        self,
        action: str,
        fn: Callable[[psycopg.Connection[Any]], _T],
        *,
        own_transaction: bool = False,
    ) -> _T:
        """Run a transaction on a pooled connection, retrying once on a connection that turns
        out dead before COMMIT (e.g. after a server restart): nothing was written then.
        ``own_transaction``: ``fn`` begins and commits itself (and raises ``_InDoubt``)."""
        if self._closed:
            raise AuditError("the query log is closed")
        for attempt in (1, 2):
            try:
                with self._pool.connection(fresh=attempt == 2) as conn:
                    return fn(conn) if own_transaction else self._tx(conn, fn)
            except _InDoubt as err:
                raise AuditError(
                    f"query log on {self._where}: {action}: the connection failed during "
                    "commit; the outcome is unknown"
                ) from err
            except self._psycopg.OperationalError as err:
                if attempt == 1 and (conn.closed or conn.broken):
                    continue
                raise self._convert(err, action) from err
            except self._psycopg.Error as err:
                raise self._convert(err, action) from err
        raise AssertionError("unreachable")  # pragma: no cover

    def _init_schema(self, create: bool) -> None:
        def check(conn: psycopg.Connection[Any]) -> str | None:
            row = conn.execute(
                "SELECT to_regclass(%s), to_regclass(%s)",
                (f'"{self._schema}".audit_meta', f'"{self._schema}".audit_records'),
            ).fetchone()
            if row is None or row[0] is None or row[1] is None:
                return None
            version = conn.execute(
                self._q("SELECT value FROM {s}.audit_meta WHERE key = 'schema_version'")
            ).fetchone()
            return None if version is None else str(version[0])

        def create_schema(conn: psycopg.Connection[Any]) -> None:
            # Several hosts may start at once: one creates, the others wait and find it done.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('credit_sdk.audit.schema'))")
            ddl = (
                self._q(_DDL.replace("{outbox}", _OUTBOX_DDL))
                .replace("{genesis}", GENESIS_HASH)
                .replace("{version}", str(SCHEMA_VERSION))
            )
            for statement in ddl.split(";"):
                if statement.strip():
                    conn.execute(statement.encode())

        version = self._side("schema check", check)
        if version is None:
            if not create:
                raise StoreCorrupt(
                    f"schema {self._schema!r} on {self._where} holds no credit-sdk query log"
                )
            self._side("schema creation", create_schema)
            version = self._side("schema check", check)
        if version is None or not version.isdigit():
            raise StoreCorrupt(
                f"schema {self._schema!r} on {self._where} is not a credit-sdk query log"
            )
        if int(version) > SCHEMA_VERSION:
            raise StoreCorrupt(
                f"query log schema version {version} is newer than this SDK knows "
                f"({SCHEMA_VERSION}); upgrade credit-sdk"
            )
        if int(version) == 1:
            self._side("schema migration", self._migrate_v1)
        if create:
            try:
                self._side("outbox adoption", self._adopt_outbox)
            except AuditError as err:
                # Not now (a read-only role, a lock held): verify reports the rows as unstated
                # until an opening that can write adopts them.
                _log.warning("query log: outbox rows not adopted into the chain yet: %s", err)

    def _adopt_outbox(self, conn: psycopg.Connection[Any]) -> None:
        """A log written before the outbox was chained: its rows are stated in the chain once,
        as they are now (``outbox_adopted`` records, reason ``opened``), and the log is marked
        as chained, in one transaction. A log that holds outbox records already but lost its
        mark is left alone (adopting would launder rows forged meanwhile)."""
        marked = "SELECT 1 FROM {s}.audit_meta WHERE key = %s"
        if conn.execute(self._q(marked), (_OUTBOX_CHAIN_META,)).fetchone():
            return
        head = conn.execute(self._q(_LOCK_HEAD)).fetchone()
        if conn.execute(self._q(marked), (_OUTBOX_CHAIN_META,)).fetchone():
            return  # another host adopted them meanwhile
        stated = conn.execute(
            self._q(
                "SELECT 1 FROM {s}.audit_records "  # noqa: S608 -- fixed names
                f"WHERE kind IN ({_OUTBOX_KINDS_SQL}) LIMIT 1"
            )
        ).fetchone()
        if stated:
            _log.warning(
                "query log: the outbox chain mark is missing; rows are not adopted "
                "(run credit-sdk audit verify)"
            )
            return
        rows = [_outbox_row(t) for t in conn.execute(self._q(_SELECT_OUTBOX_STATED))]
        rows = [r for r in rows if r.kind not in SELF_PROVING_KINDS]
        self._chain_locked(conn, adopt_records(rows, "opened"), head)
        conn.execute(
            self._q("INSERT INTO {s}.audit_meta (key, value) VALUES (%s, now()::text)"),
            (_OUTBOX_CHAIN_META,),
        )

    def _migrate_v1(self, conn: psycopg.Connection[Any]) -> None:
        """Schema 1 -> 2: the feedback-only outbox becomes the outbox of every kind. Each row
        moves with its id, state, attempts, lease, error and times; its kind is feedback. One
        transaction under the schema lock: hosts starting at once migrate once."""
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('credit_sdk.audit.schema'))")
        row = conn.execute(
            self._q("SELECT value FROM {s}.audit_meta WHERE key = 'schema_version'")
        ).fetchone()
        if row is None or str(row[0]) != "1":
            return  # another host migrated meanwhile
        for statement in self._q(_OUTBOX_DDL).split(";"):
            if statement.strip():
                conn.execute(statement.encode())
        rows = conn.execute(
            self._q(f"SELECT {_V1_FEEDBACK_COLUMNS} FROM {{s}}.feedback_outbox ORDER BY id")  # noqa: S608
        ).fetchall()
        moved = []
        for r in rows:
            item = feedback_to_outbox(_v1_feedback_item(r))
            moved.append(
                (r[0], item.kind, item.idempotency_key, item.payload, r[10], r[11], r[12],
                 r[13], r[14], r[15], r[16])
            )  # fmt: skip
        with conn.cursor() as cur:
            cur.executemany(
                self._q(
                    "INSERT INTO {s}.outbox (id, kind, idempotency_key, payload, enqueued_at, "
                    "state, attempts, available_at, lease_until, last_error, delivered_at) "
                    "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
                ),
                moved,
            )
        conn.execute(
            self._q(
                "SELECT setval(pg_get_serial_sequence('{s}.outbox', 'id'), "
                "GREATEST((SELECT COALESCE(MAX(id), 0) FROM {s}.outbox), 1), "
                "(SELECT COUNT(*) > 0 FROM {s}.outbox))"
            )
        )
        conn.execute(self._q("DROP TABLE {s}.feedback_outbox"))
        # Its rows were never stated in the chain: the next step adopts them.
        conn.execute(self._q("DELETE FROM {s}.audit_meta WHERE key = %s"), (_OUTBOX_CHAIN_META,))
        conn.execute(
            self._q("UPDATE {s}.audit_meta SET value = %s WHERE key = 'schema_version'"),
            (str(SCHEMA_VERSION),),
        )

    # -- writing -----------------------------------------------------------------------------

    def _submit(self, op: Op) -> None:
        if self._closed:
            raise AuditError("the query log is closed")
        if self._writer is not None:
            self._writer.submit(op)
            return
        self._side("write", lambda conn: self._write(conn, [op]), own_transaction=True)
        if op.error is not None:
            raise op.error

    def _run_batch(self, ops: list[Op]) -> None:
        """Writer thread: one transaction per batch; one retry when the connection was found
        dead before COMMIT (server restarted, backend terminated): nothing was written."""
        for attempt in (1, 2):
            conn = self._writer_conn
            try:
                if conn is None:
                    conn = self._writer_conn = self._connect()
                self._write(conn, ops)
                return
            except _InDoubt as err:
                self._drop_writer_connection(err)
                raise AuditError(
                    f"query log on {self._where}: the connection failed during commit; "
                    "the outcome of this write is unknown"
                ) from err
            except self._psycopg.OperationalError as err:
                broken = conn is None or conn.closed or conn.broken
                self._drop_writer_connection(err)
                if attempt == 1 and broken:
                    continue
                raise self._convert(err, "write") from err
            except self._psycopg.Error as err:
                raise self._convert(err, "write") from err

    def _drop_writer_connection(self, err: BaseException) -> None:
        conn, self._writer_conn = self._writer_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _write(self, conn: psycopg.Connection[Any], ops: list[Op]) -> None:
        if not self._write_after_known_head(conn, ops):
            self._write_locked(conn, ops)

    def _write_after_known_head(self, conn: psycopg.Connection[Any], ops: list[Op]) -> bool:
        """The common case in one round trip: when this store wrote the chain head last, chain
        the records after it and send one statement (its own transaction, in autocommit) that
        moves the head only if it is still that head and the record time is within a second
        of the server's clock, and inserts the records only if it moved it. ``False`` (nothing
        written) when the head was not known or had moved, a record id is already stored, or
        the batch is large or holds feedback: then the locked path decides."""
        known = self._known_head
        if known is None or any(op.kind != "append" or op.alone for op in ops):
            return False
        pending = ops[0].payload if len(ops) == 1 else [p for op in ops for p in op.payload]
        if not 0 < len(pending) <= _PIPELINE_ROWS:
            return False
        if len(ops) > 1 and _common.duplicate_within(pending) is not None:
            return False  # two callers with one record id: the locked path refuses the second
        seq, head_hash, last_at = known
        now = iso(_common.now())
        at = now if now > last_at else last_at  # never before the record it follows
        rows = link(pending, seq, head_hash, at)
        new_seq, new_hash = rows[-1][-3], rows[-1][-1]
        self._known_head = None
        try:
            inserted = conn.execute(
                self._fast_insert(len(rows)),
                [new_seq, new_hash, seq, head_hash, at, *chain.from_iterable(rows)],
            ).rowcount
        except self._psycopg.IntegrityError:
            return False  # a record id stored already; the statement wrote nothing
        except self._psycopg.OperationalError:
            if not (conn.closed or conn.broken):
                raise
            # The statement commits by itself: look whether it did before trying again.
            if self._stored_hash(rows[0][0]) == rows[0][-1]:
                self._settled(ops)
                return True
            raise  # not written: the caller retries on a fresh connection
        if inserted != len(rows):
            return False  # another writer moved the head (or clocks disagree): nothing written
        self._known_head = (new_seq, new_hash, at)
        self._settled(ops)
        return True

    @staticmethod
    def _settled(ops: list[Op]) -> None:
        for op in ops:
            op.error = None

    def _stored_hash(self, record_id: str) -> str | None:
        """The hash stored for ``record_id``, read on a new connection; raises ``_InDoubt``
        when even that cannot be learned."""
        try:
            with contextlib.closing(self._connect()) as conn:
                row = conn.execute(
                    self._q("SELECT hash FROM {s}.audit_records WHERE record_id = %s"), (record_id,)
                ).fetchone()
        except (AuditError, self._psycopg.Error) as err:
            raise _InDoubt(str(err)) from err
        return None if row is None else str(row[0])

    def _fast_insert(self, n: int) -> str:
        sql = self._fast_sql.get(n)
        if sql is None:
            sql = self._fast_sql[n] = self._q(_FAST_APPEND).replace(
                "{values}", ",".join([_FAST_ROW] * n)
            )
        return sql

    def _write_locked(
        self, conn: psycopg.Connection[Any], ops: list[Op], *, look_up: bool | None = None
    ) -> None:
        """One append transaction in two round trips: BEGIN and the head lock (which also
        reads the server's clock and finds which of the batch's record ids are stored
        already), then the rows, the new head and COMMIT. Large batches go in with COPY, which
        cannot run in a pipeline, between the two; they skip the lookup (for thousands of ids
        it costs a quarter of the insert): the UNIQUE index finds a stored record id, and only
        then is the transaction redone with the lookup."""
        stream = ops[0].payload if len(ops) == 1 and ops[0].alone else None
        if not isinstance(stream, _common.RecordStream):
            stream = None
        elif look_up:
            ops[0].payload = stream.all()  # starting over: the whole append, looked up
            stream = None
        appends = [op for op in ops if op.kind == "append"]
        large = stream is not None or sum(len(op.payload) for op in appends) > _PIPELINE_ROWS
        if look_up is None:
            look_up = not large
        ids = [p.record_id for op in appends for p in op.payload] if look_up else []
        try:
            with conn.pipeline():
                conn.execute("BEGIN")
                head = conn.execute(self._q(_LOCK_HEAD_AND_FIND), (ids,)).fetchone()
        except BaseException:
            self._rollback(conn)
            raise
        try:
            seq, head_hash, server_now = _locked_head(head)
            now = iso(server_now)
            assert head is not None  # _locked_head raised otherwise
            existing: set[str] = set(head[3] or ())
            pending: list[PendingRecord] = []
            batch_ids: set[str] = set()
            for op in appends if stream is None else ():
                op.error = None  # a retried batch decides afresh
                own = {p.record_id for p in op.payload}
                clash = (own & existing) or (own & batch_ids)
                if clash:
                    op.error = AuditError(f"the query log already holds record {min(clash)}")
                    continue
                batch_ids |= own
                pending.extend(op.payload)
            # Queued items are stated in the chain in the same transaction, after the batch's
            # own records: a row never exists without its record, nor the other way round.
            queued = self._enqueue(conn, ops, now)
            new_seq, new_hash = seq, head_hash
            rows: list[tuple[Any, ...]] = []
            if large:
                # Chained a chunk at a time while COPY streams the previous one to the server
                # (and, for a streamed append, while the caller encodes the next one).
                chunks: Iterable[list[PendingRecord]] = (
                    stream.chunks()
                    if stream is not None
                    else (pending[i : i + _COPY_CHUNK] for i in range(0, len(pending), _COPY_CHUNK))
                )
                with conn.cursor() as cur, cur.copy(self._q(_COPY_RECORDS)) as copy:
                    for chunk in chunks:
                        for row in link(chunk, new_seq, new_hash, now):
                            copy.write_row(row)
                        new_seq, new_hash = row[-3], row[-1]
            elif pending:
                rows = link(pending, seq, head_hash, now)
                new_seq, new_hash = rows[-1][-3], rows[-1][-1]
            if queued:
                rows += link(queued, new_seq, new_hash, now)
                new_seq, new_hash = rows[-1][-3], rows[-1][-1]
        except self._psycopg.IntegrityError:
            self._rollback(conn)
            if look_up:
                raise
            self._write_locked(conn, ops, look_up=True)
            return
        except BaseException:
            self._rollback(conn)
            raise
        try:
            with conn.pipeline(), conn.cursor() as cur:
                if rows:
                    cur.executemany(self._q(_INSERT_RECORD), rows)
                if new_seq != seq:
                    cur.execute(self._q(_UPDATE_HEAD), (new_seq, new_hash))
                cur.execute("COMMIT")
        except BaseException as err:
            if conn.closed or conn.broken:
                # COMMIT went out with the rest: whether it arrived is unknown.
                raise _InDoubt(str(err)) from err
            self._rollback(conn)
            raise
        # This store wrote the head: the next append may take the one-round-trip path.
        self._known_head = (new_seq, new_hash, now)

    def _enqueue(
        self, conn: psycopg.Connection[Any], ops: list[Op], now: str
    ) -> list[PendingRecord]:
        """Insert the items of the outbox operations (inside the append transaction) and
        return the records that state the items added (one for the whole transaction); a key
        queued already adds nothing."""
        entries = []
        for items, chunk in _common.outbox_batches(ops, _OUTBOX_CHUNK):
            params = [
                v
                for i in chunk
                for v in (i.kind, i.idempotency_key, i.payload, i.subject,
                          i.subject_pseudonym, i.due_on, now, now)
            ]  # fmt: skip
            values = ",".join([_OUTBOX_ROW] * len(chunk))
            sql = self._q(_INSERT_OUTBOX).replace("{values}", values)
            for outbox_id, kind, key in conn.execute(sql.encode(), params).fetchall():
                if kind not in SELF_PROVING_KINDS:
                    entries.append(item_entry(int(outbox_id), items[(kind, key)], now))
        return enqueue_records(entries)

    def _chain_locked(
        self, conn: psycopg.Connection[Any], records: Sequence[PendingRecord], head: Any
    ) -> None:
        """Chain ``records`` after ``head`` (``seq, hash, server time``: locked by the caller)."""
        if not records:
            return
        seq, head_hash, at = _locked_head(head)
        rows = link(records, seq, head_hash, iso(at))
        with conn.cursor() as cur:
            cur.executemany(self._q(_INSERT_RECORD), rows)
        conn.execute(self._q(_UPDATE_HEAD), (rows[-1][-3], rows[-1][-1]))

    def _state_change(
        self, conn: psycopg.Connection[Any], state: str, changed: Sequence[Sequence[Any]], head: Any
    ) -> None:
        """Chain one record stating that ``changed`` (``id, kind`` rows) moved to ``state``."""
        ids = [int(r[0]) for r in changed if r[1] not in SELF_PROVING_KINDS]
        if ids:
            self._chain_locked(conn, [state_record(state, ids)], head)

    def _rollback(self, conn: psycopg.Connection[Any]) -> None:
        if not (conn.closed or conn.broken):
            with contextlib.suppress(self._psycopg.Error):
                conn.execute("ROLLBACK")

    # -- reading -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _snapshot(self, action: str) -> Iterator[psycopg.Connection[Any]]:
        """A read-only REPEATABLE READ transaction: one consistent snapshot for the reader."""
        if self._closed:
            raise AuditError("the query log is closed")
        try:
            with contextlib.ExitStack() as stack:
                for attempt in (1, 2):
                    conn = stack.enter_context(self._pool.connection(fresh=attempt == 2))
                    try:
                        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        break
                    except self._psycopg.OperationalError:
                        # A pooled connection that died meanwhile: try once with a new one.
                        if attempt == 2 or not (conn.closed or conn.broken):
                            raise
                try:
                    yield conn
                finally:
                    if not (conn.closed or conn.broken):
                        with contextlib.suppress(self._psycopg.Error):
                            conn.execute("ROLLBACK")
        except self._psycopg.Error as err:
            raise self._convert(err, action) from err

    def _rows(
        self, conn: psycopg.Connection[Any], where: str, params: Sequence[Any]
    ) -> Generator[StoredRow, None, None]:
        # A server-side cursor streams a large log instead of loading it into memory.
        with conn.cursor(name="credit_sdk_audit_rows") as cur:
            cur.itersize = 2000
            cur.execute(self._q(f"{_SELECT_ROWS} {where} ORDER BY seq"), params)
            for t in cur:
                yield _stored(t)

    def verify(
        self,
        checkpoints: Iterable[SignedCheckpoint] = (),
        *,
        public_key: bytes | None = None,
        expect: Iterable[tuple[int, str]] = (),
    ) -> VerifyResult:
        """Walk the whole chain and report the first broken link, or the count and head hash;
        against witnessed ``checkpoints`` and ``expect`` as :meth:`SQLiteQueryLog.verify`."""
        witnessed, key = _common.witness_args(self._checkpointer, checkpoints, public_key, expect)
        with self._snapshot("verify") as conn:
            return self._verify_on(conn, None, witnessed, key)

    def _verify_on(
        self,
        conn: psycopg.Connection[Any],
        through: int | None,
        witnessed: dict[int, tuple[str, str]] | None = None,
        public_key: bytes | None = None,
    ) -> VerifyResult:
        head_row, fault = head_problem(conn.execute(self._q(_SELECT_HEAD)).fetchall())
        checkpoints = [
            _stored(t)
            for t in conn.execute(self._q(f"{_SELECT_ROWS} WHERE kind = 'checkpoint' ORDER BY seq"))
        ]
        head = head_row if through is None else None
        fault = fault if through is None else None
        where, params = ("", ()) if through is None else ("WHERE seq <= %s", (through,))
        # Close the server-side cursor before the transaction ends, even when the walk stops
        # early at a broken link.
        ledger = OutboxLedger()
        with contextlib.closing(self._rows(conn, where, params)) as rows:
            result = verify_rows(
                ledger.watch(rows),
                checkpoints=checkpoints,
                head=head,
                head_fault=fault,
                witnessed=witnessed,
                public_key=public_key,
            )
        if through is not None:
            return result
        outbox = conn.execute(self._q(_SELECT_OUTBOX_STATED))
        return _common.reconciled(result, ledger, map(_outbox_row, outbox), public_key)

    def _write_checkpoint(self, policy: CheckpointPolicy) -> SignedCheckpoint | None:
        signer = policy.signer
        # The records since the previous checkpoint are checked on a snapshot first, without
        # the chain-head lock; under it only what was appended meanwhile.
        with self._snapshot("checkpoint") as conn:
            seq, digest = read_head(conn.execute(self._q(_SELECT_HEAD)).fetchall())
            known = None if self._checkpointer is None else self._checkpointer.last_signed
            checked = (
                self._check_unsigned(conn, signer, (seq, digest), None, known) if seq else None
            )

        def work(conn: psycopg.Connection[Any]) -> SignedCheckpoint | None:
            head_seq, head_hash, now = _locked_head(conn.execute(self._q(_LOCK_HEAD)).fetchone())
            newest = conn.execute(
                self._q("SELECT kind FROM {s}.audit_records WHERE seq = %s"), (head_seq,)
            ).fetchone()
            made = _common.next_checkpoint(signer, head_seq, head_hash, newest, now)
            if made is None:
                return None
            self._check_unsigned(conn, signer, (head_seq, head_hash), checked)
            row, cp = made
            conn.execute(self._q(_INSERT_RECORD), row)
            conn.execute(self._q(_UPDATE_HEAD), (row[-3], row[-1]))
            if policy.to_platform:
                i = _common.checkpoint_outbox_item(cp)
                stamp = iso(now)
                # A checkpoint item proves itself (its record is this checkpoint's): no
                # outbox record states it (see credit_sdk._audit._outbox_chain).
                conn.execute(
                    self._q(_INSERT_OUTBOX).replace("{values}", _OUTBOX_ROW),
                    (i.kind, i.idempotency_key, i.payload, i.subject, i.subject_pseudonym,
                     i.due_on, stamp, stamp),
                ).fetchall()  # fmt: skip
            return cp

        return self._side("checkpoint", work)

    def _unwitnessed_checkpoints(self, sinks: str) -> tuple[list[SignedCheckpoint], bool]:
        with self._snapshot("checkpoint sinks") as conn:
            mark = None
            table = f'"{self._schema}".checkpoint_sinks'
            found = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
            if found is not None and found[0] is not None:
                row = conn.execute(self._q(_SINKS_MARK), (sinks,)).fetchone()
                mark = None if row is None else int(row[0])
            if mark is None:
                bodies = conn.execute(self._q(_NEWEST_SIGNED)).fetchall()
            else:
                bodies = conn.execute(
                    self._q(_SIGNED_AFTER), (mark + 1, _common.OFFER_LIMIT)
                ).fetchall()
        return _common.readable_checkpoints(bodies), mark is not None

    def _mark_witnessed(self, sinks: str, seq: int) -> None:
        def work(conn: psycopg.Connection[Any]) -> None:
            conn.execute(self._q(_SINKS_TABLE))
            conn.execute(self._q(_SET_SINKS_MARK), (sinks, seq))

        self._side("checkpoint sinks", work)

    def _check_unsigned(
        self,
        conn: psycopg.Connection[Any],
        signer: CheckpointSigner,
        head: tuple[int, str],
        checked: tuple[int, str] | None,
        known: SignedCheckpoint | None = None,
    ) -> tuple[int, str]:
        """Refuse (``AuditIntegrityError``) if the records not yet under a signed checkpoint
        were changed (see :meth:`SQLiteQueryLog._check_unsigned`)."""
        prunes: list[StoredRow] = []
        key: bytes | None = signer.public_key
        if checked is not None:
            previous: Sequence[Any] | None = (checked[0], checked[1], "")
            key = None  # a signed checkpoint there was checked by the first pass
        else:
            previous = conn.execute(self._q(_PREVIOUS_SIGNED), (head[0],)).fetchone()
        where: str = ""
        params: tuple[Any, ...] = ()
        if previous is None:
            prunes = [
                _stored(t)
                for t in conn.execute(
                    self._q(f"{_SELECT_ROWS} WHERE kind = 'checkpoint' ORDER BY seq")
                )
            ]
        else:
            where, params = "WHERE seq >= %s", (previous[0],)
        with contextlib.closing(self._rows(conn, where, params)) as rows:
            return _common.refuse_unless_intact(
                rows, previous=previous, prunes=prunes, head=head, public_key=key, known=known
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
        organ, ``since <= requested_at < until``) and their completions."""
        filters = _common.ExportFilter.build(subject_pseudonym, organ, since, until)
        return self._export(filters, since, until)

    def _export(
        self, f: _common.ExportFilter, since: datetime | None, until: datetime | None
    ) -> Iterator[AuditRecord]:
        with self._snapshot("export") as conn:
            try:
                if f.empty:
                    rows = self._rows(conn, "", ())
                else:
                    where, params = ["kind = 'intent'"], []
                    for column, op, value in (
                        ("subject_pseudonym", "=", f.subject_pseudonym),
                        ("organ", "=", f.organ),
                        ("event_at", ">=", since),
                        ("event_at", "<", until),
                    ):
                        if value is not None:
                            where.append(f"{column} {op} %s")
                            params.append(value)
                    cond = " AND ".join(where)
                    rows = self._rows(
                        conn,
                        "WHERE record_id IN (SELECT 'intent:' || query_id FROM {s}.audit_records "  # noqa: S608
                        f"WHERE {cond} UNION ALL SELECT 'completion:' || query_id FROM "
                        f"{{s}}.audit_records WHERE {cond})",
                        params * 2,
                    )
                with contextlib.closing(rows):
                    for row in rows:
                        yield row.to_record()
            except self._psycopg.Error as err:
                raise self._convert(err, "export") from err

    def stats(self) -> AuditStats:
        """Counts by kind, outcome, organ and UTC day, queries without a completion, and the
        outbox (what ``credit-sdk audit stats`` prints)."""
        with self._snapshot("stats") as conn:
            head, fault = head_problem(conn.execute(self._q(_SELECT_HEAD)).fetchall())
            newest = conn.execute(
                self._q("SELECT seq, hash FROM {s}.audit_records ORDER BY seq DESC LIMIT 1")
            ).fetchone()
            kinds = {
                k: (int(n), lo, hi)
                for k, n, lo, hi in conn.execute(
                    self._q(
                        "SELECT kind, COUNT(*), MIN(recorded_at), MAX(recorded_at) "
                        "FROM {s}.audit_records GROUP BY kind"
                    )
                )
            }
            by_outcome = {k: int(n) for k, n in conn.execute(self._q(
                "SELECT outcome, COUNT(*) FROM {s}.audit_records WHERE kind = 'completion' "
                "GROUP BY outcome ORDER BY outcome"
            ))}  # fmt: skip
            by_organ = {k: int(n) for k, n in conn.execute(self._q(
                "SELECT organ, COUNT(*) FROM {s}.audit_records WHERE kind = 'intent' "
                "GROUP BY organ ORDER BY organ"
            ))}  # fmt: skip
            by_day = {k: int(n) for k, n in conn.execute(self._q(
                "SELECT to_char(event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, COUNT(*) "
                "FROM {s}.audit_records WHERE kind = 'intent' GROUP BY day ORDER BY day"
            ))}  # fmt: skip
            incomplete_row = conn.execute(self._q(
                "SELECT COUNT(*) FROM {s}.audit_records i WHERE i.kind = 'intent' AND NOT "
                "EXISTS (SELECT 1 FROM {s}.audit_records c "
                "WHERE c.record_id = 'completion:' || i.query_id)"
            )).fetchone()  # fmt: skip
            outbox = self._outbox_stats_on(conn)
            ledger = OutboxLedger()
            for t in conn.execute(self._q(_SELECT_OUTBOX_RECORDS)):
                ledger.note_body(t[0], t[1], int(t[2]), t[3])
            outbox_problem = _common.outbox_finding(
                ledger, map(_outbox_row, conn.execute(self._q(_SELECT_OUTBOX_STATED)))
            )
        assert incomplete_row is not None  # COUNT(*) always answers
        lows = [v[1] for v in kinds.values() if v[1] is not None]
        highs = [v[2] for v in kinds.values() if v[2] is not None]
        return AuditStats(
            records=sum(v[0] for v in kinds.values()),
            intents=kinds.get("intent", (0, None, None))[0],
            completions=kinds.get("completion", (0, None, None))[0],
            checkpoints=kinds.get("checkpoint", (0, None, None))[0],
            incomplete=int(incomplete_row[0]),
            **_common.head_fields(head, fault, newest),
            first_recorded_at=_utc(min(lows, default=None)),
            last_recorded_at=_utc(max(highs, default=None)),
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
        """Delete the records written before ``before`` and chain a checkpoint in their place
        (see :meth:`SQLiteQueryLog.prune`). Holds the chain-head lock while it works."""
        cutoff = _common.check_prune_before(before)

        def work(conn: psycopg.Connection[Any]) -> PruneResult:
            head = conn.execute(self._q(_LOCK_HEAD)).fetchone()
            head_seq, head_hash, now = _locked_head(head)
            bounds = conn.execute(
                self._q(
                    "SELECT (SELECT MIN(seq) FROM {s}.audit_records), "
                    "(SELECT MIN(seq) FROM {s}.audit_records WHERE recorded_at >= %s)"
                ),
                (cutoff,),
            ).fetchone()
            assert bounds is not None
            first, keep_from = bounds
            last = int(keep_from) - 1 if keep_from is not None else head_seq
            if first is None or last < int(first):
                return PruneResult(pruned=0)
            check = self._verify_on(conn, last + 1)
            if not check.ok:
                raise AuditIntegrityError(
                    f"refusing to prune a chain that does not verify: {check}"
                )
            ledger = OutboxLedger()
            for t in conn.execute(self._q(_SELECT_OUTBOX_RECORDS)):
                ledger.note_body(t[0], t[1], int(t[2]), t[3])
            outbox = [_outbox_row(t) for t in conn.execute(self._q(_SELECT_OUTBOX_STATED))]
            unreconciled = _common.outbox_unreconciled(ledger, outbox)
            if unreconciled is not None:
                raise unreconciled
            summary = conn.execute(
                self._q(
                    "SELECT (SELECT hash FROM {s}.audit_records WHERE seq = %s), MIN(recorded_at), "
                    "MAX(recorded_at), COUNT(*) FROM {s}.audit_records WHERE seq <= %s"
                ),
                (last, last),
            ).fetchone()
            assert summary is not None
            pruned_hash, oldest, newest, count = summary
            cp = checkpoint_record(
                first_pruned_seq=int(first),
                last_pruned_seq=last,
                pruned_head_hash=str(pruned_hash),
                before=iso(cutoff),
                oldest_recorded_at=iso(oldest),
                newest_recorded_at=iso(newest),
            )
            conn.execute(self._q("DELETE FROM {s}.audit_records WHERE seq <= %s"), (last,))
            # Items whose stating records go are restated after the checkpoint, as they are.
            adopted = adopt_records(ledger.pruned_with(outbox, last), "pruned")
            rows = link([cp, *adopted], head_seq, head_hash, iso(now))
            cp_seq, cp_hash = rows[0][-3], rows[0][-1]
            with conn.cursor() as cur:
                cur.executemany(self._q(_INSERT_RECORD), rows)
            conn.execute(self._q(_UPDATE_HEAD), (rows[-1][-3], rows[-1][-1]))
            return PruneResult(
                pruned=int(count),
                first_pruned_seq=int(first),
                last_pruned_seq=last,
                pruned_head_hash=str(pruned_hash),
                checkpoint_seq=cp_seq,
                checkpoint_hash=cp_hash,
            )

        return self._side("prune", work)

    # -- the outbox (Art. 22, 46, 52) -------------------------------------------------------

    def claim_outbox(
        self, limit: int, lease_seconds: float, *, kinds: Collection[str] | None = None
    ) -> list[ClaimedOutboxItem]:
        """Lease up to ``limit`` deliverable items of ``kinds`` (default all), oldest first
        (``FOR UPDATE SKIP LOCKED``: concurrent senders on other hosts skip them); each claim
        counts as an attempt."""
        _common.check_claim(limit, lease_seconds)
        wanted = _common.check_kinds(kinds)
        if wanted is not None and not wanted:
            return []

        def work(conn: psycopg.Connection[Any]) -> list[ClaimedOutboxItem]:
            expired = conn.execute(
                self._q(
                    "SELECT EXISTS (SELECT 1 FROM {s}.outbox WHERE state = 'pending' AND "
                    "lease_until IS NOT NULL AND lease_until <= now() AND attempts >= %s)"
                ),
                (self._max_attempts,),
            ).fetchone()
            if expired is not None and expired[0]:
                # Dead letters are stated in the chain: the head is locked first (as every
                # writer does), then the rows.
                head = conn.execute(self._q(_LOCK_HEAD)).fetchone()
                died = conn.execute(
                    self._q(
                        "UPDATE {s}.outbox SET state = 'dead', lease_until = NULL, "
                        "last_error = COALESCE(last_error, %s) WHERE id IN (SELECT id FROM "
                        "{s}.outbox WHERE state = 'pending' AND lease_until IS NOT NULL "
                        "AND lease_until <= now() AND attempts >= %s FOR UPDATE SKIP LOCKED) "
                        "RETURNING id, kind"
                    ),
                    (_common.LEASE_EXPIRED, self._max_attempts),
                ).fetchall()
                self._state_change(conn, "dead", died, head)
            rows = conn.execute(
                self._q(
                    "WITH c AS (SELECT id FROM {s}.outbox WHERE state = 'pending' "
                    "AND available_at <= now() AND (lease_until IS NULL OR lease_until <= now()) "
                    "AND attempts < %s AND (%s::text[] IS NULL OR kind = ANY(%s::text[])) "
                    "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) "
                    "UPDATE {s}.outbox o SET attempts = o.attempts + 1, "
                    "lease_until = now() + make_interval(secs => %s) FROM c WHERE o.id = c.id "
                    "RETURNING o.id, o.kind, o.idempotency_key, o.payload, o.subject, "
                    "o.subject_pseudonym, o.due_on, o.attempts, o.enqueued_at, o.lease_until"
                ),
                (self._max_attempts, wanted, wanted, limit, float(lease_seconds)),
            ).fetchall()
            return [
                ClaimedOutboxItem(
                    outbox_id=int(r[0]),
                    item=_outbox_item(r),
                    attempt=int(r[7]),
                    lease_expires_at=r[9].astimezone(UTC),
                    enqueued_at=r[8].astimezone(UTC),
                )
                for r in sorted(rows, key=lambda r: int(r[0]))
            ]

        return self._side("claim outbox", work)

    def mark_delivered(self, ids: Sequence[int]) -> None:
        """Record that the platform accepted these items (by ``outbox_id``); the subject's
        identifier an item carried for the platform is erased from the outbox."""
        wanted = _common.check_ids(ids)
        if not wanted:
            return

        def work(conn: psycopg.Connection[Any]) -> None:
            head = conn.execute(self._q(_LOCK_HEAD)).fetchone()
            done = conn.execute(
                self._q(
                    "UPDATE {s}.outbox SET state = 'delivered', delivered_at = now(), "
                    "subject = NULL, lease_until = NULL "
                    "WHERE id = ANY(%s) AND state = 'pending' RETURNING id, kind"
                ),
                (wanted,),
            ).fetchall()
            self._state_change(conn, "delivered", done, head)

        self._side("mark delivered", work)

    def mark_failed(
        self,
        ids: Sequence[int],
        error: str,
        *,
        retry_after: float = 0.0,
        attempt: bool = True,
        dead: bool = False,
    ) -> None:
        """Record a failed delivery; retried after ``retry_after`` seconds, or a dead letter
        once it has used ``max_attempts``.

        ``attempt=False``: the platform did not answer about the items (unavailable, timeout,
        connection failure): the claim's attempt is given back, the lease released, and the
        items stay pending whatever their count. ``dead=True``: they become dead letters now
        (the sender's dead-letter age)."""
        wanted = _common.check_ids(ids)
        if not wanted:
            return
        message = _common.clean_error(error)

        def work(conn: psycopg.Connection[Any]) -> None:
            # Only a failure that may make dead letters is stated (and locks the head first).
            head = conn.execute(self._q(_LOCK_HEAD)).fetchone() if dead or attempt else None
            changed = conn.execute(
                self._q(
                    "UPDATE {s}.outbox SET last_error = %s, lease_until = NULL, "
                    "available_at = now() + make_interval(secs => %s), "
                    "attempts = CASE WHEN %s THEN attempts ELSE greatest(attempts - 1, 0) "
                    "END, state = CASE WHEN %s OR (%s AND attempts >= %s) THEN 'dead' "
                    "ELSE 'pending' END "
                    "WHERE id = ANY(%s) AND state = 'pending' RETURNING id, kind, state"
                ),
                (
                    message,
                    max(float(retry_after), 0.0),
                    bool(attempt),
                    bool(dead),
                    bool(attempt),
                    self._max_attempts,
                    wanted,
                ),
            ).fetchall()
            died = [r[:2] for r in changed if r[2] == "dead"]
            if died:
                self._state_change(conn, "dead", died, head)

        self._side("mark failed", work)

    # -- the report archive (see credit_sdk._audit._archive) ------------------------------------

    def archive_reports(self, reports: Sequence[ArchivedReport]) -> None:
        """Durably store encrypted reports (one transaction); see :meth:`SQLiteQueryLog.
        archive_reports`."""
        rows = _common.check_archived(reports)
        if not rows:
            return

        def work(conn: psycopg.Connection[Any]) -> None:
            conn.execute(self._q(_ARCHIVE_TABLE))
            with conn.cursor() as cur:
                cur.executemany(
                    self._q(
                        "INSERT INTO {s}.report_archive (query_id, report_sha256, key_id, "
                        "stored_at, blob) VALUES (%s,%s,%s,clock_timestamp(),%s) "
                        "ON CONFLICT (query_id) DO NOTHING"
                    ),
                    [(r.query_id, r.report_sha256, r.key_id, r.blob) for r in rows],
                )

        self._side("archive reports", work)

    def archived_report(self, query_id: str) -> ArchivedReport | None:
        """The encrypted report archived for ``query_id``, if any."""
        with self._snapshot("read archive") as conn:
            exists = conn.execute(
                "SELECT to_regclass(%s)", (f'"{self._schema}".report_archive',)
            ).fetchone()
            if exists is None or exists[0] is None:
                return None
            row = conn.execute(
                self._q(
                    "SELECT query_id, report_sha256, key_id, blob FROM {s}.report_archive "
                    "WHERE query_id = %s"
                ),
                (query_id,),
            ).fetchone()
        return None if row is None else ArchivedReport(row[0], row[1], row[2], bytes(row[3]))

    def prune_archive(self, before: datetime) -> int:
        """Delete reports archived before ``before``; returns how many."""
        cutoff = _common.check_prune_before(before)

        def work(conn: psycopg.Connection[Any]) -> int:
            conn.execute(self._q(_ARCHIVE_TABLE))
            return int(
                conn.execute(
                    self._q("DELETE FROM {s}.report_archive WHERE stored_at < %s"), (cutoff,)
                ).rowcount
            )

        return self._side("prune archive", work)

    def requeue_dead_letters(self, ids: Sequence[int] | None = None) -> int:
        """Move dead letters (all, or those of ``ids``) back to pending with their attempts
        reset and any lease cleared, deliverable at once; ids that are not dead letters are
        ignored. Returns how many were requeued."""
        wanted = None if ids is None else _common.check_ids(ids)
        if wanted is not None and not wanted:
            return 0
        update = (
            "UPDATE {s}.outbox SET state = 'pending', attempts = 0, lease_until = NULL, "
            "available_at = now() WHERE state = 'dead'"
        )

        def work(conn: psycopg.Connection[Any]) -> int:
            head = conn.execute(self._q(_LOCK_HEAD)).fetchone()
            moved = (
                conn.execute(self._q(update + " RETURNING id, kind")).fetchall()
                if wanted is None
                else conn.execute(
                    self._q(update + " AND id = ANY(%s) RETURNING id, kind"), (wanted,)
                ).fetchall()
            )
            self._state_change(conn, "pending", moved, head)
            return len(moved)

        return self._side("requeue dead letters", work)

    def outbox_stats(self) -> OutboxStats:
        """Backlog, in-flight, delivered, dead-letter and overdue counts, also per kind."""
        with self._snapshot("outbox stats") as conn:
            return self._outbox_stats_on(conn)

    def _outbox_stats_on(self, conn: psycopg.Connection[Any]) -> OutboxStats:
        return _common.outbox_stats(
            (kind, state, n, leased, _utc(oldest), overdue)
            for kind, state, n, leased, oldest, overdue in conn.execute(
                self._q(
                    "SELECT kind, state, COUNT(*), COUNT(*) FILTER (WHERE lease_until > now()), "
                    "MIN(enqueued_at), COUNT(*) FILTER (WHERE due_on < %s) "
                    "FROM {s}.outbox GROUP BY kind, state"
                ),
                (_common.today(),),
            )
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Commit whatever is queued, write a last checkpoint (with a checkpoint policy), stop
        the writer, close the connections. Idempotent."""
        if self._closed:
            return
        self._stop_checkpoints()
        if self._writer is not None:
            self._writer.close()
        self._closed = True
        self._drop_writer_connection(AuditError("closed"))
        self._pool.close()
