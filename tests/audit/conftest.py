"""Fixtures for the query-log suite: one suite, run against every store.

``store`` is parametrised over the in-memory, SQLite and PostgreSQL stores; PostgreSQL runs
against a real server that :mod:`tests._pg` starts on loopback for the session (or the one
named by ``CREDIT_SDK_TEST_PG_URL``). Without server binaries the PostgreSQL cases are skipped
locally, but under ``CI=true`` they fail: CI must never go green by skipping them.

``raw`` edits the underlying storage behind the store's back, the way an attacker with write
access to the database would (raw sqlite3 for SQLite, SQL for PostgreSQL).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import (
    FeedbackItem,
    MemoryQueryLog,
    PostgresQueryLog,
    QueryCompletion,
    QueryIntent,
    SQLiteQueryLog,
)
from credit_sdk._audit._chain import StoredRow
from credit_sdk._identifiers import compute_resident_check, compute_uscc_check
from tests._pg import ENV_URL, ExternalPg, PgCluster, PgUnavailable, start_cluster

KEY = b"test-pseudonym-key-0123456789abcdef"

STORE_KINDS = [
    "memory",
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
]
DURABLE_KINDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
]


# -- subjects ----------------------------------------------------------------------------------


def resident_id(serial: int) -> str:
    """A valid 18-character resident ID number (Harbin, born 1990-01-01)."""
    body = f"23010219900101{serial % 1000:03d}"
    return body + compute_resident_check(body)


def uscc(serial: int) -> str:
    body = f"9123010{serial % 10**10:010d}"
    return body + compute_uscc_check(body)


def pseudonym(raw: str, kind: str = "resident_id") -> str:
    return hmac.new(KEY, f"{kind}:{raw}".encode(), hashlib.sha256).hexdigest()


def masked(raw: str) -> str:
    return raw[:4] + "*" * (len(raw) - 8) + raw[-4:]


def make_intent(
    n: int = 0,
    *,
    raw_id: str | None = None,
    organ: str = "230100-SCJGJ",
    requested_at: datetime | None = None,
    query_id: str | None = None,
) -> QueryIntent:
    raw = raw_id or resident_id(n)
    return QueryIntent(
        query_id=query_id or f"q{n:06d}-{uuid.uuid4().hex[:8]}",
        requested_at=requested_at or datetime.now(UTC),
        organ=organ,
        operator="u1024",
        matter_code="LIC-FOOD-01",
        purpose=f"food business licence application 2026-{n:03d}",
        scenario="admin_licensing",
        subject_pseudonym=pseudonym(raw),
        subject_display=masked(raw),
        subject_kind="resident_id",
        authorization_id=None,
        trace_id=uuid.uuid4().hex,
    )


def make_completion(intent: QueryIntent, outcome: str = "CLEAR") -> QueryCompletion:
    return QueryCompletion(
        query_id=intent.query_id,
        completed_at=datetime.now(UTC),
        outcome=outcome,
        policy_profile="hlj-draft-2024",
        applied_measure_ids=("N-41-3",) if outcome == "RESTRICTED" else (),
        report_id="rpt-" + intent.query_id,
        lists=(("national-basic", "2026.1", "a" * 64),),
        trace_id=intent.trace_id,
        flags=(),
    )


def make_feedback(n: int, *, applied: bool = True, case_id: str | None = None) -> FeedbackItem:
    return FeedbackItem(
        query_id=f"q{n:06d}",
        measure_id="N-41-3",
        applied=applied,
        reason=None if applied else "licence refused on other grounds",
        case_id=case_id or f"2026-{n:04d}",
        implementing_department="230100-SCJGJ",
        occurred_at=datetime.now(UTC) - timedelta(minutes=1),
    )


# -- PostgreSQL --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgCluster | ExternalPg]:
    url = os.environ.get(ENV_URL)
    if url:
        yield ExternalPg(url)
        return
    try:
        cluster = start_cluster(fsync=False)  # the server's own crash safety is not under test
    except PgUnavailable as err:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but PostgreSQL is unavailable: {err}")
        pytest.skip(f"PostgreSQL unavailable: {err}")
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def pg_schema(pg_server: PgCluster | ExternalPg) -> Iterator[str]:
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    try:
        with psycopg.connect(pg_server.url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    except psycopg.OperationalError:
        pass  # a fault test left the server down; the cluster is thrown away anyway


# -- stores ------------------------------------------------------------------------------------


@dataclasses.dataclass
class StoreSpec:
    """How to open (and reopen) the store under test."""

    kind: str
    target: str  # file path or URL ('' for memory)
    schema: str | None = None
    pg: Any = None
    _memory: MemoryQueryLog | None = None
    opened: list[Any] = dataclasses.field(default_factory=list)

    @property
    def db_arg(self) -> str:
        """What the CLI's --db takes."""
        if self.kind == "postgres":
            return f"{self.target}?schema={self.schema}"
        return self.target

    def open(self, **options: Any) -> Any:
        if self.kind == "memory":
            if self._memory is None:
                self._memory = MemoryQueryLog(**options)
            return self._memory
        if self.kind == "sqlite":
            log: Any = SQLiteQueryLog(self.target, **options)
        else:
            log = PostgresQueryLog(self.target, schema=self.schema or "credit_sdk", **options)
        self.opened.append(log)
        return log

    def close_all(self) -> None:
        for log in self.opened:
            log.close()


