"""The outbox is covered by the hash chain (Art. 22, 46, 52): an insider with write access to the
database, but not to the checkpoint key or the witness's copy, deletes, edits or forges outbox
rows behind the store's back (raw sqlite3 / SQL). verify() and ``credit-sdk audit verify`` name
the outbox id and the chain position of the record that states it; a legitimate history
(failures, delivery, dead letters, requeue, the subject's erasure, prune) verifies clean."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from credit_sdk import AuditError, OutboxItem
from credit_sdk._audit._chain import PendingRecord, chain
from credit_sdk.cli import main

from .conftest import Raw, StoreSpec, make_feedback, make_intent, pseudonym, resident_id

# The columns an insider may edit, and whether the store changes them by design (a sender's
# bookkeeping) or the chain states them.
MUTABLE = {"attempts": 7, "available_at": "2099-01-01T00:00:00.000000Z", "last_error": "x"}


def _push(n: int) -> OutboxItem:
    raw_id = resident_id(n)
    return OutboxItem(
        kind="push",
        idempotency_key=f"push-{n}",
        payload=json.dumps({"case": f"2026-{n:04d}", "decision": "revoked"}),
        subject=raw_id,
        subject_pseudonym=pseudonym(raw_id),
        due_on=date(2027, 1, 8),
    )


class Outbox:
    """The outbox table, edited directly (the in-memory store: its entries)."""

    def __init__(self, raw: Raw) -> None:
        self.raw = raw
        self.memory = raw.spec.kind == "memory"

    def _entry(self, outbox_id: int) -> Any:
        return next(e for e in self.raw.store._outbox.values() if e.outbox_id == outbox_id)

    def ids(self) -> list[int]:
        if self.memory:
            return sorted(e.outbox_id for e in self.raw.store._outbox.values())
        return [r[0] for r in self.raw.sql("SELECT id FROM {s}.outbox ORDER BY id")]

    def delete(self, outbox_id: int) -> None:
        if self.memory:
            store = self.raw.store
            store._outbox = {k: e for k, e in store._outbox.items() if e.outbox_id != outbox_id}
            return
        self.raw.sql("DELETE FROM {s}.outbox WHERE id = %s", (outbox_id,))

    def set(self, outbox_id: int, column: str, value: Any) -> None:
        if self.memory:
            e = self._entry(outbox_id)
            if column in ("payload", "idempotency_key"):
                object.__setattr__(e.item, column, value)
            elif column == "available_at":
                e.available_at = datetime.fromisoformat(value)
            elif column == "enqueued_at":
                e.enqueued_at = datetime.fromisoformat(value)
            else:
                setattr(e, column, value)
            return
        self.raw.sql(f"UPDATE {{s}}.outbox SET {column} = %s WHERE id = %s", (value, outbox_id))

    def forge(self, outbox_id: int, key: str, payload: str, kind: str = "feedback") -> None:
        now = "2026-11-02T01:00:00.000000Z"
        if self.memory:
            from credit_sdk._audit.memory import _OutboxEntry

            item = OutboxItem(kind=kind, idempotency_key=key, payload=payload)
            at = datetime.fromisoformat(now)
            self.raw.store._outbox[(kind, key)] = _OutboxEntry(outbox_id, item, at, available_at=at)
            return
        self.raw.sql(
            "INSERT INTO {s}.outbox (id, kind, idempotency_key, payload, enqueued_at, "
            "available_at) VALUES (%s, %s, %s, %s, %s, %s)",
            (outbox_id, kind, key, payload, now, now),
        )


@pytest.fixture
def outbox(raw: Raw) -> Outbox:
    return Outbox(raw)


def _stating(store: Any, outbox_id: int) -> Any:
    """The chained record that queued ``outbox_id`` (read from an export, as an auditor would)."""
    return next(
        r
        for r in store.export()
        if r.kind == "outbox" and outbox_id in [i["id"] for i in json.loads(r.body)["items"]]
    )


def _queued(store: Any) -> list[int]:
    """Two feedback items in one call, then a push: outbox ids 1..3 (pending)."""
    store.record_intent(make_intent(1))
    store.enqueue_feedback([make_feedback(1), make_feedback(2, applied=False)])
    store.enqueue_outbox([_push(3)])
    ids = sorted(c.outbox_id for c in store.claim_outbox(10, 30))
    store.mark_failed(ids, "HTTP 503", attempt=False)
    return ids


def _broken(store: Any, outbox_id: int, kind: str, position: int | None, words: str) -> Any:
    result = store.verify()
    assert not result.ok, result
    assert (result.outbox_id, result.break_kind, result.position) == (outbox_id, kind, position)
    assert words in (result.detail or ""), result
    assert f"outbox item {outbox_id}" in str(result)
    with pytest.raises(Exception, match=f"outbox item {outbox_id}"):
        result.raise_if_broken()
    return result


def test_every_enqueue_is_stated_in_the_chain_without_the_payload(store: Any) -> None:
    ids = _queued(store)
    assert ids == [1, 2, 3]
    records = [r for r in store.export() if r.kind == "outbox"]
    # One record per enqueue call (each its own commit here), not per item.
    assert [[i["id"] for i in json.loads(r.body)["items"]] for r in records] == [[1, 2], [3]]
    text = "".join(r.body for r in records)
    for secret in ("revoked", "push-3", resident_id(3)):
        assert secret not in text
    result = store.verify()
    assert result.ok, result
    assert result.outbox_items == 3
    assert "3 outbox items match the chain" in str(result)


def test_a_legitimate_history_verifies(store: Any) -> None:
    _queued(store)
    first = store.claim_outbox(10, 30)
    store.mark_failed([first[0].outbox_id], "HTTP 422 refused")  # an attempt, still pending
    store.mark_delivered([first[1].outbox_id, first[2].outbox_id])  # the push's subject erased
    again = store.claim_outbox(10, 30)
    store.mark_failed([again[0].outbox_id], "too old", attempt=False, dead=True)  # dead letter
    assert store.outbox_stats().dead == 1
    assert store.verify().ok
    assert store.requeue_dead_letters() == 1
    (last,) = store.claim_outbox(10, 30)
    store.mark_delivered([last.outbox_id])
    store.enqueue_feedback([make_feedback(1)])  # queued already: a no-op, no record
    states = [json.loads(r.body)["state"] for r in store.export() if r.kind == "outbox_state"]
    assert states == ["delivered", "dead", "pending", "delivered"]
    result = store.verify()
    assert result.ok, result
    assert result.outbox_items == 3
    # Prune: the records that queued the items go; the items are restated after the checkpoint.
    store.prune(datetime.now(UTC))
    kinds = [r.kind for r in store.export()]
    assert kinds[:2] == ["checkpoint", "outbox_adopted"]
    store.enqueue_feedback([make_feedback(9)])
    result = store.verify()
    assert result.ok, result
    assert result.outbox_items == 4


def test_the_columns_a_sender_changes_are_not_protected(store: Any, outbox: Outbox) -> None:
    # Attempts, the retry time and the last error change with every delivery round by design.
    ids = _queued(store)
    for column, value in MUTABLE.items():
        outbox.set(ids[0], column, value)
    assert store.verify().ok


def test_a_deleted_pending_row_is_found(store: Any, outbox: Outbox) -> None:
    ids = _queued(store)
    outbox.delete(ids[1])
    _broken(store, ids[1], "deleted", _stating(store, ids[1]).seq, "row is missing")


def test_a_deleted_dead_letter_is_found(store: Any, outbox: Outbox) -> None:
    ids = _queued(store)
    store.claim_outbox(10, 30)
    store.mark_failed([ids[2]], "refused", dead=True)
    outbox.delete(ids[2])
    result = _broken(store, ids[2], "deleted", _stating(store, ids[2]).seq, "row is missing")
    assert "records it as dead" in (result.detail or "")


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("payload", '{"case":"2026-0003","decision":"upheld"}', "its payload"),
        ("idempotency_key", "push-999", "its idempotency key"),
        ("kind", "correction", "its kind"),
        ("enqueued_at", "2020-01-01T00:00:00.000000Z", "its enqueue time"),
    ],
)
def test_an_edited_row_is_found(
    store: Any, outbox: Outbox, column: str, value: str, words: str
) -> None:
    ids = _queued(store)
    if outbox.memory and column == "kind":
        pytest.skip("the in-memory store keys its entries by kind")
    outbox.set(ids[2], column, value)
    _broken(store, ids[2], "changed", _stating(store, ids[2]).seq, words)


def test_a_row_marked_delivered_without_delivery_is_found(store: Any, outbox: Outbox) -> None:
    ids = _queued(store)
    outbox.set(ids[0], "state", "delivered")
    _broken(store, ids[0], "changed", _stating(store, ids[0]).seq, "chain records it as pending")


def test_a_delivered_row_moved_back_is_found(store: Any, outbox: Outbox) -> None:
    # Delivered, then put back to pending: the item would be sent again.
    ids = _queued(store)
    store.claim_outbox(10, 30)
    store.mark_delivered([ids[0]])
    delivered = next(r for r in store.export() if r.kind == "outbox_state")
    outbox.set(ids[0], "state", "pending")
    _broken(store, ids[0], "changed", delivered.seq, "chain records it as delivered")


def test_a_forged_row_is_found(store: Any, outbox: Outbox) -> None:
    _queued(store)
    outbox.forge(40, "forged-key", '{"query_id":"q9"}')
    result = _broken(store, 40, "inserted", None, "no record of the chain queued it")
    assert result.record_id is None


def test_every_finding_is_listed(store: Any, outbox: Outbox) -> None:
    ids = _queued(store)
    outbox.delete(ids[0])
    outbox.set(ids[2], "payload", "{}")
    outbox.forge(40, "forged-key", "{}")
    result = store.verify()
    assert not result.ok
    assert [p.split(" (")[0] for p in result.outbox_problems] == [
        f"outbox item {ids[0]}",
        f"outbox item {ids[2]}",
        "outbox item 40",
    ]
    assert all("decision" not in p and "forged-key" not in p for p in result.outbox_problems)


def test_prune_refuses_an_outbox_that_does_not_match(store: Any, outbox: Outbox) -> None:
    # Pruning would delete the records that prove the tampering: it refuses instead.
    ids = _queued(store)
    outbox.delete(ids[0])
    with pytest.raises(Exception, match=f"refusing to prune.*outbox item {ids[0]}"):
        store.prune(datetime.now(UTC))


def test_a_checkpoint_row_proves_itself(store: Any, outbox: Outbox) -> None:
    from credit_sdk import CheckpointPolicy, CheckpointSigner

    signer = CheckpointSigner.generate()
    if outbox.memory:
        pytest.skip("the in-memory store takes its policy at construction (one instance)")
    log = outbox.raw.spec.open(checkpoints=CheckpointPolicy(signer, every_seconds=3600))
    log.record_intent(make_intent(1))
    cp = log.checkpoint()
    assert cp is not None
    (row_id,) = outbox.ids()
    assert log.verify().ok
    # Another checkpoint's payload under this key: not the checkpoint its key names.
    other = json.loads(cp.to_json()) | {"seq": cp.seq + 1}
    outbox.set(row_id, "payload", json.dumps(other))
    broken = log.verify()
    assert (broken.ok, broken.outbox_id, broken.break_kind) == (False, row_id, "changed")
    # A forged checkpoint row needs the signing key: a made-up signature does not verify.
    outbox.set(row_id, "payload", cp.to_json())
    forged = json.loads(cp.to_json()) | {"seq": 999, "signature": "00" * 64}
    outbox.forge(50, f"{cp.key}:999", json.dumps(forged), kind="checkpoint")
    broken = log.verify()
    assert (broken.ok, broken.outbox_id, broken.break_kind) == (False, 50, "changed")


# -- witnessed checkpoints ------------------------------------------------------------------


def _rewrite_without(raw: Raw, record_seq: int) -> None:
    """Drop one record and rechain everything after it consistently (head row moved too): a
    chain that verifies on its own."""
    rows = raw.rows()
    kept = [r for r in rows if r.seq < record_seq]
    doomed = [r for r in rows if r.seq >= record_seq]
    pending = [
        PendingRecord(
            r.record_id, r.kind, r.query_id, r.event_at, r.organ, r.subject_pseudonym,  # type: ignore[arg-type]
            r.outcome, r.body,
        )
        for r in doomed[1:]
    ]  # fmt: skip
    new = chain(pending, kept[-1].seq, kept[-1].hash, doomed[0].recorded_at) if pending else []
    for r in doomed:
        raw.delete(r.seq)
    for r in new:
        raw.insert(r)
    last = new[-1] if new else kept[-1]
    if raw.spec.kind == "memory":
        raw.store._head = (last.seq, last.hash)
    else:
        raw.sql("UPDATE {s}.audit_chain_head SET seq = %s, hash = %s", (last.seq, last.hash))


def test_a_row_deleted_with_its_record_before_the_witness_is_proven(
    store: Any, raw: Raw, outbox: Outbox
) -> None:
    ids = _queued(store)
    head = store.verify()
    witnessed = [(head.head_seq, head.head_hash)]
    store.record_intent(make_intent(2))
    record = _stating(store, ids[2])
    outbox.delete(ids[2])
    _rewrite_without(raw, record.seq)
    assert store.verify().ok  # the chain alone cannot tell
    result = store.verify(expect=witnessed)
    assert not result.ok
    assert result.position is not None
    assert result.position <= head.head_seq


def test_a_row_queued_after_the_witness_is_outside_the_proven_range(
    store: Any, raw: Raw, outbox: Outbox
) -> None:
    _queued(store)
    head = store.verify()
    witnessed = [(head.head_seq, head.head_hash)]
    store.enqueue_feedback([make_feedback(7)])
    late = outbox.ids()[-1]
    # Without touching the chain, the deletion is found, and said to lie outside the range.
    outbox.delete(late)
    result = store.verify(expect=witnessed)
    assert (result.ok, result.outbox_id, result.break_kind) == (False, late, "deleted")
    assert "outside the proven range" in (result.detail or "")
    # Its record dropped too: nothing within the proven range is wrong, and the result says
    # which records the witness does not cover.
    _rewrite_without(raw, _stating(store, late).seq)
    result = store.verify(expect=witnessed)
    assert result.ok, result
    assert result.witnessed_seq == head.head_seq


# -- the command line and the opening of older logs -------------------------------------------


@pytest.mark.durable_only
def test_the_command_line_names_the_outbox_id(
    spec: StoreSpec, store: Any, outbox: Outbox, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _queued(store)
    assert main(["audit", "verify", "--db", spec.db_arg]) == 0
    outbox.set(ids[1], "payload", '{"query_id":"q000002","applied":true}')
    assert main(["audit", "verify", "--db", spec.db_arg]) == 1
    out = capsys.readouterr().out
    assert f"outbox item {ids[1]}" in out
    assert "its payload is not what was queued" in out
    assert "q000002" not in out
    assert main(["audit", "verify", "--db", spec.db_arg, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["ok"], data["outbox_id"], data["break_kind"]) == (False, ids[1], "changed")


@pytest.mark.durable_only
def test_rows_of_an_older_log_are_adopted_once_when_it_is_opened(
    spec: StoreSpec, store: Any, raw: Raw, outbox: Outbox
) -> None:
    # A log written before the outbox was chained: rows, no records, no mark.
    store.record_intent(make_intent(1))
    outbox.forge(5, "k5", '{"query_id":"q000005"}')
    raw.sql("DELETE FROM {s}.audit_meta WHERE key = 'outbox_chain'")
    store.close()
    # The command line opens without writing: the row is not stated yet, and it says so.
    assert not spec.open(create=False).verify().ok
    reopened = spec.open()
    adopted = [r for r in reopened.export() if r.kind == "outbox_adopted"]
    assert [json.loads(r.body)["reason"] for r in adopted] == ["opened"]
    assert reopened.verify().ok
    # Once: a row forged later is not adopted by the next opening.
    outbox.forge(6, "k6", "{}")
    raw.sql("DELETE FROM {s}.audit_meta WHERE key = 'outbox_chain'")
    again = spec.open()
    result = again.verify()
    assert (result.ok, result.outbox_id, result.break_kind) == (False, 6, "inserted")


@pytest.mark.durable_only
def test_an_enqueue_whose_record_fails_leaves_no_row(spec: StoreSpec, store: Any, raw: Raw) -> None:
    # The record cannot be written (a trigger refuses it): the row goes with it, one transaction.
    store.record_intent(make_intent(1))
    if spec.kind == "sqlite":
        raw.sql(
            "CREATE TRIGGER refuse BEFORE INSERT ON audit_records WHEN NEW.kind = 'outbox' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    else:
        raw.sql(
            "CREATE FUNCTION {s}.refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF NEW.kind = 'outbox' THEN RAISE EXCEPTION 'refused'; END IF; "
            "RETURN NEW; END $$"
        )
        raw.sql(
            "CREATE TRIGGER refuse BEFORE INSERT ON {s}.audit_records FOR EACH ROW "
            "EXECUTE FUNCTION {s}.refuse()"
        )
    with pytest.raises(AuditError):
        store.enqueue_feedback([make_feedback(1)])
    assert store.outbox_stats().pending == 0
    result = store.verify()
    assert result.ok
    assert result.count == 1


def test_logs_without_outbox_records_verify_as_before(store: Any) -> None:
    store.record_intent(make_intent(1))
    result = store.verify()
    assert result.ok
    assert result.outbox_items == 0
    assert "outbox" not in str(result)


def test_stats_report_an_outbox_that_does_not_match(store: Any, outbox: Outbox) -> None:
    ids = _queued(store)
    assert store.stats().outbox_problem is None
    outbox.delete(ids[0])
    outbox.forge(40, "forged-key", "{}")
    problem = store.stats().outbox_problem
    assert problem is not None
    assert problem.startswith(f"outbox item {ids[0]}")
    assert "and 1 more" in problem


@pytest.mark.durable_only
def test_stats_on_the_command_line_fail_on_a_forged_row(
    spec: StoreSpec, store: Any, outbox: Outbox, capsys: pytest.CaptureFixture[str]
) -> None:
    _queued(store)
    assert main(["audit", "stats", "--db", spec.db_arg]) == 0
    outbox.forge(40, "forged-key", '{"query_id":"q000040"}')
    capsys.readouterr()
    assert main(["audit", "stats", "--db", spec.db_arg]) == 1
    out = capsys.readouterr().out
    assert "OUTBOX BROKEN outbox item 40" in out
    assert "q000040" not in out


@pytest.mark.durable_only
def test_concurrent_enqueues_sharing_a_commit_share_a_record(store: Any) -> None:
    # Eight threads queue at once: however the writer groups them, every item is stated once,
    # and no more records are written than calls.
    import threading

    def queue(n: int) -> None:
        store.enqueue_feedback([make_feedback(100 + n), make_feedback(200 + n)])

    threads = [threading.Thread(target=queue, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = [r for r in store.export() if r.kind == "outbox"]
    stated = sorted(i["id"] for r in records for i in json.loads(r.body)["items"])
    assert stated == sorted(outbox_id for outbox_id in range(1, 17))
    assert 1 <= len(records) <= 8
    assert store.verify().outbox_items == 16
