"""Tamper evidence (Art. 25): every edit, deletion, insertion and reordering of stored records is
found by verify(), at the right position, whatever the store (raw sqlite3 / SQL edits)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from credit_sdk._audit._chain import chain, encode, record_hash

from .conftest import Raw, make_completion, make_intent


@pytest.fixture
def ten(store: Any) -> list[Any]:
    """Ten records: intent/completion pairs for five queries, seq 1..10."""
    for n in range(5):
        intent = make_intent(n)
        store.record_intent(intent)
        store.record_completion(make_completion(intent))
    records = list(store.export())
    assert [r.seq for r in records] == list(range(1, 11))
    return records


def check(store: Any, position: int, kind: str, record_id: str | None) -> None:
    result = store.verify()
    assert not result.ok, result
    assert (result.position, result.break_kind, result.record_id) == (position, kind, record_id), (
        result
    )
    assert result.count == position - 1
    with pytest.raises(Exception, match="chain broken at position"):
        result.raise_if_broken()


def test_untouched_chain_verifies(store: Any, ten: list[Any]) -> None:
    result = store.verify()
    assert result.ok
    assert result.count == 10
    assert result.head_hash == ten[-1].hash


def test_edited_body_is_changed_at_its_position(store: Any, raw: Raw, ten: list[Any]) -> None:
    body = json.loads(ten[3].body)
    body["outcome"] = "RESTRICTED" if body["outcome"] == "CLEAR" else "CLEAR"
    raw.update(4, "body", json.dumps(body, sort_keys=True, separators=(",", ":")))
    check(store, 4, "changed", ten[3].record_id)


def test_edited_index_column_is_changed(store: Any, raw: Raw, ten: list[Any]) -> None:
    raw.update(3, "organ", "230100-OTHER")
    check(store, 3, "changed", ten[2].record_id)


def test_edited_time_is_changed(store: Any, raw: Raw, ten: list[Any]) -> None:
    raw.update(6, "recorded_at", "2020-01-01T00:00:00.000000Z")
    check(store, 6, "changed", ten[5].record_id)


def test_edited_and_rehashed_record_is_changed(store: Any, raw: Raw, ten: list[Any]) -> None:
    # The attacker recomputes the edited record's own hash; its successor still names the old one.
    old = ten[3]
    body = old.body.replace('"CLEAR"', '"INCENTIVES"')
    raw.update(4, "body", body)
    raw.update(4, "hash", record_hash(
        seq=4, kind=old.kind, record_id=old.record_id, prev_hash=old.prev_hash,
        recorded_at=old.to_dict()["recorded_at"], body=body,
    ))  # fmt: skip
    check(store, 4, "changed", old.record_id)


def test_deleted_record_is_found(store: Any, raw: Raw, ten: list[Any]) -> None:
    raw.delete(5)
    check(store, 5, "deleted", None)


def test_deleted_and_renumbered_records_are_found(store: Any, raw: Raw, ten: list[Any]) -> None:
    raw.delete(5)
    raw.renumber(6, -1)
    check(store, 5, "deleted", None)


def test_deleted_tail_is_found(store: Any, raw: Raw, ten: list[Any]) -> None:
    raw.delete(10)
    raw.delete(9)
    check(store, 9, "deleted", None)


def test_deleted_prefix_without_checkpoint_is_found(store: Any, raw: Raw, ten: list[Any]) -> None:
    for seq in (1, 2, 3):
        raw.delete(seq)
    check(store, 1, "deleted", None)


def _forged(ten: list[Any], after: int) -> Any:
    """A well-formed record chained after record ``after`` with a correct hash."""
    prev = ten[after - 1]
    (row,) = chain([encode(make_intent(99))], after, prev.hash, prev.to_dict()["recorded_at"])
    return row


def test_inserted_forged_record_is_found(store: Any, raw: Raw, ten: list[Any]) -> None:
    row = _forged(ten, 4)
    raw.renumber(5, 1)
    raw.insert(row)
    check(store, 5, "inserted", row.record_id)


def test_inserted_sloppy_record_is_found(store: Any, raw: Raw, ten: list[Any]) -> None:
    row = _forged(ten, 4)
    sloppy = dataclasses.replace(row, hash="f" * 64, prev_hash="e" * 64)
    raw.renumber(5, 1)
    raw.insert(sloppy)
    check(store, 5, "inserted", row.record_id)


def test_reordered_records_are_found(store: Any, raw: Raw, ten: list[Any]) -> None:
    raw.swap(4, 5)
    check(store, 4, "reordered", ten[4].record_id)


def test_appended_garbage_after_the_head_is_found(store: Any, raw: Raw, ten: list[Any]) -> None:
    if store.__class__.__name__ == "MemoryQueryLog":
        pytest.skip("the in-memory store has no separate head to compare with")
    row = _forged(ten, 10)
    raw.insert(row)
    check(store, 11, "inserted", row.record_id)


def test_tampering_with_a_pruned_chain_is_found(store: Any, raw: Raw, ten: list[Any]) -> None:
    store.prune(datetime.now(UTC))
    store.record_intent(make_intent(50))
    assert store.verify().ok
    rows = raw.rows()
    checkpoint = next(r for r in rows if r.kind == "checkpoint")
    raw.delete(checkpoint.seq)
    result = store.verify()
    assert not result.ok
    assert result.break_kind == "deleted"
