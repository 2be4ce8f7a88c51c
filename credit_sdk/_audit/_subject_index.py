"""The subject index of the SQLite query log: one subject's export (Art. 50) without a scan.

The records table has no index on the subject pseudonym on purpose: pseudonyms are random, so
such an index costs every appended record a random B-tree page write on the hot path. This
index is kept **beside** the chain instead, and filled **off** the append path, in large sorted
batches, when an export needs it (or ``SQLiteQueryLog.index_subjects`` is called):

* ``audit_subject_index (run, subject_pseudonym, seq)`` holds one entry per intent. Entries are
  grouped in *runs*, each covering a contiguous range of sequence numbers; a new run takes the
  next run number, so its entries are appended at the end of the B-tree, sorted, never
  scattered over it. Runs of similar size are merged (each merge one sequential rewrite), so
  an export probes only a few of them; a run never grows beyond ``MAX_RUN_ENTRIES``.
* ``audit_subject_runs (run, first_seq, last_seq, entries, summary)`` says which range each run
  covers. The runs tile the log from its first record up to ``indexed_through``; the records
  after it (the unindexed tail, at most ``TAIL`` of them when an export could index first) are
  scanned. ``summary`` holds, for each of 4,096 buckets of pseudonyms (by their first three
  hex digits), the number of entries and an additive digest of them.

The index is derived data and never trusted over the chain. An export reads, in every run, the
whole bucket of the subject's pseudonym and checks its count and digest against the run's
summary: an index row deleted, added or altered is found there, and the export fails with
:class:`~credit_sdk.AuditIntegrityError` instead of returning an incomplete answer. Every
record the index names must be an intent with that pseudonym, or the export fails the same way.
What an export cannot see is a *consistent* rewrite (index rows and summary changed together by
someone with write access): :func:`check` rebuilds the index's content from the chain and
compares it, run by run (``credit-sdk audit index --check``).

Each run is written in one transaction with its summary: a crash mid-build leaves whole runs
only, and the next build goes on from the last one.
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from credit_sdk._errors import AuditIntegrityError

__all__ = [
    "CHUNK_SEQS",
    "MAX_RUN_ENTRIES",
    "TAIL",
    "Run",
    "build_step",
    "check",
    "drop",
    "exists",
    "lookup",
    "prune",
    "state",
]

#: An export indexes first when more than this many records are unindexed; fewer are scanned.
TAIL = 4096
#: Records indexed per build transaction (one new run each).
CHUNK_SEQS = 131_072
#: Runs are merged while they stay below this many entries.
MAX_RUN_ENTRIES = 1 << 20

# An export reads the subject's whole bucket in every run (on a million records, about 60
# entries a run); each run's summary holds 12 bytes per bucket.
BUCKETS = 4096
# Bucket b holds the pseudonyms p with _BOUNDS[b] <= p < _BOUNDS[b + 1] (SQLite's BINARY
# collation orders text as Python orders str); for hex pseudonyms, their first three digits.
_BOUNDS = [""] + [f"{b:03x}" for b in range(1, BUCKETS)]
_SUMMARY = struct.Struct(f"<{BUCKETS}I{BUCKETS}Q")
_COUNT = struct.Struct("<I")
_DIGEST = struct.Struct("<Q")
_MASK = (1 << 64) - 1

_TABLES = (
    "CREATE TABLE IF NOT EXISTS audit_subject_runs (run INTEGER PRIMARY KEY, "
    "first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, entries INTEGER NOT NULL, "
    "summary BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit_subject_index (run INTEGER NOT NULL, "
    "subject_pseudonym TEXT NOT NULL, seq INTEGER NOT NULL, "
    "PRIMARY KEY (run, subject_pseudonym, seq)) WITHOUT ROWID",
)

_BUCKET = (
    "SELECT subject_pseudonym, seq FROM audit_subject_index WHERE run = ? "
    "AND subject_pseudonym >= ? AND subject_pseudonym < ?"
)
_BUCKET_LAST = (
    "SELECT subject_pseudonym, seq FROM audit_subject_index WHERE run = ? "
    "AND subject_pseudonym >= ?"
)

Progress = Callable[[int, int, int], None]


@dataclass(frozen=True, slots=True)
class Run:
    run: int
    first_seq: int
    last_seq: int
    entries: int
    summary: bytes


def bucket(pseudonym: str) -> int:
    return bisect_right(_BOUNDS, pseudonym) - 1


def _bucket_range(b: int) -> tuple[str, str | None]:
    return _BOUNDS[b], (_BOUNDS[b + 1] if b + 1 < BUCKETS else None)


def entry_digest(pseudonym: str, seq: int) -> int:
    data = b"%s\x00%d" % (pseudonym.encode("utf-8", "surrogatepass"), seq)
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def summarize(entries: Iterable[tuple[str, int]]) -> bytes:
    counts = [0] * BUCKETS
    digests = [0] * BUCKETS
    for pseudonym, seq in entries:
        b = bucket(pseudonym)
        counts[b] += 1
        digests[b] = (digests[b] + entry_digest(pseudonym, seq)) & _MASK
    return _SUMMARY.pack(*counts, *digests)


def _read_summary(run: Run) -> tuple[Sequence[int], Sequence[int]]:
    _check_summary(run)
    values = _SUMMARY.unpack(run.summary)
    return values[:BUCKETS], values[BUCKETS:]


def _check_summary(run: Run) -> None:
    if not isinstance(run.summary, bytes) or len(run.summary) != _SUMMARY.size:
        raise _broken(run, "its summary is not readable")


def _bucket_summary(run: Run, b: int) -> tuple[int, int]:
    """One bucket's (count, digest), read without unpacking the other 4,095."""
    _check_summary(run)
    (count,) = _COUNT.unpack_from(run.summary, 4 * b)
    (digest,) = _DIGEST.unpack_from(run.summary, 4 * BUCKETS + 8 * b)
    return int(count), int(digest)


