"""The hash chain behind the query log's tamper evidence (Art. 25).

Every record, whatever its kind, is stored with its sequence number ``seq`` (1, 2, 3 ...),
the hash of its predecessor ``prev_hash`` (64 zeros for the first record ever written) and its
own ``hash``::

    hash = SHA-256( b"credit-sdk/query-log\\0"
                    + canonical_json({"v": 1, "seq": .., "kind": .., "id": ..,
                                      "prev": .., "at": ..})
                    + b"\\n" + body )

where ``canonical_json`` is sorted-key compact JSON in UTF-8, ``at`` the store's write time
(fixed-width UTC ISO 8601) and ``body`` the record's own canonical JSON, stored byte for byte.
The domain prefix keeps these digests from being confused with any other SHA-256 use; the
``v`` field lets a later format coexist with this one.

``seq`` is inside the hash, so moving a record (renumbering) breaks it just as editing does,
and the verifier can tell *what* happened by trying the neighbouring positions. Columns that
are stored beside the body for indexing (organ, pseudonym, time, outcome) are checked against
the body too, so editing them is also caught.

Pruning (see :func:`checkpoint_record`) deletes a prefix of the chain and appends a
*checkpoint* record that names the pruned range and the hash of its last record; the first
record kept still links to that hash, so verification starts from the checkpoint.

The limit of any hash chain: someone who can write the database can recompute every hash after
the point they change. Verification reports the head hash; keeping it somewhere else (a ticket,
a signed report, another system) turns that into detectable tampering too.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from credit_sdk._audit._outbox_records import body_problem
from credit_sdk._audit._types import (
    HEAD_TABLE,
    AuditRecord,
    BreakKind,
    QueryCompletion,
    QueryIntent,
    RecordKind,
    VerifyResult,
    canonical_json,
    iso,
    json_str,
    parse_iso,
)
from credit_sdk._audit._witness import SignedCheckpoint
from credit_sdk._errors import AuditError, AuditIntegrityError

__all__ = [
    "FORMAT_VERSION",
    "GENESIS_HASH",
    "LINKED_COLUMNS",
    "PendingRecord",
    "StoredRow",
    "broken_head",
    "chain",
    "checkpoint_record",
    "encode",
    "head_problem",
    "link",
    "read_head",
    "record_hash",
    "signed_checkpoint_record",
    "verify_rows",
]

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64
_DOMAIN = b"credit-sdk/query-log\x00"
_HEX64 = frozenset("0123456789abcdef")


def head_problem(rows: Sequence[Sequence[Any]]) -> tuple[tuple[int, str] | None, str | None]:
    """The chain head from every row of the head table (``id, seq, hash``), or what is wrong
    with it: a missing, duplicated or malformed head row is a broken chain, never a crash."""
    if not rows:
        return None, f"the chain head row ({HEAD_TABLE}) is missing"
    if len(rows) > 1:
        return None, f"the chain head table ({HEAD_TABLE}) holds {len(rows)} rows instead of one"
    ident, seq, digest = rows[0]
    if (
        ident != 1
        or not isinstance(seq, int)
        or isinstance(seq, bool)
        or seq < 0
        or not isinstance(digest, str)
        or len(digest) != 64
        or not set(digest) <= _HEX64
    ):
        return None, f"the chain head row ({HEAD_TABLE}) is malformed"
    return (seq, digest), None


def read_head(rows: Sequence[Sequence[Any]]) -> tuple[int, str]:
    """:func:`head_problem` for writers: the head, or :class:`AuditIntegrityError` naming the
    problem (the write fails closed)."""
    head, problem = head_problem(rows)
    if head is None:
        raise broken_head(problem)
    return head


def broken_head(problem: str | None) -> AuditIntegrityError:
    """The error a write raises when the chain head row is not usable (it writes nothing)."""
    return AuditIntegrityError(
        f"the query log's chain is broken: {problem or head_problem(())[1]}; nothing was "
        "written (run credit-sdk audit verify)"
    )


# How far ahead the verifier looks to tell a reordering or an insertion from an edit.
_LOOKAHEAD = 8


class PendingRecord:
    """A record encoded for storage but not yet placed in the chain.

    Everything that does not depend on the record's place in the chain is prepared here, in
    the caller's thread: the canonical body, its UTF-8 bytes and the fixed part of the hashed
    header. The single writer then only formats ``seq`` and ``prev``, hashes once and inserts.
    """

    __slots__ = ("_id_part", "_tail", "columns")

    #: Stored columns in the order of :data:`LINKED_COLUMNS` (the first eight).
    columns: tuple[str, str, str | None, str | None, str | None, str | None, str | None, str]

    def __init__(
        self,
        record_id: str,
        kind: RecordKind,
        query_id: str | None,
        event_at: str | None,
        organ: str | None,
        subject_pseudonym: str | None,
        outcome: str | None,
        body: str,
    ) -> None:
        self.columns = (
            record_id, kind, query_id, event_at, organ, subject_pseudonym, outcome, body,
        )  # fmt: skip
        kind_part = _KIND_PARTS.get(kind) or f',"kind":{json_str(kind)},"prev":'
        self._id_part = (_json_str(record_id) + kind_part).encode()
        self._tail = _HEADER_END + body.encode("utf-8")

    @property
    def record_id(self) -> str:
        return self.columns[0]

    @property
    def kind(self) -> RecordKind:
        kind: RecordKind = self.columns[1]  # type: ignore[assignment]  # set from a RecordKind
        return kind

    @property
    def query_id(self) -> str | None:
        return self.columns[2]

    @property
    def body(self) -> str:
        return self.columns[7]

    def __repr__(self) -> str:
        return f"PendingRecord({self.record_id!r})"


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A chained record as every store keeps it (times as fixed-width UTC ISO text)."""

    seq: int
    record_id: str
    kind: str
    query_id: str | None
    recorded_at: str
    event_at: str | None
    organ: str | None
    subject_pseudonym: str | None
    outcome: str | None
    body: str
    prev_hash: str
    hash: str

    def to_record(self) -> AuditRecord:
        kind: RecordKind = self.kind  # type: ignore[assignment]  # checked by verify
        return AuditRecord(
            seq=self.seq,
            record_id=self.record_id,
            kind=kind,
            query_id=self.query_id,
            recorded_at=parse_iso(self.recorded_at),
            prev_hash=self.prev_hash,
            hash=self.hash,
            body=self.body,
        )


