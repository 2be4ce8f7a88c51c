"""Checks and helpers that every store shares, so that all of them behave the same."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import queue
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, ClassVar, NoReturn, Self

from credit_sdk._audit._archive import ArchivedReport
from credit_sdk._audit._chain import (
    GENESIS_HASH,
    PendingRecord,
    StoredRow,
    _check_signed,
    _hash_at,
    encode,
    link,
    signed_checkpoint_record,
    verify_rows,
)
from credit_sdk._audit._outbox_chain import OutboxLedger, OutboxRow
from credit_sdk._audit._types import (
    FEEDBACK_KIND,
    ClaimedFeedback,
    ClaimedOutboxItem,
    FeedbackItem,
    OutboxItem,
    OutboxStats,
    QueryCompletion,
    QueryIntent,
    VerifyResult,
    feedback_from_outbox,
    feedback_to_outbox,
    iso,
    parse_iso,
    redact_identifiers,
)
from credit_sdk._audit._witness import (
    Checkpointer,
    CheckpointPolicy,
    CheckpointSigner,
    SignedCheckpoint,
    expectations,
    key_id,
)
from credit_sdk._audit._writer import GroupCommitWriter, Op
from credit_sdk._errors import AuditError, AuditIntegrityError, ConfigurationError

__all__ = [
    "LEASE_EXPIRED",
    "OFFER_LIMIT",
    "STREAM_CHUNK",
    "STREAM_MIN",
    "ExportFilter",
    "RecordStream",
    "StoreCorrupt",
    "StoreNotFound",
    "WriterBackedLog",
    "append_streamed",
    "check_archived",
    "check_claim",
    "check_duplicates",
    "check_feedback",
    "check_ids",
    "check_kinds",
    "check_max_attempts",
    "check_outbox",
    "check_prune_before",
    "checkpoint_outbox_item",
    "claimed_feedback",
    "clean_error",
    "duplicate_within",
    "head_fields",
    "next_checkpoint",
    "now",
    "opt_time",
    "outbox_finding",
    "outbox_stats",
    "outbox_unreconciled",
    "readable_checkpoints",
    "reconciled",
    "refuse_unless_intact",
    "witness_args",
]

_log = logging.getLogger("credit_sdk.audit")

#: Outbox findings kept in a VerifyResult (the first is reported in full; the rest counted).
_MAX_FINDINGS = 1000

LEASE_EXPIRED = "lease expired without a reported outcome"
_CST = timedelta(hours=8)
_MAX_ERROR = 1000


def now() -> datetime:
    return datetime.now(UTC)


def opt_time(text: str | None) -> datetime | None:
    return None if text is None else parse_iso(text)


def head_fields(
    head: tuple[int, str] | None, fault: str | None, newest: Sequence[Any] | None
) -> dict[str, Any]:
    """The head fields of :class:`AuditStats`: the chain head, or, when its row is missing,
    duplicated or malformed, the newest record's position and what is wrong (``head_problem``)."""
    if head is not None:
        return {"head_seq": head[0], "head_hash": head[1], "head_problem": None}
    seq, digest = (int(newest[0]), str(newest[1])) if newest else (0, GENESIS_HASH)
    return {"head_seq": seq, "head_hash": digest, "head_problem": fault}