def _combine(a: Run, b: Run) -> bytes:
    ca, da = _read_summary(a)
    cb, db = _read_summary(b)
    return _SUMMARY.pack(
        *(x + y for x, y in zip(ca, cb, strict=True)),
        *((x + y) & _MASK for x, y in zip(da, db, strict=True)),
    )


def _broken(run: Run | None, detail: str) -> AuditIntegrityError:
    where = f"records {run.first_seq}..{run.last_seq}" if run is not None else "its ranges"
    return AuditIntegrityError(
        f"the subject index does not match the query log ({where}: {detail}); the chain itself "
        "is checked by `credit-sdk audit verify`, and `credit-sdk audit index --rebuild` "
        "rebuilds the index from it"
    )


def exists(conn: sqlite3.Connection) -> bool:
    (count,) = conn.execute(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN "
        "('audit_subject_runs', 'audit_subject_index')"
    ).fetchone()
    return int(count) == 2


def _runs(conn: sqlite3.Connection) -> list[Run]:
    return [
        Run(*r)
        for r in conn.execute(
            "SELECT run, first_seq, last_seq, entries, summary FROM audit_subject_runs "
            "ORDER BY first_seq"
        )
    ]


def _tiled(runs: list[Run], first_record: int | None) -> int | None:
    """The last indexed sequence number, after checking that the runs tile the log from its
    first record without a gap or an overlap; ``None`` when nothing is indexed."""
    if not runs:
        return None
    if first_record is not None and runs[0].first_seq > first_record:
        raise _broken(runs[0], f"the records from {first_record} on are not covered")
    for before, after in pairwise(runs):
        if after.first_seq != before.last_seq + 1 or after.first_seq > after.last_seq:
            raise _broken(after, f"it does not follow the run ending at {before.last_seq}")
    return runs[-1].last_seq