def encode(record: QueryIntent | QueryCompletion) -> PendingRecord:
    """Serialise an intent or completion to its canonical body and index columns."""
    if isinstance(record, QueryIntent):
        at = iso(record.requested_at)
        qid = record.query_id
        return PendingRecord(
            f"intent:{qid}", "intent", qid, at, record.organ, record.subject_pseudonym, None,
            record.canonical_body(at),
        )  # fmt: skip
    if isinstance(record, QueryCompletion):
        at = iso(record.completed_at)
        qid = record.query_id
        return PendingRecord(
            f"completion:{qid}", "completion", qid, at, None, None, record.outcome,
            record.canonical_body(at),
        )  # fmt: skip
    raise TypeError(f"expected QueryIntent or QueryCompletion, got {type(record).__name__}")


def header_json(seq: int, kind: str, record_id: str, prev_hash: str, recorded_at: str) -> str:
    """The canonical JSON of a record's header (what precedes its body in the hash)."""
    return canonical_json(
        {
            "v": FORMAT_VERSION,
            "seq": seq,
            "kind": kind,
            "id": record_id,
            "prev": prev_hash,
            "at": recorded_at,
        }
    )


# The header is formatted directly rather than through canonical_json: keys in sorted order,
# strings through the same encoder, so the bytes are the same (tests hold the two together).
_json_str = encode_basestring
_KIND_PARTS = {
    k: f',"kind":{json_str(k)},"prev":'
    for k in (
        "intent",
        "completion",
        "checkpoint",
        "signed_checkpoint",
        "outbox",
        "outbox_state",
        "outbox_adopted",
    )
}
_HEADER_END = f',"v":{FORMAT_VERSION}}}\n'.encode()


