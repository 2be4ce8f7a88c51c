"""The outbox carries several kinds of items (Art. 22 pushes, Art. 46 feedback, Art. 52
corrections), each delivered once under its own key; logs of schema 1 migrate."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import InvalidQuery, OutboxItem, SQLiteQueryLog
from credit_sdk._audit import _common
from credit_sdk._audit._types import canonical_json

from .conftest import Raw, StoreSpec, make_feedback, pseudonym, resident_id, uscc


def push(n: int, *, kind: str = "push", due_on: date | None = None, key: str = "") -> OutboxItem:
    raw = uscc(n)
    return OutboxItem(
        kind=kind,
        idempotency_key=key or f"push-key-{n}",
        payload=canonical_json({"category": "admin_penalty", "document": f"哈市监罚〔2026〕{n}号"}),
        subject=raw,
        subject_pseudonym=pseudonym(raw, "uscc"),
        due_on=due_on,
    )


def test_kinds_are_claimed_apart_and_counted_apart(store: Any) -> None:
    store.enqueue_feedback([make_feedback(1), make_feedback(2)])
    store.enqueue_outbox([push(1), push(2, kind="correction")])
    stats = store.outbox_stats()
    assert stats.pending == 4
    assert {k: s.pending for k, s in stats.by_kind.items()} == {
        "correction": 1,
        "feedback": 2,
        "push": 1,
    }
    # The feedback-only claim never hands out another kind's item.
    assert len(store.claim_feedback(10, 30)) == 2
    (only,) = store.claim_outbox(10, 30, kinds=["push"])
    assert only.item == push(1)
    (rest,) = store.claim_outbox(10, 30)
    assert rest.item.kind == "correction"
    store.mark_delivered([only.outbox_id])
    stats = store.outbox_stats()
    assert stats.by_kind["push"].delivered == 1
    assert stats.by_kind["feedback"].in_flight == 2
    assert stats.delivered == 1
    assert stats.in_flight == 3


def test_a_key_is_unique_within_its_kind_only(store: Any) -> None:
    store.enqueue_outbox([push(1, key="k-1"), push(1, key="k-1"), push(1, key="k-1")])
    store.enqueue_outbox([push(1, kind="correction", key="k-1")])
    assert store.outbox_stats().pending == 2
    claims = store.claim_outbox(10, 30)
    store.mark_delivered([c.outbox_id for c in claims])
    store.enqueue_outbox([push(1, key="k-1")])  # replayed after delivery: not queued again
    assert store.claim_outbox(10, 30) == []


def test_empty_kinds_claims_nothing(store: Any) -> None:
    store.enqueue_outbox([push(1)])
    assert store.claim_outbox(10, 30, kinds=[]) == []
    with pytest.raises(TypeError):
        store.claim_outbox(10, 30, kinds="push")


def test_overdue_items_are_counted_while_pending(store: Any) -> None:
    today = _common.today()
    store.enqueue_outbox(
        [
            push(1, due_on=today - timedelta(days=1)),  # late
            push(2, due_on=today),  # due today: not late yet
            push(3),  # no due date
        ]
    )
    stats = store.outbox_stats()
    assert stats.overdue == 1
    assert stats.by_kind["push"].overdue == 1
    claims = store.claim_outbox(10, 30)
    store.mark_delivered([c.outbox_id for c in claims])
    assert store.outbox_stats().overdue == 0  # delivered late is no longer pending


def test_dead_letters_of_any_kind_are_requeued(spec: StoreSpec) -> None:
    store = spec.open(max_attempts=1)
    store.enqueue_outbox([push(1)])
    (claim,) = store.claim_outbox(1, 30)
    store.mark_failed([claim.outbox_id], "refused")
    assert store.outbox_stats().by_kind["push"].dead == 1
    assert store.requeue_dead_letters() == 1
    (again,) = store.claim_outbox(1, 30)
    assert again.item == push(1)  # the identifier is still there for the platform


def test_payload_may_not_hold_a_raw_identifier() -> None:
    with pytest.raises(InvalidQuery) as err:
        OutboxItem(
            kind="push",
            idempotency_key="k",
            payload=json.dumps({"subject": resident_id(3)}),
        )
    assert err.value.rule == "raw_identifier"
    assert resident_id(3) not in str(err.value)
    for bad in ("[1]", "not json", ""):
        with pytest.raises(InvalidQuery):
            OutboxItem(kind="push", idempotency_key="k", payload=bad)
    with pytest.raises(InvalidQuery):
        OutboxItem(kind="Push!", idempotency_key="k", payload="{}")


def test_subject_never_shows_in_a_repr() -> None:
    item = push(5)
    assert uscc(5) not in repr(item)
    assert item.subject == uscc(5)


@pytest.mark.durable_only
def test_identifier_is_erased_once_delivered(store: Any, raw: Raw) -> None:
    store.enqueue_outbox([push(1), push(2)])
    claims = store.claim_outbox(10, 30)
    store.mark_delivered([claims[0].outbox_id])
    store.mark_failed([claims[1].outbox_id], "platform answered 500")
    rows = dict(raw.sql("SELECT idempotency_key, subject FROM {s}.outbox"))
    assert rows == {"push-key-1": None, "push-key-2": uscc(2)}  # pending ones keep it
    pseudonyms = {r[0] for r in raw.sql("SELECT subject_pseudonym FROM {s}.outbox")}
    assert pseudonyms == {pseudonym(uscc(1), "uscc"), pseudonym(uscc(2), "uscc")}


@pytest.mark.durable_only
def test_outbox_of_every_kind_survives_reopening(spec: StoreSpec) -> None:
    first = spec.open()
    first.enqueue_outbox([push(1, due_on=date(2027, 1, 8))])
    first.enqueue_feedback([make_feedback(1)])
    first.close()
    second = spec.open()
    claims = second.claim_outbox(10, 30)
    assert [c.item.kind for c in claims] == ["push", "feedback"]
    assert claims[0].item == push(1, due_on=date(2027, 1, 8))


# -- schema 1 logs migrate -------------------------------------------------------------------

# The outbox table of schema version 1, as logs written before kinds existed hold it.
V1_FEEDBACK_OUTBOX = """
CREATE TABLE {s}feedback_outbox (
    id {serial},
    idempotency_key TEXT NOT NULL UNIQUE,
    query_id TEXT NOT NULL,
    measure_id TEXT NOT NULL,
    applied {boolean} NOT NULL,
    reason TEXT,
    case_id TEXT NOT NULL,
    implementing_department TEXT NOT NULL,
    occurred_at {time} NOT NULL,
    amount TEXT,
    enqueued_at {time} NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at {time} NOT NULL,
    lease_until {time},
    last_error TEXT,
    delivered_at {time}
)"""

V1_ROWS = [
    # id, key, query, measure, applied, reason, case, department, occurred, amount,
    # enqueued, state, attempts, available, lease, error, delivered
    (3, "k3", "q000003", "N-41-3", 1, None, "2026-0003", "230100-SCJGJ",
     "2026-11-02T01:00:00.000000Z", "12.50", "2026-11-02T01:00:01.000000Z", "pending", 2,
     "2026-11-02T01:00:01.000000Z", None, "platform answered 503", None),
    (7, "k7", "q000007", "N-41-3", 0, "licence refused on other grounds", "2026-0007",
     "230100-SCJGJ", "2026-11-02T02:00:00.000000Z", None, "2026-11-02T02:00:01.000000Z",
     "dead", 10, "2026-11-02T02:00:01.000000Z", None, "platform refused", None),
    (9, "k9", "q000009", "N-41-3", 1, None, "2026-0009", "230100-SCJGJ",
     "2026-11-02T03:00:00.000000Z", None, "2026-11-02T03:00:01.000000Z", "delivered", 1,
     "2026-11-02T03:00:01.000000Z", None, None, "2026-11-02T03:00:02.000000Z"),
]  # fmt: skip


def _make_v1_sqlite(path: Path) -> None:
    SQLiteQueryLog(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("DROP TABLE outbox")
        conn.execute(
            V1_FEEDBACK_OUTBOX.format(
                s="", serial="INTEGER PRIMARY KEY AUTOINCREMENT", boolean="INTEGER", time="TEXT"
            )
        )
        conn.executemany(f"INSERT INTO feedback_outbox VALUES ({','.join('?' * 17)})", V1_ROWS)
        conn.execute("PRAGMA user_version = 1")
    finally:
        conn.close()


def _make_v1_postgres(spec: StoreSpec) -> None:
    import psycopg

    spec.open().close()
    with psycopg.connect(spec.target, autocommit=True) as conn:
        s = f'"{spec.schema}".'
        conn.execute(f"DROP TABLE {s}outbox")
        conn.execute(
            V1_FEEDBACK_OUTBOX.format(
                s=s, serial="bigserial PRIMARY KEY", boolean="boolean", time="timestamptz"
            )
        )
        for row in V1_ROWS:
            values = list(row)
            values[4] = bool(values[4])
            conn.execute(f"INSERT INTO {s}feedback_outbox VALUES ({','.join(['%s'] * 17)})", values)
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{s}feedback_outbox', 'id'), 9)")
        conn.execute(f"UPDATE {s}audit_meta SET value = '1' WHERE key = 'schema_version'")


@pytest.mark.durable_only
def test_a_schema_1_outbox_migrates_as_feedback(spec: StoreSpec, raw: Raw) -> None:
    if spec.kind == "sqlite":
        _make_v1_sqlite(Path(spec.target))
    else:
        _make_v1_postgres(spec)
    store = spec.open()
    stats = store.outbox_stats()
    assert set(stats.by_kind) == {"feedback"}
    assert (stats.pending, stats.dead, stats.delivered) == (1, 1, 1)
    (claim,) = store.claim_feedback(10, 30)
    assert claim.outbox_id == 3
    assert claim.attempt == 3
    assert claim.item.idempotency_key == "k3"
    assert str(claim.item.amount) == "12.50"
    assert claim.item.query_id == "q000003"
    assert claim.item.applied is True
    # The dead letter comes back with its reason intact.
    assert store.requeue_dead_letters([7]) == 1
    (dead,) = store.claim_feedback(10, 30)
    assert dead.item.reason == "licence refused on other grounds"
    # New items never reuse a migrated id.
    store.enqueue_outbox([push(1)])
    (new,) = store.claim_outbox(10, 30)
    assert new.outbox_id > 9
    if spec.kind == "sqlite":
        assert raw.sql("PRAGMA user_version") == [(2,)]
    else:
        assert raw.sql("SELECT value FROM {s}.audit_meta WHERE key = 'schema_version'") == [("2",)]
    tables = (
        raw.sql("SELECT name FROM sqlite_master WHERE name = 'feedback_outbox'")
        if spec.kind == "sqlite"
        else raw.sql("SELECT to_regclass(%s)", (f'"{spec.schema}".feedback_outbox',))
    )
    assert tables in ([], [(None,)])
    # The migrated rows were adopted into the chain when the log was opened: what happens to
    # them from then on is proven, and the log verifies.
    assert [json.loads(r.body)["reason"] for r in store.export() if r.kind == "outbox_adopted"] == [
        "opened"
    ]
    assert store.verify().ok