@pytest.fixture
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreSpec]:
    kind = request.param
    if kind == "memory":
        s = StoreSpec("memory", "")
    elif kind == "sqlite":
        s = StoreSpec("sqlite", str(tmp_path / "audit.db"))
    else:
        server = request.getfixturevalue("pg_server")
        schema = request.getfixturevalue("pg_schema")
        s = StoreSpec("postgres", server.url, schema=schema, pg=server)
    yield s
    s.close_all()


@pytest.fixture
def store(spec: StoreSpec) -> Any:
    return spec.open()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Tests that take `spec` run against every store unless they ask for durable ones only.
    explicit = any(
        "spec" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize")
    )
    if "spec" in metafunc.fixturenames and not explicit:
        marker = metafunc.definition.get_closest_marker("durable_only")
        kinds = DURABLE_KINDS if marker else STORE_KINDS
        metafunc.parametrize("spec", kinds, indirect=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "durable_only: run only against the SQLite and PostgreSQL stores"
    )


# -- tampering ---------------------------------------------------------------------------------


class Raw:
    """Edits the stored chain directly, bypassing the store."""

    def __init__(self, spec: StoreSpec, store: Any) -> None:
        self.spec = spec
        self.store = store

    # PostgreSQL
    def _pg(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.spec.target, autocommit=True) as conn:
            cur = conn.execute(sql.replace("{s}", f'"{self.spec.schema}"'), params)
            return cur.fetchall() if cur.description else []

    def _sqlite(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.spec.target, isolation_level=None)
        try:
            return conn.execute(sql.replace("{s}.", ""), params).fetchall()
        finally:
            conn.close()

    def sql(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.spec.kind == "sqlite":
            return self._sqlite(sql.replace("%s", "?"), params)
        return self._pg(sql, params)

    def rows(self) -> list[StoredRow]:
        if self.spec.kind == "memory":
            return sorted(self.store._rows, key=lambda r: r.seq)
        from credit_sdk._audit import postgres as pgmod

        out = self.sql(
            "SELECT seq, record_id, kind, query_id, recorded_at, event_at, organ, "
            "subject_pseudonym, outcome, body, prev_hash, hash FROM {s}.audit_records ORDER BY seq"
        )
        if self.spec.kind == "postgres":
            return [pgmod._stored(t) for t in out]
        return [StoredRow(*t) for t in out]

    def update(self, seq: int, column: str, value: Any) -> None:
        if self.spec.kind == "memory":
            self.store._rows = [
                dataclasses.replace(r, **{column: value}) if r.seq == seq else r
                for r in self.store._rows
            ]
            return
        self.sql(f"UPDATE {{s}}.audit_records SET {column} = %s WHERE seq = %s", (value, seq))

    def delete(self, seq: int) -> None:
        if self.spec.kind == "memory":
            self.store._rows = [r for r in self.store._rows if r.seq != seq]
            return
        self.sql("DELETE FROM {s}.audit_records WHERE seq = %s", (seq,))

    def renumber(self, from_seq: int, delta: int) -> None:
        """Shift every record at or after ``from_seq`` by ``delta`` positions."""
        if self.spec.kind == "memory":
            self.store._rows = [
                dataclasses.replace(r, seq=r.seq + delta) if r.seq >= from_seq else r
                for r in self.store._rows
            ]
            return
        # Two steps to avoid primary-key collisions while shifting.
        self.sql(
            "UPDATE {s}.audit_records SET seq = -(seq + %s) WHERE seq >= %s", (delta, from_seq)
        )
        self.sql("UPDATE {s}.audit_records SET seq = -seq WHERE seq < 0")

    def insert(self, row: StoredRow) -> None:
        if self.spec.kind == "memory":
            self.store._rows = [*self.store._rows, row]
            return
        values = dataclasses.astuple(row)
        self.sql(
            "INSERT INTO {s}.audit_records (seq, record_id, kind, query_id, recorded_at, event_at, "
            "organ, subject_pseudonym, outcome, body, prev_hash, hash) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            values,
        )

    def swap(self, a: int, b: int) -> None:
        if self.spec.kind == "memory":
            self.store._rows = [
                dataclasses.replace(r, seq=b if r.seq == a else a) if r.seq in (a, b) else r
                for r in self.store._rows
            ]
            return
        self.sql("UPDATE {s}.audit_records SET seq = -1 WHERE seq = %s", (a,))
        self.sql("UPDATE {s}.audit_records SET seq = %s WHERE seq = %s", (a, b))
        self.sql("UPDATE {s}.audit_records SET seq = %s WHERE seq = -1", (b,))


@pytest.fixture
def raw(spec: StoreSpec, store: Any) -> Raw:
    return Raw(spec, store)


Builder = Callable[..., QueryIntent]
