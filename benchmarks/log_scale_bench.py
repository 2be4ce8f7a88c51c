"""S2: the query log at a million records: streaming verification and one subject's export.

A SQLite log of ``RECORDS`` chained records (half intents, half completions, about
``SUBJECTS`` subjects) is generated once per run, fast: the records are built from two
canonical templates, chained with the store's own ``link()`` and bulk-inserted in one
transaction (generation is not measured, and is not durable: it only has to be valid). Then:

* ``verify()`` in a fresh interpreter, on the full log and on a log a tenth of its size: time
  per record and the interpreter's peak resident memory for each (constant memory: the peak
  at the full size within 10 % + 4 MiB of the peak at a tenth);
* ``export(subject_pseudonym=...)`` of one subject (about ``RECORDS / SUBJECTS`` records):
  wall time, against the goal of 50 ms. The generated log is an "old" log without a subject
  index: building it (what the first export of such a log does) is timed on its own, then
  exports of the indexed log, then exports after the store appended the longest tail an export
  scans rather than indexes (``_subject_index.TAIL`` records).

The same records are then copied into a PostgreSQL log (when the server binaries are there;
the cluster is started by the harness the tests use), whose export reads its ordinary index on
the subject pseudonym: wall and client CPU time of the same exports.

Run alone with ``python -m benchmarks.log_scale_bench`` or through ``make bench``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._common import REPEAT, row, summary
from credit_sdk import PostgresQueryLog, QueryCompletion, QueryIntent, SQLiteQueryLog
from credit_sdk._audit import _subject_index
from credit_sdk._audit._chain import GENESIS_HASH, LINKED_COLUMNS, PendingRecord, encode, link
from credit_sdk._audit._types import iso

Row = dict[str, Any]
NOTES: list[str] = []
RECORDS = 1_000_000
SMALL = RECORDS // 10
SUBJECTS = 5_000
EXPORT_GOAL_MS = 50.0
_QID = "a" * 32  # template values, replaced per record
_PSEUDONYM = "f" * 64


def _templates() -> tuple[PendingRecord, PendingRecord]:
    at = dt.datetime(2026, 11, 29, 1, 2, 3, 456789, tzinfo=dt.UTC)
    intent = QueryIntent(
        query_id=_QID, requested_at=at, organ="230100-GGZY", operator="u1024",
        matter_code="BID-2026-017", purpose="qualification screening of the bidders",
        scenario="bidding", subject_pseudonym=_PSEUDONYM, subject_display="9123**********Y4K",
        subject_kind="uscc",
    )  # fmt: skip
    completion = QueryCompletion(
        query_id=_QID, completed_at=at, outcome="RESTRICTED", policy_profile="hlj-draft-2021",
        applied_measure_ids=("HLJ-SUP-42.3-01", "HLJ-RES-41.3-02"), report_id="RPT-1",
    )  # fmt: skip
    return encode(intent), encode(completion)


def _pseudonyms() -> list[str]:
    return [hashlib.sha256(b"bench subject %d" % i).hexdigest() for i in range(SUBJECTS)]


def _chained(records: int) -> Iterator[list[tuple[Any, ...]]]:
    """The generated log's rows (``LINKED_COLUMNS`` order), a chunk at a time."""
    intent, completion = _templates()
    pseudonyms = _pseudonyms()
    recorded_at = iso(dt.datetime(2026, 11, 29, 1, 2, 4, tzinfo=dt.UTC))
    seq, head = 0, GENESIS_HASH
    chunk = 50_000
    for start in range(0, records // 2, chunk // 2):
        pending = []
        for i in range(start, min(start + chunk // 2, records // 2)):
            qid = f"{0x190000000000 + i:012x}{i:020x}"
            pseud = pseudonyms[(i * 7919) % SUBJECTS]
            _, _, _, at, organ, _, _, body = intent.columns
            pending.append(PendingRecord(
                f"intent:{qid}", "intent", qid, at, organ, pseud, None,
                body.replace(_QID, qid).replace(_PSEUDONYM, pseud),
            ))  # fmt: skip
            _, _, _, at, _, _, outcome, body = completion.columns
            pending.append(PendingRecord(
                f"completion:{qid}", "completion", qid, at, None, None, outcome,
                body.replace(_QID, qid),
            ))  # fmt: skip
        rows = link(pending, seq, head, recorded_at)
        yield rows
        seq, head = rows[-1][-3], rows[-1][-1]


def generate(path: Path, records: int) -> list[str]:
    """Write a valid chained log of ``records`` records at ``path``; returns the pseudonyms."""
    SQLiteQueryLog(path).close()  # the store's own schema
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    from credit_sdk._audit.sqlite import _INSERT_RECORD

    seq, head = 0, GENESIS_HASH
    conn.execute("BEGIN")
    for rows in _chained(records):
        conn.executemany(_INSERT_RECORD, rows)
        seq, head = rows[-1][-3], rows[-1][-1]
    conn.execute("UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1", (seq, head))
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return _pseudonyms()


def _postgres_exports() -> tuple[list[float], list[float], list[int]] | None:
    """The same log in PostgreSQL (COPY, then ANALYZE); its one-subject exports."""
    try:
        import psycopg

        from tests._pg import PgUnavailable, start_cluster
    except ImportError:
        NOTES.append("S2 PostgreSQL row skipped: run from the repository root with psycopg.")
        return None
    try:
        cluster = start_cluster(fsync=False)  # generation only; the export only reads
    except PgUnavailable as err:
        NOTES.append(f"S2 PostgreSQL row skipped: {err}.")
        return None
    try:
        PostgresQueryLog(cluster.url, schema="s2").close()  # the store's own schema
        seq, head = 0, GENESIS_HASH
        with psycopg.connect(cluster.url) as conn:
            for rows in _chained(RECORDS):
                with conn.cursor().copy(
                    f"COPY s2.audit_records ({LINKED_COLUMNS}) FROM STDIN"
                ) as copy:
                    for r in rows:
                        copy.write_row(r)
                seq, head = rows[-1][-3], rows[-1][-1]
            conn.execute(
                "UPDATE s2.audit_chain_head SET seq = %s, hash = %s WHERE id = 1", (seq, head)
            )
            conn.commit()
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE s2.audit_records")
        with PostgresQueryLog(cluster.url, schema="s2", create=False) as log:
            return _exports(log, _pseudonyms(), 2)
    finally:
        cluster.destroy()


def _exports(
    log: SQLiteQueryLog | PostgresQueryLog, pseudonyms: list[str], shift: int
) -> tuple[list[float], list[float], list[int]]:
    wall, cpu, counts = [], [], []
    for k in range(max(REPEAT, 5)):
        subject = pseudonyms[(k * 101 + shift) % SUBJECTS]
        t0, c0 = time.perf_counter(), time.process_time()
        counts.append(sum(1 for _ in log.export(subject_pseudonym=subject)))
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return wall, cpu, counts


def _tail(pseudonyms: list[str], records: int) -> list[QueryIntent | QueryCompletion]:
    """``records`` new records (intents and their completions) for the bench's subjects."""
    at = dt.datetime.now(dt.UTC)
    out: list[QueryIntent | QueryCompletion] = []
    for i in range(records // 2):
        qid = f"{0x1A0000000000 + i:012x}{i:020x}"
        out.append(QueryIntent(
            query_id=qid, requested_at=at, organ="230100-GGZY", operator="u1024",
            matter_code="BID-2026-018", purpose="qualification screening of the bidders",
            scenario="bidding", subject_pseudonym=pseudonyms[(i * 7919) % SUBJECTS],
            subject_display="9123**********Y4K", subject_kind="uscc",
        ))  # fmt: skip
        out.append(QueryCompletion(
            query_id=qid, completed_at=at, outcome="CLEAR", policy_profile="hlj-draft-2021",
            report_id="RPT-2",
        ))  # fmt: skip
    return out


# The peak is read from /proc (VmHWM, this interpreter's own address space): getrusage's
# ru_maxrss would carry the parent's peak across fork and exec.
_VERIFY = r"""
import json, sys, time
from credit_sdk import SQLiteQueryLog

def hwm():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))

log = SQLiteQueryLog(sys.argv[1], create=False)
base = hwm()
start = time.perf_counter()
result = log.verify()
elapsed = time.perf_counter() - start
log.close()
print(json.dumps({"ok": result.ok, "count": result.count, "seconds": elapsed, "base_kib": base,
                  "peak_kib": hwm()}))
"""


def _verify(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _VERIFY, str(path)], check=True, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout)
    if not result["ok"]:
        raise AssertionError("S2: the generated log does not verify")
    return result


def run() -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="credit-sdk-bench-", dir=".") as tmp:
        big, small = Path(tmp) / "million.db", Path(tmp) / "tenth.db"
        start = time.perf_counter()
        pseudonyms = generate(big, RECORDS)
        generated = time.perf_counter() - start
        generate(small, SMALL)
        size_mb = big.stat().st_size / 1e6
        per_record, peaks, small_peaks = [], [], []
        for _ in range(REPEAT):
            r = _verify(big)
            per_record.append(r["seconds"] / r["count"] * 1e6)
            peaks.append(r["peak_kib"] / 1024)
            s = _verify(small)
            small_peaks.append(s["peak_kib"] / 1024)
        with SQLiteQueryLog(big, create=False) as log:
            t0, c0 = time.perf_counter(), time.process_time()
            log.index_subjects()
            build = (time.perf_counter() - t0, time.process_time() - c0)
            export_ms, export_cpu, counts = _exports(log, pseudonyms, 0)
        with SQLiteQueryLog(big) as log:
            log.append(_tail(pseudonyms, _subject_index.TAIL))
            tail_ms, tail_cpu, tail_counts = _exports(log, pseudonyms, 1)
    pg = _postgres_exports()
    peak, small_peak = summary(peaks), summary(small_peaks)
    constant = peak.median <= small_peak.median * 1.1 + 4
    exp, tail = summary(export_ms), summary(tail_ms)
    NOTES.append(
        f"S2: the subject index of the {RECORDS:,}-record log (built on the first export of a "
        f"log that has none) took {build[0]:.1f} s ({build[1]:.1f} s CPU); an export's CPU "
        f"time: {summary(export_cpu).text(',.1f')} ms indexed, {summary(tail_cpu).text(',.1f')}"
        f" ms with {_subject_index.TAIL:,} unindexed records ({summary(tail_counts).text()} "
        "records exported)."
    )
    NOTES.append(
        f"S2: the {RECORDS:,}-record log ({size_mb:,.0f} MB) was generated in {generated:.1f} s; "
        f"verify's peak resident memory (whole interpreter): {peak.text(',.1f')} MiB at "
        f"{RECORDS:,} "
        f"records, {small_peak.text(',.1f')} MiB at {SMALL:,}; an export returned "
        f"{summary(counts).text()} records."
    )
    return [
        row(
            "S2", f"audit verify, {RECORDS:,}-record SQLite log, streamed (peak memory "
            f"{peak.median:,.1f} MiB vs {small_peak.median:,.1f} MiB at {SMALL:,})",
            summary(per_record), "µs/record", f"peak memory at {SMALL:,} records",
            None, "constant memory", constant, fmt=",.2f",
        ),
        row(
            "S2", f"audit export of one subject from the {RECORDS:,}-record log (indexed)", exp,
            "ms", f"about {RECORDS // SUBJECTS} records of {RECORDS:,}", None,
            f"≤ {EXPORT_GOAL_MS:.0f} ms", exp.median <= EXPORT_GOAL_MS, fmt=",.1f",
        ),
        row(
            "S2", f"the same after {_subject_index.TAIL:,} more records (the longest tail an "
            "export scans instead of indexing)", tail, "ms",
            f"about {RECORDS // SUBJECTS} records of {RECORDS:,}", None,
            f"≤ {EXPORT_GOAL_MS:.0f} ms", tail.median <= EXPORT_GOAL_MS, fmt=",.1f",
        ),
        *_postgres_rows(pg),
    ]  # fmt: skip


def _postgres_rows(pg: tuple[list[float], list[float], list[int]] | None) -> list[Row]:
    if pg is None:
        return []
    wall, cpu, counts = (summary(v) for v in pg)
    NOTES.append(
        f"S2 PostgreSQL: an export's client CPU time {cpu.text(',.1f')} ms "
        f"({counts.text()} records exported); the subject's intents are found through the "
        "ordinary partial index on the pseudonym, their completions by record id."
    )
    return [
        row(
            "S2", f"PostgreSQL: audit export of one subject from the {RECORDS:,}-record log",
            wall, "ms", f"about {RECORDS // SUBJECTS} records of {RECORDS:,}", None,
            f"≤ {EXPORT_GOAL_MS:.0f} ms", wall.median <= EXPORT_GOAL_MS, fmt=",.1f",
        ),
    ]  # fmt: skip


if __name__ == "__main__":
    for r in run():
        print(json.dumps(r, ensure_ascii=False))
    for note in NOTES:
        print(note)
