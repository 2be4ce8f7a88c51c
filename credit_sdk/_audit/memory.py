"""An in-memory query log for tests of the systems that embed the SDK.

Same semantics as the durable stores (hash chain, verification, pruning with checkpoints,
feedback outbox with leases and dead letters) but **nothing survives the process**: it is not
a query log in the sense of Art. 25 and must never be configured in production.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

from credit_sdk._audit import _common
from credit_sdk._audit._archive import ArchivedReport
from credit_sdk._audit._chain import (
    GENESIS_HASH,
    PendingRecord,
    StoredRow,
    chain,
    checkpoint_record,
    encode,
    signed_checkpoint_record,
    verify_rows,
)
from credit_sdk._audit._outbox_chain import (
    OUTBOX_RECORD_KINDS,
    SELF_PROVING_KINDS,
    OutboxLedger,
    OutboxRow,
    adopt_records,
    enqueue_record,
    item_entry,
    state_record,
)
from credit_sdk._audit._types import (
    FEEDBACK_KIND,
    AuditRecord,
    AuditStats,
    ClaimedFeedback,
    ClaimedOutboxItem,
    FeedbackItem,
    OutboxItem,
    OutboxStats,
    PruneResult,
    QueryCompletion,
    QueryIntent,
    VerifyResult,
    feedback_to_outbox,
    iso,
)
from credit_sdk._audit._witness import (
    Checkpointer,
    CheckpointPolicy,
    SignedCheckpoint,
)
from credit_sdk._errors import AuditError, AuditIntegrityError, ConfigurationError

__all__ = ["MemoryQueryLog"]


@dataclass(slots=True)
class _OutboxEntry:
    outbox_id: int
    item: OutboxItem
    enqueued_at: datetime
    state: str = "pending"
    attempts: int = 0
    available_at: datetime | None = None
    lease_until: datetime | None = None
    last_error: str | None = None

    def stated(self) -> OutboxRow:
        i = self.item
        return OutboxRow(
            self.outbox_id, i.kind, i.idempotency_key, i.payload, i.subject_pseudonym,
            None if i.due_on is None else i.due_on.isoformat(), iso(self.enqueued_at),
            self.state,
        )  # fmt: skip


class MemoryQueryLog:
    """Query log kept in a list; for tests only (not durable).

    >>> from credit_sdk import MemoryQueryLog
    >>> log = MemoryQueryLog()
    >>> log.stats().records
    0
    """

    def __init__(
        self,
        *,
        max_attempts: int = 10,
        create: bool = True,
        group_commit: bool = True,
        checkpoints: CheckpointPolicy | None = None,
    ) -> None:
        # ``create`` and ``group_commit`` are accepted so that code written for the durable
        # stores runs unchanged against this one; they have no effect here.
        _common.check_max_attempts(max_attempts)
        self._max_attempts = max_attempts
        self._lock = threading.RLock()
        self._rows: list[StoredRow] = []
        self._head: tuple[int, str] = (0, GENESIS_HASH)
        self._outbox: dict[tuple[str, str], _OutboxEntry] = {}
        self._next_id = 1
        self._closed = False
        self._archive: dict[str, tuple[ArchivedReport, datetime]] = {}
        if checkpoints is not None and not isinstance(checkpoints, CheckpointPolicy):
            raise ConfigurationError("checkpoints=... takes a CheckpointPolicy")
        # Per set of sinks: the position of the newest checkpoint all of them took.
        self._witnessed_marks: dict[str, int] = {}
        self._checkpointer = None
        if checkpoints is not None:
            sinks = checkpoints.sinks_id
            self._checkpointer = Checkpointer(
                checkpoints,
                lambda: self._write_checkpoint(checkpoints),
                unwitnessed=lambda: self._unwitnessed_checkpoints(sinks),
                witnessed=lambda seq: self._mark_witnessed(sinks, seq),
            )

    def __repr__(self) -> str:
        return f"MemoryQueryLog(records={len(self._rows)}, not durable)"

    # -- the log ---------------------------------------------------------------------------

    def record_intent(self, intent: QueryIntent) -> None:
        """Append an intent record (Art. 25)."""
        self.append([intent])

    def record_completion(self, completion: QueryCompletion) -> None:
        """Append a completion record (Art. 25)."""
        self.append([completion])

    def append(self, records: Sequence[QueryIntent | QueryCompletion]) -> None:
        """Append several records atomically, in order."""
        pending = [encode(r) for r in records]
        duplicate = _common.duplicate_within(pending)
        if duplicate is not None:
            raise AuditError(f"record {duplicate} appears twice in one append")
        with self._lock:
            self._check_open()
            _common.check_duplicates(pending, {row.record_id for row in self._rows})
            seq, head = self._head
            rows = chain(pending, seq, head, iso(_common.now()))
            self._rows.extend(rows)
            if rows:
                self._head = (rows[-1].seq, rows[-1].hash)
        if self._checkpointer is not None and pending:
            self._checkpointer.noted(len(pending))

    @property
    def last_checkpoint_error(self) -> str | None:
        """Why the last checkpoint could not be written, or ``None`` (also without a policy)."""
        return None if self._checkpointer is None else self._checkpointer.last_error

    def _chain_locked(self, records: Sequence[PendingRecord], at: datetime | None = None) -> None:
        """Chain ``records`` after the head (the lock held)."""
        if not records:
            return
        seq, head = self._head
        rows = chain(records, seq, head, iso(at or _common.now()))
        self._rows.extend(rows)
        self._head = (rows[-1].seq, rows[-1].hash)

    def _state_change(self, state: str, changed: Sequence[_OutboxEntry]) -> None:
        ids = [e.outbox_id for e in changed if e.item.kind not in SELF_PROVING_KINDS]
        if ids:
            self._chain_locked([state_record(state, ids)])

    def checkpoint(self) -> SignedCheckpoint | None:
        """Write a signed checkpoint now (see :meth:`SQLiteQueryLog.checkpoint`)."""
        if self._checkpointer is None:
            raise ConfigurationError("this query log has no checkpoint policy (checkpoints=...)")
        return self._checkpointer.run(raise_errors=True)

    def _write_checkpoint(self, policy: CheckpointPolicy) -> SignedCheckpoint | None:
        signer = policy.signer
        with self._lock:
            self._check_open()
            seq, head = self._head
            newest = next(((r.kind,) for r in self._rows if r.seq == seq), None)
            made = _common.next_checkpoint(signer, seq, head, newest, _common.now())
            if made is None:
                return None
            previous = next(
                (r for r in reversed(self._rows) if r.kind == "signed_checkpoint"), None
            )
            since = (
                self._rows if previous is None else [r for r in self._rows if r.seq >= previous.seq]
            )
            _common.refuse_unless_intact(  # under the lock: nothing else writes meanwhile
                since,
                previous=None
                if previous is None
                else (previous.seq, previous.prev_hash, previous.body),
                prunes=[r for r in self._rows if r.kind == "checkpoint"],
                head=(seq, head),
                public_key=signer.public_key,
                known=None if self._checkpointer is None else self._checkpointer.last_signed,
            )
            row, cp = made
            (stored,) = chain([signed_checkpoint_record(cp)], seq, head, row[-4])
            self._rows.append(stored)
            self._head = (stored.seq, stored.hash)
            if policy.to_platform:  # under the same lock: nobody sees one without the other
                self.enqueue_outbox([_common.checkpoint_outbox_item(cp)])
            return cp

    def _unwitnessed_checkpoints(self, sinks: str) -> tuple[list[SignedCheckpoint], bool]:
        with self._lock:
            mark = self._witnessed_marks.get(sinks)
            signed = [r for r in self._rows if r.kind == "signed_checkpoint"]
            if mark is None:
                signed = signed[-1:]
            else:
                signed = [r for r in signed if r.seq > mark + 1][: _common.OFFER_LIMIT]
            return _common.readable_checkpoints([(r.body,) for r in signed]), mark is not None

    def _mark_witnessed(self, sinks: str, seq: int) -> None:
        with self._lock:
            self._witnessed_marks[sinks] = max(self._witnessed_marks.get(sinks, 0), seq)

    def verify(
        self,
        checkpoints: Iterable[SignedCheckpoint] = (),
        *,
        public_key: bytes | None = None,
        expect: Iterable[tuple[int, str]] = (),
    ) -> VerifyResult:
        """Walk the chain and report the first broken link (see ``credit_sdk._audit._chain``);
        against witnessed ``checkpoints`` and ``expect`` as :meth:`SQLiteQueryLog.verify`."""
        witnessed, key = _common.witness_args(self._checkpointer, checkpoints, public_key, expect)
        with self._lock:
            rows = sorted(self._rows, key=lambda r: r.seq)
            prunes = [r for r in rows if r.kind == "checkpoint"]
            head = self._head
            outbox = [e.stated() for e in self._outbox.values()]
        ledger = OutboxLedger()
        result = verify_rows(
            ledger.watch(rows), checkpoints=prunes, head=head, witnessed=witnessed, public_key=key
        )
        return _common.reconciled(result, ledger, outbox, key)

    def export(
        self,
        *,
        subject_pseudonym: str | None = None,
        organ: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[AuditRecord]:
        """Records in chain order; with filters, the intents that match and their completions."""
        filters = _common.ExportFilter.build(subject_pseudonym, organ, since, until)
        with self._lock:
            rows = sorted(self._rows, key=lambda r: r.seq)
        if filters.empty:
            return iter([r.to_record() for r in rows])
        wanted = {r.query_id for r in rows if r.kind == "intent" and filters.matches(r)}
        return iter(
            [r.to_record() for r in rows if r.kind != "checkpoint" and r.query_id in wanted]
        )

    def prune(self, before: datetime) -> PruneResult:
        """Delete the records written before ``before`` under a chained checkpoint (see
        :meth:`_prune_chain`), and the reports archived before it."""
        result = self._prune_chain(before)
        self.prune_archive(before)
        return result

    def _prune_chain(self, before: datetime) -> PruneResult:
        """Delete records older than ``before`` under a chained checkpoint (see docs/audit.md)."""
        cutoff = iso(_common.check_prune_before(before))
        with self._lock:
            self._check_open()
            rows = sorted(self._rows, key=lambda r: r.seq)
            if not rows:
                return PruneResult(pruned=0)
            keep_from = next((r.seq for r in rows if r.recorded_at >= cutoff), None)
            last = (keep_from - 1) if keep_from is not None else self._head[0]
            doomed = [r for r in rows if r.seq <= last]
            if not doomed:
                return PruneResult(pruned=0)
            checkpoints = [r for r in rows if r.kind == "checkpoint"]
            check = verify_rows(
                [r for r in rows if r.seq <= last + 1], checkpoints=checkpoints, head=None
            )
            if not check.ok:
                raise AuditIntegrityError(
                    f"refusing to prune a chain that does not verify: {check}"
                )
            ledger = OutboxLedger()
            for r in rows:
                if r.kind in OUTBOX_RECORD_KINDS:
                    ledger.note(r)
            outbox = [e.stated() for e in self._outbox.values()]
            unreconciled = _common.outbox_unreconciled(ledger, outbox)
            if unreconciled is not None:
                raise unreconciled
            cp = checkpoint_record(
                first_pruned_seq=doomed[0].seq,
                last_pruned_seq=last,
                pruned_head_hash=doomed[-1].hash,
                before=cutoff,
                oldest_recorded_at=min(r.recorded_at for r in doomed),
                newest_recorded_at=max(r.recorded_at for r in doomed),
            )
            seq, head = self._head
            adopted = adopt_records(ledger.pruned_with(outbox, last), "pruned")
            cp_row, *more = chain([cp, *adopted], seq, head, iso(_common.now()))
            self._rows = [r for r in rows if r.seq > last] + [cp_row, *more]
            self._head = (more or [cp_row])[-1].seq, (more or [cp_row])[-1].hash
            return PruneResult(
                pruned=len(doomed),
                first_pruned_seq=doomed[0].seq,
                last_pruned_seq=last,
                pruned_head_hash=doomed[-1].hash,
                checkpoint_seq=cp_row.seq,
                checkpoint_hash=cp_row.hash,
            )

    def stats(self) -> AuditStats:
        """Counts by kind, outcome, organ and UTC day, plus the outbox."""
        with self._lock:
            rows = list(self._rows)
            head = self._head
            stated = [e.stated() for e in self._outbox.values()]
        ledger = OutboxLedger()
        for r in sorted(rows, key=lambda r: r.seq):
            if r.kind in OUTBOX_RECORD_KINDS:
                ledger.note(r)
        intents = [r for r in rows if r.kind == "intent"]
        completions = [r for r in rows if r.kind == "completion"]
        done = {r.query_id for r in completions}
        return AuditStats(
            records=len(rows),
            intents=len(intents),
            completions=len(completions),
            checkpoints=sum(1 for r in rows if r.kind == "checkpoint"),
            incomplete=sum(1 for r in intents if r.query_id not in done),
            head_seq=head[0],
            head_hash=head[1],
            first_recorded_at=_common.opt_time(min((r.recorded_at for r in rows), default=None)),
            last_recorded_at=_common.opt_time(max((r.recorded_at for r in rows), default=None)),
            by_outcome=dict(sorted(Counter(str(r.outcome) for r in completions).items())),
            by_organ=dict(sorted(Counter(str(r.organ) for r in intents).items())),
            by_day=dict(sorted(Counter(str(r.event_at)[:10] for r in intents).items())),
            outbox=self.outbox_stats(),
            outbox_problem=_common.outbox_finding(ledger, stated),
        )

    # -- the outbox (Art. 22, 46, 52) ---------------------------------------------------------

    def enqueue_feedback(self, items: Sequence[FeedbackItem]) -> None:
        """Queue feedback; an item whose idempotency key is already queued is ignored."""
        _common.check_feedback(items)
        self.enqueue_outbox([feedback_to_outbox(i) for i in items])

    def enqueue_outbox(self, items: Sequence[OutboxItem]) -> None:
        """Queue outbox items; an item whose key is already queued in its kind is ignored."""
        _common.check_outbox(items)
        with self._lock:
            self._check_open()
            now = _common.now()
            at = iso(now)
            entries = []
            for item in items:
                key = (item.kind, item.idempotency_key)
                if key in self._outbox:
                    continue
                self._outbox[key] = added = _OutboxEntry(self._next_id, item, now, available_at=now)
                self._next_id += 1
                if item.kind not in SELF_PROVING_KINDS:
                    entries.append(item_entry(added.outbox_id, item, at))
            if entries:
                self._chain_locked([enqueue_record(entries)], now)

    def claim_feedback(self, limit: int, lease_seconds: float) -> list[ClaimedFeedback]:
        """Lease up to ``limit`` deliverable feedback items for ``lease_seconds``."""
        return _common.claimed_feedback(
            self.claim_outbox(limit, lease_seconds, kinds=[FEEDBACK_KIND])
        )

    def claim_outbox(
        self, limit: int, lease_seconds: float, *, kinds: Collection[str] | None = None
    ) -> list[ClaimedOutboxItem]:
        """Lease up to ``limit`` deliverable items of ``kinds`` (default all)."""
        _common.check_claim(limit, lease_seconds)
        wanted = _common.check_kinds(kinds)
        with self._lock:
            self._check_open()
            now = _common.now()
            until = now + timedelta(seconds=lease_seconds)
            claimed: list[ClaimedOutboxItem] = []
            died = []
            for e in sorted(self._outbox.values(), key=lambda e: e.outbox_id):
                if len(claimed) >= limit:
                    break
                if wanted is not None and e.item.kind not in wanted:
                    continue
                if e.state != "pending" or (e.available_at or now) > now:
                    continue
                if e.lease_until is not None and e.lease_until > now:
                    continue
                if e.attempts >= self._max_attempts:
                    e.state = "dead"
                    e.lease_until = None
                    e.last_error = e.last_error or _common.LEASE_EXPIRED
                    died.append(e)
                    continue
                e.attempts += 1
                e.lease_until = until
                claimed.append(
                    ClaimedOutboxItem(
                        outbox_id=e.outbox_id,
                        item=e.item,
                        attempt=e.attempts,
                        lease_expires_at=until,
                        enqueued_at=e.enqueued_at,
                    )
                )
            self._state_change("dead", died)
            return claimed

    def mark_delivered(self, ids: Sequence[int]) -> None:
        """Record that the platform accepted these items."""
        wanted = set(_common.check_ids(ids))
        with self._lock:
            done = []
            for e in self._outbox.values():
                if e.outbox_id in wanted and e.state == "pending":
                    e.state = "delivered"
                    e.lease_until = None
                    # The platform has the subject's identifier now: the outbox forgets it.
                    e.item = dataclasses.replace(e.item, subject=None)
                    done.append(e)
            self._state_change("delivered", done)

    def mark_failed(
        self,
        ids: Sequence[int],
        error: str,
        *,
        retry_after: float = 0.0,
        attempt: bool = True,
        dead: bool = False,
    ) -> None:
        """Record a failed delivery; after ``max_attempts`` the item becomes a dead letter.

        ``attempt=False``: the platform did not answer about the items (unavailable, timeout,
        connection failure): the claim's attempt is given back, the lease released, and the
        items stay pending whatever their count. ``dead=True``: they become dead letters now
        (the sender's dead-letter age)."""
        wanted = set(_common.check_ids(ids))
        message = _common.clean_error(error)
        with self._lock:
            now = _common.now()
            died = []
            for e in self._outbox.values():
                if e.outbox_id in wanted and e.state == "pending":
                    e.last_error = message
                    e.lease_until = None
                    e.available_at = now + timedelta(seconds=max(retry_after, 0.0))
                    if not attempt:
                        e.attempts = max(e.attempts - 1, 0)
                    if dead or (attempt and e.attempts >= self._max_attempts):
                        e.state = "dead"
                        died.append(e)
            self._state_change("dead", died)

    def archive_reports(self, reports: Sequence[ArchivedReport]) -> None:
        """Keep encrypted reports (see :meth:`SQLiteQueryLog.archive_reports`)."""
        rows = _common.check_archived(reports)
        with self._lock:
            self._check_open()
            for r in rows:
                self._archive.setdefault(r.query_id, (r, _common.now()))

    def archived_report(self, query_id: str) -> ArchivedReport | None:
        with self._lock:
            found = self._archive.get(query_id)
        return None if found is None else found[0]

    def prune_archive(self, before: datetime) -> int:
        cutoff = _common.check_prune_before(before)
        with self._lock:
            doomed = [q for q, (_, at) in self._archive.items() if at < cutoff]
            for q in doomed:
                del self._archive[q]
        return len(doomed)

    def requeue_dead_letters(self, ids: Sequence[int] | None = None) -> int:
        """Move dead letters (all, or those of ``ids``) back to pending with their attempts
        reset; ids that are not dead letters are ignored. Returns how many were requeued."""
        wanted = None if ids is None else set(_common.check_ids(ids))
        with self._lock:
            self._check_open()
            now = _common.now()
            moved = []
            for e in self._outbox.values():
                if e.state == "dead" and (wanted is None or e.outbox_id in wanted):
                    e.state = "pending"
                    e.attempts = 0
                    e.lease_until = None
                    e.available_at = now
                    moved.append(e)
            self._state_change("pending", moved)
            return len(moved)

    def outbox_stats(self) -> OutboxStats:
        with self._lock:
            now = _common.now()
            entries = list(self._outbox.values())
        today = _common.today()
        groups: dict[tuple[str, str], list[_OutboxEntry]] = {}
        for e in entries:
            groups.setdefault((e.item.kind, e.state), []).append(e)
        return _common.outbox_stats(
            (
                kind,
                state,
                len(group),
                sum(1 for e in group if e.lease_until is not None and e.lease_until > now),
                min(e.enqueued_at for e in group),
                sum(1 for e in group if e.item.due_on is not None and e.item.due_on < today),
            )
            for (kind, state), group in groups.items()
        )

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        if not self._closed and self._checkpointer is not None:
            self._checkpointer.close()
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise AuditError("the query log is closed")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