def _lead(recorded_at: str) -> bytes:
    return _DOMAIN + f'{{"at":{_json_str(recorded_at)},"id":'.encode()


def record_hash(
    *, seq: int, kind: str, record_id: str, prev_hash: str, recorded_at: str, body: str
) -> str:
    if type(seq) is not int:
        header = header_json(seq, kind, record_id, prev_hash, recorded_at).encode()
        return hashlib.sha256(_DOMAIN + header + b"\n" + body.encode("utf-8")).hexdigest()
    return hashlib.sha256(
        b"%s%s,\"kind\":%s,\"prev\":%s,\"seq\":%d%s%s"
        % (
            _lead(recorded_at), _json_str(record_id).encode(), _json_str(kind).encode(),
            _json_str(prev_hash).encode(), seq, _HEADER_END, body.encode("utf-8"),
        )
    ).hexdigest()  # fmt: skip


#: The column order of the tuples :func:`link` returns (what the stores insert).
LINKED_COLUMNS = (
    "record_id, kind, query_id, event_at, organ, subject_pseudonym, outcome, body, "
    "recorded_at, seq, prev_hash, hash"
)


def link(
    pending: Iterable[PendingRecord], head_seq: int, head_hash: str, recorded_at: str
) -> list[tuple[Any, ...]]:
    """Place ``pending`` after the head (``head_seq``, ``head_hash``), in order, as rows in
    :data:`LINKED_COLUMNS` order. One SHA-256 call per record over bytes mostly prepared by
    the caller; no object per record beyond the row tuple."""
    lead = _lead(recorded_at)
    sha256 = hashlib.sha256
    rows = []
    seq, prev = head_seq, head_hash
    prev_json = _json_str(prev).encode()
    for p in pending:
        seq += 1
        digest = sha256(b'%s%s%s,"seq":%d%s' % (lead, p._id_part, prev_json, seq, p._tail))
        hexdigest = digest.hexdigest()
        rows.append((*p.columns, recorded_at, seq, prev, hexdigest))
        prev = hexdigest
        prev_json = b'"%s"' % hexdigest.encode()
    return rows


def chain(
    pending: Iterable[PendingRecord], head_seq: int, head_hash: str, recorded_at: str
) -> list[StoredRow]:
    """Place ``pending`` after the head (``head_seq``, ``head_hash``), in order."""
    return [
        StoredRow(seq, rid, kind, qid, at, event_at, organ, pseud, outcome, body, prev, digest)
        for (rid, kind, qid, event_at, organ, pseud, outcome, body, at, seq, prev, digest)
        in link(pending, head_seq, head_hash, recorded_at)
    ]  # fmt: skip


def checkpoint_record(
    *,
    first_pruned_seq: int,
    last_pruned_seq: int,
    pruned_head_hash: str,
    before: str,
    oldest_recorded_at: str,
    newest_recorded_at: str,
) -> PendingRecord:
    """The record that stands for a pruned prefix ``first_pruned_seq..last_pruned_seq``.

    ``pruned_head_hash`` is the hash of record ``last_pruned_seq``, which the first record kept
    names as its ``prev_hash``: that is what lets verification resume there.
    """
    body = {
        "pruned_first_seq": first_pruned_seq,
        "pruned_last_seq": last_pruned_seq,
        "pruned_count": last_pruned_seq - first_pruned_seq + 1,
        "pruned_head_hash": pruned_head_hash,
        "before": before,
        "oldest_recorded_at": oldest_recorded_at,
        "newest_recorded_at": newest_recorded_at,
    }
    return PendingRecord(
        f"checkpoint:{last_pruned_seq}",
        "checkpoint",
        None,
        None,
        None,
        None,
        None,
        canonical_json(body),
    )


def signed_checkpoint_record(checkpoint: SignedCheckpoint) -> PendingRecord:
    """The chained record of a signed checkpoint; it follows the record it names."""
    return PendingRecord(
        f"signed_checkpoint:{checkpoint.seq}", "signed_checkpoint", None, None, None, None, None,
        checkpoint.to_json(),
    )  # fmt: skip


