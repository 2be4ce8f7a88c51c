"""The QueryLog protocol, run against every store (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from credit_sdk import (
    AuditError,
    AuditIntegrityError,
    ConfigurationError,
    QueryLog,
    open_query_log,
)
from credit_sdk._audit._chain import GENESIS_HASH, record_hash

from .conftest import StoreSpec, make_completion, make_intent, pseudonym, resident_id


def test_store_satisfies_the_protocol(store: Any) -> None:
    assert isinstance(store, QueryLog)


def test_empty_log_verifies(store: Any) -> None:
    result = store.verify()
    assert result.ok
    assert (result.count, result.head_seq, result.head_hash) == (0, 0, GENESIS_HASH)


def test_intent_and_completion_are_chained_records(store: Any) -> None:
    intent = make_intent(1)
    store.record_intent(intent)
    store.record_completion(make_completion(intent, "RESTRICTED"))
    records = list(store.export())
    assert [r.kind for r in records] == ["intent", "completion"]
    assert [r.seq for r in records] == [1, 2]
    assert records[0].prev_hash == GENESIS_HASH
    assert records[1].prev_hash == records[0].hash
    assert records[0].intent() == intent
    completion = records[1].completion()
    assert completion is not None
    assert completion.applied_measure_ids == ("N-41-3",)
    result = store.verify()
    assert result.ok
    assert result.count == 2
    assert result.head_hash == records[1].hash


def test_hash_is_recomputable_from_an_export(store: Any) -> None:
    # An auditor can re-check each hash offline from the exported fields alone.
    store.append([make_intent(i) for i in range(3)])
    for r in store.export():
        d = r.to_dict()
        assert r.hash == record_hash(
            seq=d["seq"], kind=d["kind"], record_id=d["record_id"], prev_hash=d["prev_hash"],
            recorded_at=d["recorded_at"], body=r.body,
        )  # fmt: skip


def test_append_is_atomic_and_ordered(store: Any) -> None:
    intents = [make_intent(i) for i in range(50)]
    store.append(intents)
    assert [r.query_id for r in store.export()] == [i.query_id for i in intents]
    assert store.verify().count == 50


def test_duplicate_record_is_refused_and_nothing_else_is_lost(store: Any) -> None:
    intent = make_intent(1)
    store.record_intent(intent)
    with pytest.raises(AuditError, match="already holds"):
        store.record_intent(intent)
    with pytest.raises(AuditError, match="twice"):
        store.append([make_intent(2, query_id="dup"), make_intent(3, query_id="dup")])
    # An append containing a duplicate writes none of its records.
    fresh = make_intent(4)
    with pytest.raises(AuditError):
        store.append([fresh, intent])
    assert [r.query_id for r in store.export()] == [intent.query_id]
    store.record_intent(fresh)
    assert store.verify().count == 2


def test_a_large_append_holding_a_stored_record_is_refused_alone(store: Any) -> None:
    """Large batches are inserted without looking their ids up first (COPY on PostgreSQL,
    multi-row INSERTs on SQLite); a stored id must still refuse that append, and only it,
    also when another caller's records share the transaction."""
    stored = [make_intent(i) for i in range(300)]
    store.append(stored)
    clash = [make_intent(1000 + i) for i in range(299)] + [stored[150]]
    clean = [make_intent(2000 + i) for i in range(300)]
    outcomes: dict[str, BaseException | None] = {}

    def write(name: str, records: list[Any]) -> None:
        try:
            store.append(records)
            outcomes[name] = None
        except BaseException as err:
            outcomes[name] = err

    threads = [
        threading.Thread(target=write, args=("clash", clash)),
        threading.Thread(target=write, args=("clean", clean)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert isinstance(outcomes["clash"], AuditError)
    assert "already holds" in str(outcomes["clash"])
    assert outcomes["clean"] is None
    result = store.verify()
    assert result.ok, result
    assert result.count == 600
    written = {r.query_id for r in store.export()}
    assert not written & {i.query_id for i in clash[:299]}


def test_concurrent_writers_keep_one_linear_chain(store: Any) -> None:
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            for i in range(40):
                intent = make_intent(t * 1000 + i)
                store.record_intent(intent)
                store.record_completion(make_completion(intent))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = store.verify()
    assert result.ok, result
    assert result.count == 8 * 40 * 2
    stats = store.stats()
    assert (stats.intents, stats.completions, stats.incomplete) == (320, 320, 0)
    # Every completion comes after its own intent.
    position = {}
    for r in store.export():
        position[(r.kind, r.query_id)] = r.seq
    assert all(
        position[("intent", q)] < seq for (k, q), seq in position.items() if k == "completion"
    )


def test_export_filters_by_subject_organ_and_time(store: Any) -> None:
    base = datetime(2026, 3, 1, tzinfo=UTC)
    alice, bob = resident_id(1), resident_id(2)
    plan = [
        (alice, "230100-SCJGJ", base),
        (bob, "230100-SCJGJ", base + timedelta(days=1)),
        (alice, "230100-FGW", base + timedelta(days=2)),
        (alice, "230100-SCJGJ", base + timedelta(days=3)),
    ]
    intents = []
    for n, (raw, organ, at) in enumerate(plan):
        intent = make_intent(n, raw_id=raw, organ=organ, requested_at=at)
        intents.append(intent)
        store.record_intent(intent)
        store.record_completion(make_completion(intent))

    def queries(**filters: Any) -> list[str]:
        return [f"{r.kind}:{intents.index(next(i for i in intents if i.query_id == r.query_id))}"
                for r in store.export(**filters)]  # fmt: skip

    assert queries(subject_pseudonym=pseudonym(alice)) == [
        "intent:0", "completion:0", "intent:2", "completion:2", "intent:3", "completion:3",
    ]  # fmt: skip
    assert queries(organ="230100-FGW") == ["intent:2", "completion:2"]
    assert queries(since=base + timedelta(days=1), until=base + timedelta(days=3)) == [
        "intent:1", "completion:1", "intent:2", "completion:2",
    ]  # fmt: skip
    assert queries(subject_pseudonym=pseudonym(alice), organ="230100-SCJGJ",
                   since=base + timedelta(hours=1)) == ["intent:3", "completion:3"]  # fmt: skip
    assert queries(subject_pseudonym="f" * 64) == []
    with pytest.raises(ConfigurationError):
        list(store.export(since=datetime(2026, 1, 1)))  # naive: ambiguous


def test_stats_count_outcomes_organs_days(store: Any) -> None:
    day = datetime(2026, 3, 1, 9, tzinfo=UTC)
    for n, outcome in enumerate(["CLEAR", "CLEAR", "RESTRICTED"]):
        intent = make_intent(n, requested_at=day + timedelta(days=n // 2))
        store.record_intent(intent)
        store.record_completion(make_completion(intent, outcome))
    store.record_intent(make_intent(9, organ="230100-FGW", requested_at=day))
    stats = store.stats()
    assert stats.records == 7
    assert (stats.intents, stats.completions, stats.checkpoints, stats.incomplete) == (4, 3, 0, 1)
    assert dict(stats.by_outcome) == {"CLEAR": 2, "RESTRICTED": 1}
    assert dict(stats.by_organ) == {"230100-FGW": 1, "230100-SCJGJ": 3}
    assert dict(stats.by_day) == {"2026-03-01": 3, "2026-03-02": 1}
    assert stats.head_seq == 7
    assert stats.first_recorded_at is not None
    assert stats.first_recorded_at.tzinfo is not None


def test_prune_leaves_a_verifiable_chain_with_a_checkpoint(store: Any) -> None:
    old = [make_intent(i) for i in range(5)]
    store.append(old)
    cutoff = datetime.now(UTC) + timedelta(microseconds=1)
    while datetime.now(UTC) <= cutoff:  # make sure the next records are written after it
        pass
    new = [make_intent(i) for i in range(5, 8)]
    store.append(new)
    head_before = store.verify().head_hash

    result = store.prune(cutoff)
    assert (result.pruned, result.first_pruned_seq, result.last_pruned_seq) == (5, 1, 5)
    assert result.checkpoint_seq == 9
    records = list(store.export())
    assert [r.seq for r in records] == [6, 7, 8, 9]
    checkpoint = records[-1]
    assert checkpoint.kind == "checkpoint"
    assert checkpoint.prev_hash == head_before
    assert checkpoint.data["pruned_count"] == 5
    assert checkpoint.data["pruned_head_hash"] == records[0].prev_hash

    verified = store.verify()
    assert verified.ok, verified
    assert (verified.count, verified.pruned, verified.head_seq) == (4, 5, 9)

    # Writing goes on after the checkpoint; a second prune chains a second checkpoint.
    store.record_intent(make_intent(20))
    second = store.prune(datetime.now(UTC))
    assert second.pruned == 5
    assert second.first_pruned_seq == 6
    final = store.verify()
    assert final.ok
    assert final.count == 1
    assert final.pruned == 10
    assert store.stats().checkpoints == 1


def test_prune_with_nothing_old_is_a_no_op(store: Any) -> None:
    store.record_intent(make_intent(1))
    assert store.prune(datetime(2000, 1, 1, tzinfo=UTC)).pruned == 0
    assert store.verify().count == 1


def test_prune_rejects_future_and_naive_times(store: Any) -> None:
    with pytest.raises(ConfigurationError, match="future"):
        store.prune(datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(ConfigurationError):
        store.prune(datetime(2020, 1, 1))


def test_prune_refuses_to_hide_tampering(store: Any, raw: Any) -> None:
    store.append([make_intent(i) for i in range(4)])
    raw.update(2, "organ", "forged")
    with pytest.raises(AuditIntegrityError):
        store.prune(datetime.now(UTC))
    assert len(raw.rows()) == 4


def test_closed_store_refuses_writes(spec: StoreSpec) -> None:
    log = spec.open()
    log.close()
    log.close()  # idempotent
    with pytest.raises(AuditError, match="closed"):
        log.record_intent(make_intent(1))


@pytest.mark.durable_only
def test_records_survive_reopening(spec: StoreSpec) -> None:
    with spec.open() as log:
        intent = make_intent(1)
        log.record_intent(intent)
        log.record_completion(make_completion(intent))
    with spec.open() as log:
        assert log.verify().count == 2
        log.record_intent(make_intent(2))
        assert log.verify().count == 3


@pytest.mark.durable_only
def test_per_row_mode_and_group_commit_share_one_chain(spec: StoreSpec) -> None:
    grouped = spec.open()
    per_row = spec.open(group_commit=False)
    for i in range(10):
        (grouped if i % 2 else per_row).record_intent(make_intent(i))
    result = per_row.verify()
    assert result.ok
    assert result.count == 10


@pytest.mark.durable_only
def test_close_flushes_pending_writes(spec: StoreSpec) -> None:
    log = spec.open()
    done: list[str] = []

    def worker(n: int) -> None:
        intent = make_intent(n)
        log.record_intent(intent)
        done.append(intent.query_id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    with spec.open() as again:
        ids = {r.query_id for r in again.export()}
    assert set(done) <= ids
    assert len(done) == 20


@pytest.mark.durable_only
def test_create_false_refuses_a_missing_log(spec: StoreSpec) -> None:
    with pytest.raises(AuditError):
        spec.open(create=False)


def test_open_query_log_dispatches(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from credit_sdk import MemoryQueryLog, SQLiteQueryLog

    assert isinstance(open_query_log("memory:"), MemoryQueryLog)
    with open_query_log(tmp_path / "a.db") as log:
        assert isinstance(log, SQLiteQueryLog)
    with open_query_log(f"sqlite:///{tmp_path}/b.db") as log:
        assert isinstance(log, SQLiteQueryLog)
    monkeypatch.setenv("CREDIT_SDK_AUDIT_DB", str(tmp_path / "c.db"))
    with open_query_log() as log:
        assert isinstance(log, SQLiteQueryLog)
    monkeypatch.delenv("CREDIT_SDK_AUDIT_DB")
    with pytest.raises(ConfigurationError, match="CREDIT_SDK_AUDIT_DB"):
        open_query_log()
    with pytest.raises(ConfigurationError, match="scheme"):
        open_query_log("mysql://x/y")
    with pytest.raises(ConfigurationError):
        open_query_log(":memory:", max_attempts=0)


def test_sqlite_refuses_memory_paths() -> None:
    from credit_sdk import SQLiteQueryLog

    with pytest.raises(ConfigurationError, match="MemoryQueryLog"):
        SQLiteQueryLog(":memory:")


def test_export_records_serialise_to_json(store: Any) -> None:
    store.record_intent(make_intent(1))
    (record,) = store.export()
    data = json.loads(json.dumps(record.to_dict()))
    assert data["kind"] == "intent"
    assert data["data"]["organ"] == "230100-SCJGJ"


def test_a_streamed_append_is_one_ordered_transaction(store: Any) -> None:
    """Appends of thousands of records are handed to the writer a chunk at a time while the
    caller encodes the rest; they stay atomic and ordered, and other callers' records go in
    before or after them, never in between."""
    big = [make_intent(i) for i in range(2500)]
    small = [make_intent(10_000 + i) for i in range(20)]
    errors: list[BaseException] = []

    def write_small() -> None:
        try:
            for intent in small:
                store.record_intent(intent)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    thread = threading.Thread(target=write_small)
    thread.start()
    store.append(big)
    thread.join()
    assert not errors
    ids = [r.query_id for r in store.export()]
    start = ids.index(big[0].query_id)
    assert ids[start : start + len(big)] == [i.query_id for i in big]
    result = store.verify()
    assert result.ok, result
    assert result.count == len(big) + len(small)


def test_a_streamed_append_holding_a_stored_record_is_refused(store: Any) -> None:
    stored = make_intent(1)
    store.record_intent(stored)
    batch = [make_intent(100 + i) for i in range(1500)]
    batch[1400] = stored
    with pytest.raises(AuditError, match="already holds"):
        store.append(batch)
    store.record_intent(make_intent(2))
    result = store.verify()
    assert result.ok, result
    assert result.count == 2


def test_a_streamed_append_that_fails_half_way_writes_nothing(store: Any) -> None:
    batch = [make_intent(i) for i in range(3000)]
    broken = make_intent(9)
    object.__setattr__(broken, "purpose", 12345)  # bypasses validation: encoding will fail
    batch[2000] = broken
    with pytest.raises(TypeError):
        store.append(batch)
    assert store.verify().count == 0
    store.append(batch[:1500])
    result = store.verify()
    assert result.ok, result
    assert result.count == 1500