def _bounds(conn: sqlite3.Connection) -> tuple[int | None, int | None]:
    # Two subqueries: SQLite answers each from the end of the rowid B-tree, where one
    # SELECT MIN(seq), MAX(seq) would scan the table.
    first, last = conn.execute(
        "SELECT (SELECT MIN(seq) FROM audit_records), (SELECT MAX(seq) FROM audit_records)"
    ).fetchone()
    return first, last


def state(conn: sqlite3.Connection) -> tuple[int | None, int | None]:
    """``(indexed_through, newest record)`` as seen on ``conn`` (no index: ``None``)."""
    first, last = _bounds(conn)
    if not exists(conn):
        return None, last
    return _tiled(_runs(conn), first), last


def build_step(conn: sqlite3.Connection, *, upto: int | None = None) -> tuple[int, int] | None:
    """Index the next chunk of records (at most ``CHUNK_SEQS``), as one new run, and merge
    runs; call inside a write transaction. Returns ``(indexed_through, newest record)``, or
    ``None`` when there was nothing (left) to index."""
    for statement in _TABLES:
        conn.execute(statement)
    first, last = _bounds(conn)
    if first is None or last is None:
        return None
    runs = _runs(conn)
    through = _tiled(runs, first)
    start = first if through is None else through + 1
    end = min(last if upto is None else upto, start + CHUNK_SEQS - 1)
    if end < start:
        return None
    entries = sorted(
        conn.execute(
            "SELECT subject_pseudonym, seq FROM audit_records WHERE seq BETWEEN ? AND ? "
            "AND kind = 'intent' AND typeof(subject_pseudonym) = 'text'",
            (start, end),
        )
    )
    number = _next_run(conn)
    conn.executemany(
        "INSERT INTO audit_subject_index (run, subject_pseudonym, seq) VALUES (?, ?, ?)",
        [(number, p, s) for p, s in entries],
    )
    new = Run(number, start, end, len(entries), summarize(entries))
    conn.execute(
        "INSERT INTO audit_subject_runs (run, first_seq, last_seq, entries, summary) "
        "VALUES (?, ?, ?, ?, ?)",
        (new.run, new.first_seq, new.last_seq, new.entries, new.summary),
    )
    _merge(conn, [*runs, new])
    return end, last


def _next_run(conn: sqlite3.Connection) -> int:
    # Past every run number in either table: entries left behind by a deleted run row never
    # mix with a new run's.
    (number,) = conn.execute(
        "SELECT MAX(COALESCE((SELECT MAX(run) FROM audit_subject_runs), 0), "
        "COALESCE((SELECT MAX(run) FROM audit_subject_index), 0)) + 1"
    ).fetchone()
    return int(number)


def _merge(conn: sqlite3.Connection, runs: list[Run]) -> None:
    # Size-tiered: the newest run merges into the one before while it is at least half its
    # size, so run sizes fall geometrically and there are few of them.
    while len(runs) >= 2:
        a, b = runs[-2], runs[-1]
        if a.entries > 2 * b.entries or a.entries + b.entries > MAX_RUN_ENTRIES:
            return
        number = _next_run(conn)
        conn.execute(
            "INSERT INTO audit_subject_index (run, subject_pseudonym, seq) "
            "SELECT ?, subject_pseudonym, seq FROM audit_subject_index WHERE run IN (?, ?) "
            "ORDER BY subject_pseudonym, seq",
            (number, a.run, b.run),
        )
        conn.execute("DELETE FROM audit_subject_index WHERE run IN (?, ?)", (a.run, b.run))
        conn.execute("DELETE FROM audit_subject_runs WHERE run IN (?, ?)", (a.run, b.run))
        merged = Run(number, a.first_seq, b.last_seq, a.entries + b.entries, _combine(a, b))
        conn.execute(
            "INSERT INTO audit_subject_runs (run, first_seq, last_seq, entries, summary) "
            "VALUES (?, ?, ?, ?, ?)",
            (merged.run, merged.first_seq, merged.last_seq, merged.entries, merged.summary),
        )
        runs[-2:] = [merged]