def _signed_checkpoint(row: StoredRow) -> SignedCheckpoint | None:
    try:
        return SignedCheckpoint.from_json(row.body)
    except AuditError:
        return None


def _hash_at(row: StoredRow, seq: int) -> str:
    return record_hash(
        seq=seq, kind=row.kind, record_id=row.record_id, prev_hash=row.prev_hash,
        recorded_at=row.recorded_at, body=row.body,
    )  # fmt: skip


def _consistent(row: StoredRow) -> bool:
    """Do the index columns agree with the hashed body and header?"""
    try:
        body: dict[str, Any] = json.loads(row.body)
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    if row.kind == "intent":
        return (
            row.record_id == f"intent:{row.query_id}"
            and body.get("query_id") == row.query_id
            and body.get("requested_at") == row.event_at
            and body.get("organ") == row.organ
            and body.get("subject_pseudonym") == row.subject_pseudonym
            and row.outcome is None
        )
    if row.kind == "completion":
        return (
            row.record_id == f"completion:{row.query_id}"
            and body.get("query_id") == row.query_id
            and body.get("completed_at") == row.event_at
            and body.get("outcome") == row.outcome
            and row.organ is None
            and row.subject_pseudonym is None
        )
    if row.kind == "signed_checkpoint":
        cp = _signed_checkpoint(row)
        return (
            cp is not None
            and row.record_id == f"signed_checkpoint:{cp.seq}"
            and row.body == cp.to_json()
            and row.query_id is None
            and row.event_at is None
            and row.organ is None
            and row.subject_pseudonym is None
            and row.outcome is None
        )
    if row.kind in ("outbox", "outbox_state", "outbox_adopted"):
        return (
            row.record_id.startswith(row.kind + ":")
            and row.query_id is None
            and row.event_at is None
            and row.organ is None
            and row.subject_pseudonym is None
            and row.outcome is None
            and not body_problem(row.kind, row.body)
        )
    if row.kind == "checkpoint":
        return (
            row.query_id is None
            and row.record_id == f"checkpoint:{body.get('pruned_last_seq')}"
            and isinstance(body.get("pruned_head_hash"), str)
        )
    return False


def _checkpoint_last(row: StoredRow) -> int | None:
    try:
        value = json.loads(row.body).get("pruned_last_seq")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


class _Walk:
    """Streams rows in ``seq`` order with a small look-ahead window."""

    def __init__(self, rows: Iterable[StoredRow]) -> None:
        self._it: Iterator[StoredRow] = iter(rows)
        self._buf: deque[StoredRow] = deque()

    def ahead(self, n: int) -> list[StoredRow]:
        while len(self._buf) < n:
            nxt = next(self._it, None)
            if nxt is None:
                break
            self._buf.append(nxt)
        return list(self._buf)[:n]

    def pop(self) -> StoredRow | None:
        if self._buf:
            return self._buf.popleft()
        return next(self._it, None)


