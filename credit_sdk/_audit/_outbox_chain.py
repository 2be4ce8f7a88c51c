"""The outbox in the hash chain: what was queued for the platform, and what became of it.

The outbox (Art. 22, 46, 52) is a table of rows that a sender updates as it delivers them, so
it cannot be hash-chained row by row. Instead, every change that matters is *stated* by a record
in the query log's chain, written in the same transaction as the change itself:

* ``outbox``: one record per transaction that queues items (an enqueue call; or several calls
  that share a group commit), listing each item added (up to 500 per record): its outbox id,
  kind, the SHA-256 of its idempotency key and of its payload, its subject's pseudonym, its due
  date and the time it was queued. Never the payload itself or the key (either may be personal):
  digests are enough to tell whether the row still holds what was queued.
* ``outbox_state``: one record per call that moves items to a terminal state or back: delivered
  (``mark_delivered``), dead letters (``mark_failed``, or a lease that ran out after the last
  attempt in ``claim_outbox``) and requeued dead letters (state ``pending`` again).
* ``outbox_adopted``: items restated whole, with their state: rows found when a log written
  before the outbox was chained is opened, and rows whose stating record a prune deletes.

Items of the ``checkpoint`` kind are the exception: their payload is a signed checkpoint that
the chain holds already (its ``signed_checkpoint`` record), so they prove themselves: the row's
payload must be a checkpoint whose key and position are its idempotency key, and, given the
public key, whose signature verifies. Stating them again would put a record after every
checkpoint, and a checkpoint of a log where nothing but checkpoints happened would never be
the newest record.

Attempts, leases, ``available_at``, the last error and the subject's identifier (erased once
the platform accepted the item) change legitimately and are not stated. ``verify()`` reconciles
the table against the chain with :class:`OutboxLedger`:

>>> rec = enqueue_record([entry(7, "feedback", "k-1", '{"a":1}', None, None, "t")])
>>> ledger = OutboxLedger()
>>> ledger.note_body(rec.kind, rec.body, 12)
>>> [p.outbox_id for p in ledger.reconcile([])]
[7]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from credit_sdk._audit._chain import PendingRecord, StoredRow
from credit_sdk._audit._outbox_records import (
    ADOPTED,
    ENQUEUED,
    OUTBOX_RECORD_KINDS,
    STATED,
    STATES,
    body_problem,
)
from credit_sdk._audit._types import BreakKind, OutboxItem, canonical_json, new_query_id

__all__ = [
    "ADOPTED",
    "ENQUEUED",
    "OUTBOX_RECORD_KINDS",
    "SELF_PROVING_KINDS",
    "STATED",
    "OutboxLedger",
    "OutboxProblem",
    "OutboxRow",
    "adopt_records",
    "body_problem",
    "enqueue_record",
    "enqueue_records",
    "entry",
    "state_record",
]

#: Kinds of items that are not stated in the chain: they carry their own proof (above).
SELF_PROVING_KINDS = frozenset({"checkpoint"})
# Items per adoption record: a prune or a first opening restates the whole outbox, in records
# of bounded size.
_ADOPT_CHUNK = 500


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry(
    outbox_id: int,
    kind: str,
    idempotency_key: str,
    payload: str,
    subject_pseudonym: str | None,
    due_on: str | None,
    enqueued_at: str,
) -> dict[str, Any]:
    """What the chain states about one queued item (no payload, no key: their digests)."""
    return {
        "id": int(outbox_id),
        "kind": kind,
        "key_sha256": _sha(idempotency_key),
        "payload_sha256": _sha(payload),
        "pseudonym": subject_pseudonym,
        "due_on": due_on,
        "enqueued_at": enqueued_at,
    }


def item_entry(outbox_id: int, item: OutboxItem, enqueued_at: str) -> dict[str, Any]:
    """:func:`entry` for an item as it was queued."""
    due = None if item.due_on is None else item.due_on.isoformat()
    return entry(
        outbox_id, item.kind, item.idempotency_key, item.payload, item.subject_pseudonym, due,
        enqueued_at,
    )  # fmt: skip


def _record(kind: str, body: dict[str, Any]) -> PendingRecord:
    # Time-ordered ids, as query ids: the record-id index grows at its end.
    return PendingRecord(
        f"{kind}:{new_query_id()}", kind, None, None, None, None, None,  # type: ignore[arg-type]
        canonical_json(body),
    )  # fmt: skip


def enqueue_record(entries: Sequence[dict[str, Any]]) -> PendingRecord:
    """The record of items queued together (``entries`` from :func:`entry`)."""
    return _record(ENQUEUED, {"items": sorted(entries, key=lambda e: int(e["id"]))})


def enqueue_records(entries: Sequence[dict[str, Any]]) -> list[PendingRecord]:
    """The records of the items one transaction queued: one, or one per 500 items."""
    ordered = sorted(entries, key=lambda e: int(e["id"]))
    return [
        enqueue_record(ordered[i : i + _ADOPT_CHUNK]) for i in range(0, len(ordered), _ADOPT_CHUNK)
    ]


def state_record(state: str, ids: Iterable[int]) -> PendingRecord:
    """The record of one call that moved ``ids`` to ``state`` (delivered, dead, or pending:
    requeued)."""
    if state not in STATES:
        raise ValueError(f"unknown outbox state {state!r}")
    return _record(STATED, {"ids": sorted({int(i) for i in ids}), "state": state})


def adopt_records(rows: Sequence[OutboxRow], reason: str) -> list[PendingRecord]:
    """Records restating ``rows`` whole (``reason``: ``opened`` or ``pruned``)."""
    ordered = sorted(rows, key=lambda r: r.outbox_id)
    return [
        _record(
            ADOPTED,
            {
                "items": [{**r.entry(), "state": r.state} for r in ordered[i : i + _ADOPT_CHUNK]],
                "reason": reason,
            },
        )
        for i in range(0, len(ordered), _ADOPT_CHUNK)
    ]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """An outbox row as a store reads it back for reconciliation (times as ISO text)."""

    outbox_id: int
    kind: str
    idempotency_key: str
    payload: str
    subject_pseudonym: str | None
    due_on: str | None
    enqueued_at: str
    state: str

    def entry(self) -> dict[str, Any]:
        return entry(
            self.outbox_id, self.kind, self.idempotency_key, self.payload,
            self.subject_pseudonym, self.due_on, self.enqueued_at,
        )  # fmt: skip

    def __repr__(self) -> str:
        # The payload and key may be personal: never shown.
        return f"OutboxRow({self.outbox_id}, {self.kind!r}, {self.state!r})"


@dataclass(frozen=True, slots=True)
class OutboxProblem:
    """One outbox row that does not match what the chain states about it."""

    outbox_id: int
    #: The chain position of the record that states the item (``None``: no record does).
    position: int | None
    record_id: str | None
    break_kind: BreakKind
    detail: str

    def __str__(self) -> str:
        where = (
            f"stated by record {self.record_id} at position {self.position}"
            if self.position is not None
            else "stated by no record"
        )
        return f"outbox item {self.outbox_id} ({where}): {self.break_kind}: {self.detail}"


@dataclass(slots=True)
class _Stated:
    entry: dict[str, Any]
    seq: int
    record_id: str
    state: str
    state_seq: int
    state_record_id: str


_FIELDS = (
    ("kind", "its kind"),
    ("key_sha256", "its idempotency key"),
    ("payload_sha256", "its payload"),
    ("pseudonym", "its subject pseudonym"),
    ("due_on", "its due date"),
    ("enqueued_at", "its enqueue time"),
)


class OutboxLedger:
    """What the chain states about the outbox, gathered while the chain is walked, then held
    against the table (:meth:`reconcile`). Memory grows with the number of outbox items, not
    with the number of records."""

    def __init__(self) -> None:
        self._items: dict[int, _Stated] = {}
        # State records naming items not (yet) stated: a prune deletes enqueue records and
        # restates their items after the kept records (adoption).
        self._orphans: dict[int, tuple[int, str]] = {}

    def __len__(self) -> int:
        return len(self._items)

    def watch(self, rows: Iterable[StoredRow]) -> Iterator[StoredRow]:
        """``rows`` passed through unchanged, each outbox record noted on the way."""
        for row in rows:
            if row.kind in OUTBOX_RECORD_KINDS:
                self.note(row)
            yield row

    def note(self, row: StoredRow) -> None:
        self.note_body(row.kind, row.body, row.seq, row.record_id)

    def note_body(self, kind: str, body: str, seq: int, record_id: str | None = None) -> None:
        """Take in one outbox record (``body`` already checked by :func:`body_problem`)."""
        rid = record_id or f"{kind}@{seq}"
        data = json.loads(body)
        if kind == STATED:
            for i in data["ids"]:
                known = self._items.get(i)
                if known is None:
                    self._orphans[i] = (seq, rid)
                    continue
                known.state, known.state_seq, known.state_record_id = data["state"], seq, rid
            return
        for item in data["items"]:
            stated = {k: v for k, v in item.items() if k != "state"}
            state = item.get("state", "pending")
            self._items[item["id"]] = _Stated(stated, seq, rid, state, seq, rid)
            self._orphans.pop(item["id"], None)

    def stated(self, outbox_id: int) -> int | None:
        """The position of the newest record that restates ``outbox_id`` whole."""
        known = self._items.get(outbox_id)
        return None if known is None else known.seq

    def pruned_with(self, rows: Iterable[OutboxRow], last: int) -> list[OutboxRow]:
        """The ``rows`` whose stating record is at or before position ``last`` (a prune deletes
        it: they are restated after the prune's checkpoint)."""
        return [
            r
            for r in rows
            if r.kind not in SELF_PROVING_KINDS and (self.stated(r.outbox_id) or 0) <= last
        ]

    def reconcile(
        self,
        rows: Iterable[OutboxRow],
        *,
        witnessed_seq: int | None = None,
        public_key: bytes | None = None,
    ) -> list[OutboxProblem]:
        """Every row that differs from what the chain states, every stated item whose row is
        missing, and every row no record states (``rows`` in any order). Checkpoint items are
        checked against their own signature (under ``public_key``, when given)."""
        problems: list[OutboxProblem] = []
        seen: set[int] = set()
        for row in rows:
            seen.add(row.outbox_id)
            if row.kind in SELF_PROVING_KINDS and row.outbox_id not in self._items:
                problem = _self_proving(row, public_key)
            else:
                problem = self._check(row)
            if problem is not None:
                problems.append(problem)
        for outbox_id, known in self._items.items():
            if outbox_id not in seen:
                problems.append(
                    OutboxProblem(
                        outbox_id, known.seq, known.record_id, "deleted",
                        f"its row is missing (the chain last records it as {known.state}, at "
                        f"position {known.state_seq})",
                    )
                )  # fmt: skip
        for outbox_id, (seq, rid) in self._orphans.items():
            if outbox_id not in seen:
                problems.append(
                    OutboxProblem(
                        outbox_id, seq, rid, "inserted",
                        "a state record names an item that no record queued",
                    )
                )  # fmt: skip
        problems.sort(key=lambda p: (p.position is None, p.position or 0, p.outbox_id))
        if witnessed_seq is not None:
            problems = [_beyond(p, witnessed_seq) for p in problems]
        return problems

    def _check(self, row: OutboxRow) -> OutboxProblem | None:
        known = self._items.get(row.outbox_id)
        if known is None:
            return OutboxProblem(
                row.outbox_id, None, None, "inserted",
                "no record of the chain queued it: the row was written behind the store's back",
            )  # fmt: skip
        actual = row.entry()
        for key, what in _FIELDS:
            if actual[key] != known.entry[key]:
                return OutboxProblem(
                    row.outbox_id, known.seq, known.record_id, "changed",
                    f"{what} is not what was queued",
                )  # fmt: skip
        if row.state != known.state:
            return OutboxProblem(
                row.outbox_id, known.state_seq, known.state_record_id, "changed",
                f"its row says {row.state}, but the chain records it as {known.state}",
            )  # fmt: skip
        return None


def _self_proving(row: OutboxRow, public_key: bytes | None) -> OutboxProblem | None:
    from credit_sdk._audit._witness import SignedCheckpoint
    from credit_sdk._errors import AuditError

    try:
        cp = SignedCheckpoint.from_json(row.payload)
    except AuditError:
        cp = None
    if cp is None or row.idempotency_key != f"{cp.key}:{cp.seq}":
        detail = "its payload is not the signed checkpoint its key names"
    elif public_key is not None and not cp.verify(public_key):
        detail = "its checkpoint's signature does not verify under the given public key"
    else:
        return None
    return OutboxProblem(row.outbox_id, None, None, "changed", detail)


def _beyond(problem: OutboxProblem, witnessed_seq: int) -> OutboxProblem:
    if problem.position is None or problem.position <= witnessed_seq:
        return problem
    return OutboxProblem(
        problem.outbox_id, problem.position, problem.record_id, problem.break_kind,
        f"{problem.detail} (stated after the newest witnessed checkpoint, record "
        f"{witnessed_seq}: outside the proven range)",
    )  # fmt: skip