def lookup(conn: sqlite3.Connection, pseudonym: str) -> tuple[list[int], int | None]:
    """The sequence numbers of ``pseudonym``'s indexed intents, and how far the index reaches
    (``None``: no index). Each run's bucket of that pseudonym is read whole and checked
    against the run's summary."""
    if not exists(conn):
        return [], None
    first, _ = _bounds(conn)
    runs = _runs(conn)
    through = _tiled(runs, first)
    b = bucket(pseudonym)
    low, high = _bucket_range(b)
    sql = _BUCKET_LAST if high is None else _BUCKET
    found: list[int] = []
    for run in runs:
        want_count, want_digest = _bucket_summary(run, b)
        params: tuple[object, ...] = (run.run, low) if high is None else (run.run, low, high)
        count = digest = 0
        for p, s in conn.execute(sql, params):
            if not isinstance(s, int) or not run.first_seq <= s <= run.last_seq:
                raise _broken(run, "an entry lies outside its range")
            count += 1
            digest = (digest + entry_digest(p, s)) & _MASK
            if p == pseudonym:
                found.append(s)
        if count != want_count or digest != want_digest:
            raise _broken(run, "its entries differ from its summary")
    found.sort()
    return found, through


def drop(conn: sqlite3.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS audit_subject_index")
    conn.execute("DROP TABLE IF EXISTS audit_subject_runs")


def prune(conn: sqlite3.Connection, last_pruned: int) -> None:
    """Inside the prune's transaction: drop the index of the records up to ``last_pruned``,
    so that the runs still tile the log from its new first record."""
    if not exists(conn):
        return
    for run in _runs(conn):
        if run.last_seq <= last_pruned:
            conn.execute("DELETE FROM audit_subject_index WHERE run = ?", (run.run,))
            conn.execute("DELETE FROM audit_subject_runs WHERE run = ?", (run.run,))
        elif run.first_seq <= last_pruned:
            conn.execute(
                "DELETE FROM audit_subject_index WHERE run = ? AND seq <= ?", (run.run, last_pruned)
            )
            kept = conn.execute(
                "SELECT subject_pseudonym, seq FROM audit_subject_index WHERE run = ?", (run.run,)
            ).fetchall()
            conn.execute(
                "UPDATE audit_subject_runs SET first_seq = ?, entries = ?, summary = ? "
                "WHERE run = ?",
                (last_pruned + 1, len(kept), summarize(kept), run.run),
            )


def check(conn: sqlite3.Connection, progress: Progress | None = None) -> str | None:
    """Compare the whole index with the chain, run by run: ``None`` when every run holds
    exactly the intents of its range (and its summary matches), else what differs."""
    if not exists(conn):
        return None
    first, _ = _bounds(conn)
    try:
        runs = _runs(conn)
        through = _tiled(runs, first)
    except AuditIntegrityError as err:
        return str(err)
    total = 0 if through is None or not runs else through - runs[0].first_seq + 1
    done = 0
    for run in runs:
        stored = conn.execute(
            "SELECT subject_pseudonym, seq FROM audit_subject_index WHERE run = ? "
            "ORDER BY subject_pseudonym, seq",
            (run.run,),
        ).fetchall()
        chained = sorted(
            conn.execute(
                "SELECT subject_pseudonym, seq FROM audit_records WHERE seq BETWEEN ? AND ? "
                "AND kind = 'intent' AND typeof(subject_pseudonym) = 'text'",
                (run.first_seq, run.last_seq),
            )
        )
        if stored != chained or len(stored) != run.entries or run.summary != summarize(stored):
            return str(_broken(run, "its entries differ from the intents of that range"))
        done += run.last_seq - run.first_seq + 1
        if progress is not None:
            progress(done, total, 0)
    return None