def check_max_attempts(value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigurationError("max_attempts must be a positive int")


def check_duplicates(pending: Sequence[PendingRecord], existing: Iterable[str]) -> None:
    """Refuse a second intent or completion for the same query id."""
    seen = set(existing)
    for p in pending:
        if p.record_id in seen:
            raise AuditError(f"the query log already holds record {p.record_id}")
        seen.add(p.record_id)


def duplicate_within(pending: Sequence[PendingRecord]) -> str | None:
    seen: set[str] = set()
    for p in pending:
        if p.record_id in seen:
            return p.record_id
        seen.add(p.record_id)
    return None


def check_prune_before(before: datetime) -> datetime:
    if not isinstance(before, datetime) or before.tzinfo is None or before.utcoffset() is None:
        raise ConfigurationError("prune(before=...) needs a timezone-aware datetime")
    if before > now():
        raise ConfigurationError("prune(before=...) lies in the future; refusing to prune")
    return before.astimezone(UTC)


def check_feedback(items: Sequence[FeedbackItem]) -> None:
    for item in items:
        if not isinstance(item, FeedbackItem):
            raise TypeError(f"expected FeedbackItem, got {type(item).__name__}")


def check_outbox(items: Sequence[OutboxItem]) -> None:
    for item in items:
        if not isinstance(item, OutboxItem):
            raise TypeError(f"expected OutboxItem, got {type(item).__name__}")


def check_kinds(kinds: Collection[str] | None) -> list[str] | None:
    """``kinds`` of ``claim_outbox`` as a sorted list (``None``: every kind)."""
    if kinds is None:
        return None
    if isinstance(kinds, str):
        raise TypeError("claim_outbox(kinds=...) takes a collection of kind names, not a str")
    out = sorted(set(kinds))
    for kind in out:
        if not isinstance(kind, str):
            raise TypeError("claim_outbox(kinds=...) takes kind names (str)")
    return out


def claimed_feedback(claims: Sequence[ClaimedOutboxItem]) -> list[ClaimedFeedback]:
    """Outbox claims of the feedback kind as :class:`ClaimedFeedback`."""
    return [
        ClaimedFeedback(
            outbox_id=c.outbox_id,
            item=feedback_from_outbox(c.item),
            attempt=c.attempt,
            lease_expires_at=c.lease_expires_at,
            enqueued_at=c.enqueued_at,
        )
        for c in claims
    ]


def outbox_batches(
    ops: Iterable[Op], size: int
) -> Iterator[tuple[dict[tuple[str, str], OutboxItem], list[OutboxItem]]]:
    """The items that the outbox operations of one transaction queue, each (kind, key) once
    per operation (the first wins, as the stores' ``ON CONFLICT DO NOTHING`` keeps the row
    already there), in chunks of at most ``size`` rows per ``INSERT``; with each chunk, the
    operation's items by (kind, key), to find the item of each row the ``INSERT`` returns."""
    for op in ops:
        if op.kind != "outbox":
            continue
        items: dict[tuple[str, str], OutboxItem] = {}
        for item in op.payload:
            items.setdefault((item.kind, item.idempotency_key), item)
        wanted = list(items.values())
        for start in range(0, len(wanted), size):
            yield items, wanted[start : start + size]


def outbox_stats(
    rows: Iterable[tuple[str, str, int, int, datetime | None, int]],
) -> OutboxStats:
    """Counts from ``(kind, state, items, leased now, oldest enqueued, overdue)`` rows: the
    totals and the same per kind."""
    per_kind: dict[str, dict[str, tuple[int, int, datetime | None, int]]] = {}
    for kind, state, n, leased, oldest, overdue in rows:
        per_kind.setdefault(kind, {})[state] = (int(n), int(leased or 0), oldest, int(overdue or 0))

    def one(states: dict[str, tuple[int, int, datetime | None, int]]) -> OutboxStats:
        pending = states.get("pending", (0, 0, None, 0))
        return OutboxStats(
            pending=pending[0],
            in_flight=pending[1],
            delivered=states.get("delivered", (0, 0, None, 0))[0],
            dead=states.get("dead", (0, 0, None, 0))[0],
            oldest_pending_at=pending[2],
            overdue=pending[3],
        )

    by_kind = {kind: one(states) for kind, states in sorted(per_kind.items())}
    oldest_at = [s.oldest_pending_at for s in by_kind.values() if s.oldest_pending_at is not None]
    return OutboxStats(
        pending=sum(s.pending for s in by_kind.values()),
        in_flight=sum(s.in_flight for s in by_kind.values()),
        delivered=sum(s.delivered for s in by_kind.values()),
        dead=sum(s.dead for s in by_kind.values()),
        oldest_pending_at=min(oldest_at, default=None),
        overdue=sum(s.overdue for s in by_kind.values()),
        by_kind=by_kind,
    )


def today() -> date:
    """Today's date in China (UTC+8), the calendar the legal due dates are counted in."""
    return (now() + _CST).date()


def check_claim(limit: int, lease_seconds: float) -> None:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ConfigurationError("claim(limit=...) must be a positive int")
    if not lease_seconds > 0:
        raise ConfigurationError("claim(lease_seconds=...) must be positive")


def check_ids(ids: Sequence[int]) -> list[int]:
    out = []
    for i in ids:
        if not isinstance(i, int) or isinstance(i, bool):
            raise TypeError("outbox ids are ints (ClaimedFeedback.outbox_id)")
        out.append(i)
    return out


def clean_error(error: str) -> str:
    """A delivery error as stored: identifier-shaped tokens redacted, length bounded."""
    text = redact_identifiers(str(error)).replace("\x00", "")
    return text[:_MAX_ERROR] or "unspecified error"


@dataclass(frozen=True, slots=True)
class ExportFilter:
    """Filters of an export; all apply to the *intent* (who asked about whom, and when)."""

    subject_pseudonym: str | None
    organ: str | None
    since: str | None
    until: str | None

    @classmethod
    def build(
        cls,
        subject_pseudonym: str | None,
        organ: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> ExportFilter:
        for name, value in (("since", since), ("until", until)):
            if value is not None and (
                not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None
            ):
                raise ConfigurationError(f"export({name}=...) needs a timezone-aware datetime")
        return cls(
            subject_pseudonym,
            organ,
            iso(since) if since is not None else None,
            iso(until) if until is not None else None,
        )

    @property
    def empty(self) -> bool:
        return (
            self.subject_pseudonym is None
            and self.organ is None
            and self.since is None
            and self.until is None
        )

    def matches(self, row: StoredRow) -> bool:
        if self.subject_pseudonym is not None and row.subject_pseudonym != self.subject_pseudonym:
            return False
        if self.organ is not None and row.organ != self.organ:
            return False
        event = row.event_at or ""
        if self.since is not None and event < self.since:
            return False
        return not (self.until is not None and event >= self.until)


class RecordStream:
    """The records of one large append, encoded by the caller a chunk at a time while the
    writer thread already chains and inserts the chunks before (in one transaction of its
    own): the caller's Python work overlaps the database's.

    The caller :meth:`put` s chunks and then :meth:`close` s the stream, or :meth:`abort` s
    it when it fails half-way. The writer iterates :meth:`chunks`, which starts from the first
    chunk every time (a transaction that is redone sees every record) and raises
    :class:`AuditError` on an abort; :meth:`all` waits for the rest and returns every record.
    """

    _END: ClassVar[object] = object()
    _ABORT: ClassVar[object] = object()

    def __init__(self, size: int, timeout: float) -> None:
        self.size = size
        self._timeout = timeout
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._chunks: list[list[PendingRecord]] = []
        self._ended = False
        self._aborted = False

    def put(self, chunk: list[PendingRecord]) -> None:
        self._queue.put(chunk)

    def close(self) -> None:
        self._queue.put(self._END)

    def abort(self) -> None:
        self._queue.put(self._ABORT)

    def chunks(self) -> Iterator[list[PendingRecord]]:
        """Every chunk, from the first, each as soon as it has arrived."""
        taken = 0
        while True:
            if taken < len(self._chunks):
                taken += 1
                yield self._chunks[taken - 1]
                continue
            if self._aborted:
                raise AuditError("the append was abandoned before all its records were ready")
            if self._ended:
                return
            try:
                item = self._queue.get(timeout=self._timeout)
            except queue.Empty:
                raise AuditError("the records of a streamed append stopped arriving") from None
            if item is self._END:
                self._ended = True
            elif item is self._ABORT:
                self._ended = self._aborted = True
            else:
                chunk: list[PendingRecord] = item  # type: ignore[assignment]  # what put() takes
                self._chunks.append(chunk)

    def all(self) -> list[PendingRecord]:
        """Every record of the append (waiting for the rest)."""
        return [p for chunk in self.chunks() for p in chunk]


#: Appends of at least this many records are streamed (see RecordStream), in chunks of
#: STREAM_CHUNK records.
STREAM_MIN = 1024
STREAM_CHUNK = 512


def append_streamed(
    writer: GroupCommitWriter, records: Sequence[QueryIntent | QueryCompletion], timeout: float
) -> None:
    """Durably append ``records`` in one transaction of their own, handing them to the
    writer a chunk at a time as they are encoded; the same checks as a plain append first."""
    for r in records:
        if not isinstance(r, QueryIntent | QueryCompletion):
            encode(r)  # raises the TypeError a plain append raises
    seen: set[str] = set()
    for r in records:
        if r.record_id in seen:
            raise AuditError(f"record {r.record_id} appears twice in one append")
        seen.add(r.record_id)
    stream = RecordStream(len(records), timeout)
    stream.put([encode(r) for r in records[:STREAM_CHUNK]])
    op = Op("append", stream, len(records), alone=True)
    writer.start(op)
    try:
        for start in range(STREAM_CHUNK, len(records), STREAM_CHUNK):
            stream.put([encode(r) for r in records[start : start + STREAM_CHUNK]])
            # Let the writer take the chunk now: it holds the GIL only to chain and bind it,
            # then inserts without it while this thread encodes the next one. Without the
            # hand-off it would wait for the interpreter's switch interval (5 ms) every time.
            time.sleep(0)
    except BaseException:
        stream.abort()
        with contextlib.suppress(AuditError):
            writer.finish(op)
        raise
    stream.close()
    writer.finish(op)


def next_checkpoint(
    signer: CheckpointSigner,
    head_seq: int,
    head_hash: str,
    newest: Sequence[Any] | None,
    at: datetime,
) -> tuple[tuple[Any, ...], SignedCheckpoint] | None:
    """The row (in ``LINKED_COLUMNS`` order) and checkpoint that sign the head ``head_seq``;
    ``None`` for an empty chain or one whose newest record (``newest``: its kind) is a signed
    checkpoint already. A head that names no record is a broken chain."""
    if head_seq == 0:
        return None
    if newest is None:
        raise AuditIntegrityError(
            f"the query log's chain is broken: the chain head names record {head_seq}, which "
            "is missing; no checkpoint was written (run credit-sdk audit verify)"
        )
    if newest[0] == "signed_checkpoint":
        return None
    stamp = iso(at)
    cp = signer.sign(head_seq, head_hash, stamp)
    (row,) = link([signed_checkpoint_record(cp)], head_seq, head_hash, stamp)
    return row, cp


#: Selects the newest signed checkpoint at or before a position (``seq``, ``prev_hash``,
#: ``body``): where
#: the range a new checkpoint must check begins. Stores fill in their table and placeholder.
PREVIOUS_SIGNED = (
    "SELECT seq, prev_hash, body FROM {table} WHERE kind = 'signed_checkpoint' AND seq <= {mark} "
    "ORDER BY seq DESC LIMIT 1"
)


def _signed_by(body: object) -> object:
    try:
        data = json.loads(str(body))
    except ValueError:
        return None
    return data.get("key") if isinstance(data, dict) else None


def refuse_unless_intact(
    rows: Iterable[StoredRow],
    *,
    previous: Sequence[Any] | None,
    prunes: Sequence[StoredRow],
    head: tuple[int, str],
    public_key: bytes | None,
    known: SignedCheckpoint | None = None,
) -> tuple[int, str]:
    """Check the records a new checkpoint would sign before it is signed: every record since
    the previous signed checkpoint (``previous``: its ``seq``, ``prev_hash`` and ``body``;
    ``rows`` start there), or the whole chain when there is none (``prunes``: the prune
    checkpoints that anchor a pruned chain; a full ``verify``, once per log). In a range each
    hash is recomputed and each link followed, the previous checkpoint's signature is checked
    under ``public_key`` when it is that key's, the last record must be the head, and ``known``
    (the checkpoint this process signed last), when it lies in the range, must still name the
    record there. The index columns beside the body are not looked at: the chain does not sign
    them (``verify`` checks them). Returns the head's ``seq`` and ``prev_hash``: where a second
    pass (inside the write transaction) picks up.

    A checkpoint signs the head hash, and everything before it through the links: signing a
    range someone edited after it was written would make a witness vouch for the edit. So a
    broken range is refused with :class:`~credit_sdk.AuditIntegrityError` naming the position,
    and nothing is signed. Cost: one SHA-256 per record of the range."""
    if previous is None:
        return _whole_chain_intact(rows, prunes, head, known)
    key = public_key
    if key is not None and _signed_by(previous[2]) != key_id(key):
        # Signed under an earlier key (rotated since): its link to the record before it is
        # still checked, its signature by whoever holds that key's public half.
        key = None
    expected_seq, expected_prev = int(previous[0]), str(previous[1])
    last: StoredRow | None = None
    for row in rows:
        if row.seq != expected_seq:
            if row.seq > expected_seq:
                _refuse(
                    expected_seq, "deleted", f"records {expected_seq}..{row.seq - 1} are missing"
                )
            _refuse(row.seq, "inserted", "a second record holds this position")
        if row.prev_hash != expected_prev:
            _refuse(row.seq, "changed", "it does not link to the record before it")
        if _hash_at(row, row.seq) != row.hash:
            _refuse(row.seq, "changed", "its content does not match its hash")
        if row.kind == "signed_checkpoint":
            problem = _check_signed(row, key)
            if problem is not None:
                _refuse(row.seq, "changed", problem)
        if known is not None and row.seq == known.seq and row.hash != known.hash:
            _refuse(row.seq, "changed", _REWRITTEN)
        expected_prev = row.hash
        expected_seq += 1
        last = row
    if last is None:
        _refuse(int(previous[0]), "deleted", f"records from {previous[0]} on are missing")
    assert last is not None
    if known is not None and known.seq > last.seq:
        _refuse(last.seq + 1, "deleted", f"{_REWRITTEN_PREFIX} names record {known.seq}, but "
                f"the chain ends at record {last.seq}")  # fmt: skip
    if last.seq < head[0]:
        _refuse(last.seq + 1, "deleted", f"the chain head names record {head[0]} but the last "
                f"record is {last.seq}: records at the end were removed")  # fmt: skip
    if last.seq > head[0]:
        _refuse(head[0] + 1, "inserted", "records follow the chain head that no writer recorded")
    if last.hash != head[1]:
        _refuse(last.seq, "changed", "the newest record differs from the chain head")
    return last.seq, last.prev_hash


_REWRITTEN_PREFIX = "the checkpoint this process signed last"
_REWRITTEN = f"it differs from {_REWRITTEN_PREFIX}: the chain was rewritten at or before it"


def _whole_chain_intact(
    rows: Iterable[StoredRow],
    prunes: Sequence[StoredRow],
    head: tuple[int, str],
    known: SignedCheckpoint | None,
) -> tuple[int, str]:
    last: list[StoredRow] = []

    def seen(it: Iterable[StoredRow]) -> Iterator[StoredRow]:
        for row in it:
            last[:] = [row]
            yield row

    witnessed = None if known is None else {known.seq: (known.hash, _REWRITTEN_PREFIX)}
    result = verify_rows(seen(rows), checkpoints=prunes, head=head, witnessed=witnessed)
    if not result.ok:
        _refuse(result.position or 0, str(result.break_kind), str(result.detail))
    return (last[0].seq, last[0].prev_hash) if last else (0, GENESIS_HASH)


def _refuse(position: int, kind: str, detail: str) -> NoReturn:
    raise AuditIntegrityError(
        f"the query log's chain is broken at record {position} ({kind}: {detail}); no "
        "checkpoint was signed over it (run credit-sdk audit verify)"
    )


#: At most this many checkpoints are offered to the sinks in one round (the rest next time).
OFFER_LIMIT = 1000


def readable_checkpoints(bodies: Iterable[Sequence[Any]]) -> list[SignedCheckpoint]:
    """The checkpoints in stored ``signed_checkpoint`` bodies (first column), in the order
    given; a body that is no checkpoint (edited in the database) is left out and logged:
    ``verify`` names it, and a witness must not be handed it."""
    out = []
    for row in bodies:
        try:
            out.append(SignedCheckpoint.from_json(str(row[0])))
        except AuditError:
            _log.error("query log: a signed checkpoint record cannot be read; not offered")
    return out


def checkpoint_outbox_item(cp: SignedCheckpoint) -> OutboxItem:
    """The outbox item that carries a checkpoint to the platform (kind ``checkpoint``, one per
    key id and position)."""
    return OutboxItem(kind="checkpoint", idempotency_key=f"{cp.key}:{cp.seq}", payload=cp.to_json())


def check_archived(reports: Sequence[ArchivedReport]) -> list[ArchivedReport]:
    out = []
    for r in reports:
        if not isinstance(r, ArchivedReport):
            raise TypeError(f"expected ArchivedReport, got {type(r).__name__}")
        out.append(r)
    return out


def witness_args(
    checkpointer: Checkpointer | None,
    checkpoints: Iterable[SignedCheckpoint],
    public_key: bytes | None,
    expect: Iterable[tuple[int, str]],
) -> tuple[dict[int, tuple[str, str]], bytes | None]:
    """``verify()``'s witness arguments: what to check the chain against, and the public key
    (by default the store's own signer's, when it has a checkpoint policy)."""
    if public_key is None and checkpointer is not None:
        public_key = checkpointer.policy.signer.public_key
    return expectations(checkpoints, public_key, expect), public_key


def reconciled(
    result: VerifyResult,
    ledger: OutboxLedger,
    rows: Iterable[OutboxRow],
    public_key: bytes | None = None,
) -> VerifyResult:
    """``result`` of a chain walk that noted its outbox records in ``ledger``, held against the
    outbox table's ``rows``: a row that differs from what the chain states, a stated item whose
    row is missing, or a row no record states makes it fail, naming the outbox id and the
    record. A chain that is broken already is reported as it is (its statements are not to be
    trusted)."""
    if not result.ok:
        return result
    problems = ledger.reconcile(rows, witnessed_seq=result.witnessed_seq, public_key=public_key)
    if not problems:
        return dataclasses.replace(result, outbox_items=len(ledger))
    first = problems[0]
    return dataclasses.replace(
        result,
        ok=False,
        position=first.position,
        record_id=first.record_id,
        break_kind=first.break_kind,
        detail=first.detail,
        outbox_id=first.outbox_id,
        outbox_problems=tuple(str(p) for p in problems[:_MAX_FINDINGS]),
        outbox_items=len(ledger),
    )


def outbox_finding(ledger: OutboxLedger, rows: Iterable[OutboxRow]) -> str | None:
    """The ``outbox_problem`` of :class:`AuditStats`: the first finding and their number."""
    problems = ledger.reconcile(rows)
    if not problems:
        return None
    more = f" (and {len(problems) - 1} more; see audit verify)" if len(problems) > 1 else ""
    return f"{problems[0]}{more}"


def outbox_unreconciled(
    ledger: OutboxLedger, rows: Iterable[OutboxRow]
) -> AuditIntegrityError | None:
    """The error a prune raises when the outbox does not match the chain (pruning never hides
    tampering), else ``None``."""
    problems = ledger.reconcile(rows)
    if not problems:
        return None
    return AuditIntegrityError(
        f"refusing to prune: the outbox does not match the chain: {problems[0]}"
        + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
    )


class StoreNotFound(AuditError):
    """The query-log database does not exist (and the store was told not to create it)."""


class StoreCorrupt(AuditError):
    """The file or database is not a readable credit-sdk query log (garbage, damaged, another
    application's database, or a newer schema than this SDK knows)."""


class WriterBackedLog:
    """The write side that the durable stores share: records and feedback go to one
    group-commit writer thread (or, without one, straight to the store in the caller).

    A store sets ``_writer``, ``_closed`` and ``_timeout`` and implements ``_submit`` (the
    write without a writer thread) and ``close``.
    """

    _writer: GroupCommitWriter | None
    _closed: bool
    _timeout: float
    _checkpointer: Checkpointer | None = None

    def _submit(self, op: Op) -> None:
        raise NotImplementedError

    def _write_checkpoint(self, policy: CheckpointPolicy) -> SignedCheckpoint | None:
        """Sign the head and commit the checkpoint record and, with ``policy.to_platform``,
        its outbox item in one transaction (a crash between the two would leave a checkpoint
        the platform never witnesses)."""
        raise NotImplementedError

    def _unwitnessed_checkpoints(self, sinks: str) -> tuple[list[SignedCheckpoint], bool]:
        """The checkpoints after the newest one the sinks ``sinks`` acknowledged, oldest first
        (at most ``OFFER_LIMIT``), and whether there is such a mark; without one, the newest
        checkpoint alone (a log older than the mark, or sinks new to it)."""
        raise NotImplementedError

    def _mark_witnessed(self, sinks: str, seq: int) -> None:
        """The sinks ``sinks`` took every checkpoint up to the one of record ``seq``."""
        raise NotImplementedError

    def _start_checkpoints(self, policy: CheckpointPolicy | None) -> None:
        if policy is not None and not isinstance(policy, CheckpointPolicy):
            raise ConfigurationError("checkpoints=... takes a CheckpointPolicy")
        if policy is None:
            self._checkpointer = None
            return
        sinks = policy.sinks_id
        self._checkpointer = Checkpointer(
            policy,
            lambda: self._write_checkpoint(policy),
            unwitnessed=lambda: self._unwitnessed_checkpoints(sinks),
            witnessed=lambda seq: self._mark_witnessed(sinks, seq),
        )
        # A checkpoint committed before a crash, or one a sink refused, reaches the sinks now.
        self._checkpointer.offer()

    def _stop_checkpoints(self) -> None:
        if self._checkpointer is not None and not self._closed:
            self._checkpointer.close()

    @property
    def last_checkpoint_error(self) -> str | None:
        """Why the last checkpoint could not be written, or ``None`` (also without a policy)."""
        return None if self._checkpointer is None else self._checkpointer.last_error

    def checkpoint(self) -> SignedCheckpoint | None:
        """Write a signed checkpoint of the chain's newest record now and hand it to the
        policy's sinks; ``None`` when the newest record is a checkpoint already (nothing new to
        witness). Needs ``checkpoints=CheckpointPolicy(...)``; raises ``AuditError`` when it
        cannot be written."""
        if self._checkpointer is None:
            raise ConfigurationError("this query log has no checkpoint policy (checkpoints=...)")
        return self._checkpointer.run(raise_errors=True)

    def close(self) -> None:
        raise NotImplementedError

    def record_intent(self, intent: QueryIntent) -> None:
        """Durably append the intent record of a check, before any report is fetched (Art. 25)."""
        self.append([intent])

    def record_completion(self, completion: QueryCompletion) -> None:
        """Durably append the completion record, before the decision is returned (Art. 25)."""
        self.append([completion])

    def append(self, records: Sequence[QueryIntent | QueryCompletion]) -> None:
        """Durably append several records in one transaction, in order (e.g. a tender's
        bidders); all or none are written."""
        if self._writer is not None and len(records) >= STREAM_MIN:
            if self._closed:
                raise AuditError("the query log is closed")
            append_streamed(self._writer, records, self._timeout)
            if self._checkpointer is not None:
                self._checkpointer.noted(len(records))
            return
        pending = [encode(r) for r in records]
        if not pending:
            return
        duplicate = duplicate_within(pending) if len(pending) > 1 else None
        if duplicate is not None:
            raise AuditError(f"record {duplicate} appears twice in one append")
        self._submit(Op("append", pending, len(pending)))
        if self._checkpointer is not None:
            self._checkpointer.noted(len(pending))

    def enqueue_feedback(self, items: Sequence[FeedbackItem]) -> None:
        """Durably queue feedback items (Art. 46); an already queued idempotency key is a no-op."""
        check_feedback(items)
        self.enqueue_outbox([feedback_to_outbox(i) for i in items])

    def enqueue_outbox(self, items: Sequence[OutboxItem]) -> None:
        """Durably queue outbox items of any kind; a key already queued in its kind is a no-op."""
        check_outbox(items)
        if items:
            self._submit(Op("outbox", list(items), len(items)))

    def claim_outbox(
        self, limit: int, lease_seconds: float, *, kinds: Collection[str] | None = None
    ) -> list[ClaimedOutboxItem]:
        raise NotImplementedError

    def claim_feedback(self, limit: int, lease_seconds: float) -> list[ClaimedFeedback]:
        """Lease up to ``limit`` deliverable feedback items for ``lease_seconds`` (oldest
        first); each claim counts as an attempt (see ``claim_outbox``)."""
        return claimed_feedback(self.claim_outbox(limit, lease_seconds, kinds=[FEEDBACK_KIND]))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