def verify_rows(
    rows: Iterable[StoredRow],
    *,
    checkpoints: Sequence[StoredRow],
    head: tuple[int, str] | None,
    head_fault: str | None = None,
    witnessed: Mapping[int, tuple[str, str]] | None = None,
    public_key: bytes | None = None,
) -> VerifyResult:
    """Walk ``rows`` (ascending ``seq``) and report the first broken link.

    ``witnessed`` maps positions to the hash a witness holds for them (and a phrase naming the
    witness): the record there must have exactly that hash, and the chain must reach it, so a
    consistent rewrite or a truncation at or before a witnessed position is found.
    ``public_key`` checks the signature of every signed checkpoint in the chain.

    ``checkpoints`` are all checkpoint rows (to anchor a pruned chain); ``head`` is the chain
    head the store keeps separately (``None`` to skip that cross-check), which catches records
    removed from the end. ``head_fault`` says what is wrong with the head row when the store
    could not read one (missing, duplicated, malformed): the chain is then broken there.
    """
    walk = _Walk(rows)
    first_rows = walk.ahead(1)
    head_seq, head_hash = head if head is not None else (0, GENESIS_HASH)
    witnessed = dict(witnessed or {})
    if head_fault is not None and not first_rows:
        return _broken(0, 0, GENESIS_HASH, 0, 0, None, "head", head_fault)
    if not first_rows and witnessed:
        w = min(witnessed)
        return _broken(0, head_seq, head_hash, 0, 1, None, "deleted",
                       f"{witnessed[w][1]} names record {w}, but no records are left")  # fmt: skip
    if not first_rows:
        if head_seq > 0:
            detail = f"the chain head names record {head_seq} but no records are left"
            return _broken(0, head_seq, head_hash, 0, 1, None, "deleted", detail)
        return VerifyResult(ok=True, count=0, head_seq=0, head_hash=GENESIS_HASH)
    first = first_rows[0]

    pruned = 0
    expected_prev = GENESIS_HASH
    if first.seq != 1:
        anchor = None
        covered = 0
        for cp in checkpoints:
            last = _checkpoint_last(cp)
            if last is None:
                continue
            covered = max(covered, last)
            if last == first.seq - 1:
                anchor = cp
        if anchor is None:
            return _broken(0, head_seq, head_hash, 0, covered + 1, None, "deleted",
                           f"records {covered + 1}..{first.seq - 1} are missing and no "
                           "checkpoint accounts for them")  # fmt: skip
        expected_prev = str(json.loads(anchor.body).get("pruned_head_hash"))
        pruned = first.seq - 1

    expected_seq = first.seq
    proven: int | None = None
    history: deque[StoredRow] = deque(maxlen=2)
    count = 0
    row_after_head: StoredRow | None = None
    last_row: StoredRow | None = None
    while (row := walk.pop()) is not None:
        found = _classify(row, expected_seq, expected_prev, history, walk.ahead(_LOOKAHEAD))
        if found is not None:
            position, record_id, kind, detail = found
            return _broken(
                pruned, head_seq, head_hash, position - first.seq, position, record_id, kind, detail
            )
        if row.kind == "signed_checkpoint":
            problem = _check_signed(row, public_key)
            if problem is not None:
                return _broken(pruned, head_seq, head_hash, row.seq - first.seq, row.seq,
                               row.record_id, "changed", problem)  # fmt: skip
        if row.seq in witnessed:
            digest, what = witnessed[row.seq]
            if row.hash != digest:
                before = [s for s in witnessed if first.seq <= s < row.seq]
                since = f"after record {max(before)}, " if before else ""
                return _broken(pruned, head_seq, head_hash, row.seq - first.seq, row.seq,
                               row.record_id, "changed",
                               f"it differs from {what}: the chain was rewritten {since}at or "
                               "before this record")  # fmt: skip
            proven = row.seq
        history.append(row)
        expected_prev = row.hash
        expected_seq += 1
        count += 1
        last_row = row
        if head is not None and row.seq == head_seq + 1:
            row_after_head = row

    assert last_row is not None
    beyond = [s for s in witnessed if s > last_row.seq]
    if beyond:
        w = max(beyond)
        return _broken(pruned, head_seq, head_hash, count, last_row.seq + 1, None, "deleted",
                       f"{witnessed[w][1]} names record {w}, but the chain ends at record "
                       f"{last_row.seq}: records at the end were removed")  # fmt: skip
    if head_fault is not None:
        return _broken(pruned, last_row.seq, last_row.hash, count, last_row.seq, None, "head",
                       f"{head_fault}: nothing proves where the chain ends")  # fmt: skip
    if head is not None:
        if head_seq > last_row.seq:
            return _broken(pruned, head_seq, head_hash, count, last_row.seq + 1, None, "deleted",
                           f"the chain head names record {head_seq} but the last record is "
                           f"{last_row.seq}: records at the end were removed")  # fmt: skip
        if head_seq < last_row.seq:
            rid = row_after_head.record_id if row_after_head is not None else None
            detail = "records follow the chain head that no writer recorded"
            verified = head_seq - first.seq + 1
            return _broken(
                pruned, head_seq, head_hash, verified, head_seq + 1, rid, "inserted", detail
            )
        if head_hash != last_row.hash:
            return _broken(pruned, head_seq, head_hash, count - 1, last_row.seq, last_row.record_id,
                           "changed", "the newest record differs from the chain head")  # fmt: skip
    return VerifyResult(
        ok=True,
        count=count,
        head_seq=last_row.seq,
        head_hash=last_row.hash,
        pruned=pruned,
        witnessed_seq=proven,
    )


