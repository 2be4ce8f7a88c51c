"""Workloads to profile (docs/performance.md): the batch path and the append path.

``python -m benchmarks.profile batch`` runs ``check_many`` of 4,000 subjects with five-record
reports against the in-process platform of the Pc row, with a SQLite query log, three times;
``python -m benchmarks.profile append`` appends 120,000 intents to a SQLite log, 5,000 per call
(the P4a row). Each prints its figure; run it under a sampling profiler, for instance::

    py-spy record --gil --format raw -o batch.txt -- python -m benchmarks.profile batch
    python -m benchmarks.profile summarise batch.txt
    python -m benchmarks.profile summarise append.txt WriterBackedLog.append GroupCommitWriter

``summarise`` prints the functions with the largest share of samples, own and inclusive; with
frame names after the file, only of the stacks through one of them.
"""

from __future__ import annotations

import collections
import json
import sys
import tempfile
import time
from pathlib import Path


def batch() -> None:
    from benchmarks._common import five_record_report, subjects
    from benchmarks.throughput_bench import _pc_one

    population = subjects(4000, prefix="91230100MC")
    reports = {
        s: json.dumps(five_record_report(s, n), ensure_ascii=False, separators=(",", ":")).encode()
        for n, s in enumerate(population)
    }
    with tempfile.TemporaryDirectory(prefix="credit-sdk-bench-", dir=".") as tmp:
        for run in range(3):
            print(f"client CPU {_pc_one(Path(tmp), run, population, reports):.0f} µs/subject")


def append() -> None:
    from benchmarks.audit_bench import Pools
    from credit_sdk import SQLiteQueryLog

    flat = Pools.make().flat[:120_000]
    with (
        tempfile.TemporaryDirectory(prefix="credit-sdk-bench-", dir=".") as tmp,
        SQLiteQueryLog(Path(tmp) / "append.db") as log,
    ):
        start = time.perf_counter()
        for k in range(0, len(flat), 5000):
            log.append(flat[k : k + 5000])
        elapsed = time.perf_counter() - start
    print(f"{len(flat) / elapsed:,.0f} records/s")


def summarise(path: str, under: tuple[str, ...] = (), top: int = 25) -> None:
    """Shares of samples, own and inclusive; with ``under``, only of the stacks through a
    frame whose name starts with one of them (e.g. the append and the writer thread)."""
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            n = int(count)
            frames = stack.split(";")
            if under and not any(fr.startswith(under) for fr in frames):
                continue
            total += n
            own[frames[-1]] += n
            for frame in set(frames):
                incl[frame] += n
    print(f"{total} samples")
    for title, counter in (("own", own), ("inclusive", incl)):
        print(f"\n{title}:")
        for frame, n in counter.most_common(top):
            print(f"{n / total * 100:5.1f}%  {frame}")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "batch"
    if what == "batch":
        batch()
    elif what == "append":
        append()
    elif what == "summarise":
        summarise(sys.argv[2], tuple(sys.argv[3:]))
    else:
        sys.exit("usage: python -m benchmarks.profile batch|append|summarise FILE [FRAME...]")