def _check_signed(row: StoredRow, public_key: bytes | None) -> str | None:
    """What is wrong with a signed checkpoint record that is otherwise intact, or ``None``."""
    cp = _signed_checkpoint(row)
    if cp is None:  # pragma: no cover - _consistent() refused it already
        return "the checkpoint cannot be read"
    # prev_hash was checked against the record before (or the prune anchor) already.
    if cp.seq != row.seq - 1 or cp.hash != row.prev_hash:
        return "the signed checkpoint does not name the record before it"
    if public_key is not None and not cp.verify(public_key):
        return "the checkpoint's signature does not verify under the given public key"
    return None


def _broken(
    pruned: int,
    head_seq: int,
    head_hash: str,
    count: int,
    position: int,
    record_id: str | None,
    kind: BreakKind,
    detail: str,
) -> VerifyResult:
    return VerifyResult(
        ok=False,
        count=max(count, 0),
        head_seq=head_seq,
        head_hash=head_hash,
        pruned=pruned,
        position=position,
        record_id=record_id,
        break_kind=kind,
        detail=detail,
    )


def _classify(
    row: StoredRow,
    p: int,
    expected_prev: str,
    history: deque[StoredRow],
    ahead: list[StoredRow],
) -> tuple[int, str | None, BreakKind, str] | None:
    """``None`` if ``row`` is the intact record expected at position ``p``, else the break."""
    if row.seq > p:
        return (p, None, "deleted", f"records {p}..{row.seq - 1} are missing")
    if row.seq < p:
        return (row.seq, row.record_id, "inserted", "a second record holds this position")
    intact = _hash_at(row, row.seq) == row.hash
    consistent = _consistent(row)
    if intact and consistent and row.prev_hash == expected_prev:
        return None

    later = {r.hash for r in ahead}
    if intact and consistent:
        # The record itself is whole, but it does not link to its predecessor.
        if row.prev_hash in later:
            return (p, row.record_id, "reordered", "it links to a record stored after it")
        if ahead and ahead[0].prev_hash == expected_prev:
            return (p, row.record_id, "inserted", "the next record links past it")
        if len(history) == 2 and row.prev_hash == history[0].hash:
            prev = history[1]
            return (prev.seq, prev.record_id, "inserted", "the next record links past it")
        if history:
            prev = history[-1]
            detail = "its hash is not the one its successor recorded (rewritten and rehashed)"
            return (prev.seq, prev.record_id, "changed", detail)
        return (p, row.record_id, "changed", "it does not link to the checkpoint or genesis")
    if intact:
        return (p, row.record_id, "changed", "stored columns disagree with the hashed body")

    # The stored hash does not match at this position: was the record moved here?
    for s in (p + 1, p - 1, *range(p + 2, p + _LOOKAHEAD + 1)):
        if s < 1 or _hash_at(row, s) != row.hash:
            continue
        if row.prev_hash in later:
            return (p, row.record_id, "reordered", f"it was written at position {s}")
        if s < p and history:
            prev = history[-1]
            return (prev.seq, prev.record_id, "inserted", "the records after it were renumbered")
        if s > p:
            return (
                p,
                None,
                "deleted",
                f"records {p}..{s - 1} are missing and later ones renumbered",
            )
    if ahead and ahead[0].prev_hash == expected_prev and _hash_at(ahead[0], p) == ahead[0].hash:
        return (p, row.record_id, "inserted", "the next record was written at this position")
    return (p, row.record_id, "changed", "its content does not match its hash")
