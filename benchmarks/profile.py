"""Workloads to profile (docs/performance.md): the batch path and the append path.

``python -m benchmarks.profile batch`` runs ``check_many`` of 4,000 subjects with five-record
reports against the in-process platform of the Pc row, with a SQLite query log, three times;
``python -m benchmarks.profile append`` appends 120,000 intents to a SQLite log, 5,000 per call
(the P4a row); ``python -m benchmarks.profile conclude`` prints the CPU medians of the batch
path's own steps after decoding (decide, the intent and completion records). Each prints its
figure; run the first two under a sampling profiler, for instance::

    py-spy record --gil --format raw -o batch.txt -- python -m benchmarks.profile batch
    python -m benchmarks.profile summarise batch.txt
    python -m benchmarks.profile summarise append.txt WriterBackedLog.append GroupCommitWriter

``summarise`` prints the functions with the largest share of samples, own and inclusive; with
frame names after the file, only of the stacks through one of them.

``python -m benchmarks.profile stages`` times each stage of decoding a report on the batch path
(bounded decoding, the bounds walk, the Art. 20 screen, validation, canonical bytes, ``parse``,
``decode_batch``) over the same 50 five-record reports: CPU time per report, median of 15
repeats. ``stages NAME N`` runs one stage N times and prints nothing, for counting its
instructions, which the machine's load does not change::

    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        python -m benchmarks.profile stages decode_batch 5
    # the same with 1; the difference of the two "I refs", ÷ (4 × 50), per report
"""

from __future__ import annotations

import collections
import json
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any


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


def conclude(repeat: int = 9, number: int = 2000) -> None:
    """Process-CPU medians of the batch path's own steps after decoding, for one five-record
    report: ``decide()``, building the intent record, building the completion record, and the
    whole conclusion of a fresh report (decision, query id, completion record)."""
    import datetime as dt
    import statistics

    from benchmarks._common import five_record_report, subjects
    from benchmarks.throughput_bench import AS_OF, CTX, KEY, NullLog
    from credit_sdk import Catalog, CreditClient, CreditReport, Scenario, decide
    from credit_sdk._cache import CachedReport

    def median_us(fn: Any) -> float:
        runs = []
        for _ in range(repeat):
            start = time.process_time()
            for _ in range(number):
                fn()
            runs.append((time.process_time() - start) / number * 1e6)
        return statistics.median(runs)

    catalog = Catalog.default()
    subject = subjects(1, prefix="91230100MC")[0]
    report = CreditReport.parse(json.dumps(five_record_report(subject, 0), ensure_ascii=False))
    client = CreditClient(
        "https://platform.invalid", token="bench-token", audit=NullLog(), pseudonym_key=KEY,
        catalog=catalog, list_sync_interval=None, today=lambda: AS_OF, cache_ttl=0,
    )  # fmt: skip
    try:
        p = client._prepare(subject, Scenario.BIDDING, CTX, None, None)
        snap = client._snapshot()
        now = dt.datetime.now(dt.UTC)
        entry = CachedReport(report, 0.0)
        decision = client._decide(p, entry, snap)

        def conclude() -> None:
            fresh = CachedReport(report, 0.0)
            fresh.digest = entry.digest
            client._conclude(p, fresh, None, snap, None).completion(at=now)

        figures = {
            "decide()": median_us(lambda: decide(report, Scenario.BIDDING, as_of=AS_OF)),
            "intent record": median_us(lambda: client._intent(p, None, now)),
            "completion record": median_us(
                lambda: client._completion(p, decision, entry=entry, at=now)
            ),
            "conclusion of a fresh report": median_us(conclude),
        }
    finally:
        client.close()
    for name, us in figures.items():
        print(f"{us:7.1f} µs  {name}")


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


def _stages() -> dict[str, Callable[[], object]]:
    from benchmarks._common import five_record_report, subjects
    from credit_sdk import CreditReport, QueryContext, Scenario, _bounded, _models, parse_identifier
    from credit_sdk._providers import ReportQuery, decode_batch
    from credit_sdk._transport import Response

    population = subjects(50, prefix="91230100MC")
    docs = [five_record_report(s, n) for n, s in enumerate(population)]
    raw = [json.dumps(d, ensure_ascii=False, separators=(",", ":")).encode() for d in docs]
    results = [{"query_id": f"q{n}", "status": 200, "report": d} for n, d in enumerate(docs)]
    answer = json.dumps({"results": results}, ensure_ascii=False, separators=(",", ":"))
    trees = [json.loads(r) for r in raw]
    screened = [_models._screen(t) for t in trees]
    ctx = QueryContext(organ="230100-GGZY", operator="u1", matter_code="ZB", purpose="tender")
    queries = [
        ReportQuery(f"q{n}", parse_identifier(s), Scenario.BIDDING, ctx)
        for n, s in enumerate(population)
    ]
    response = Response(200, {}, answer.encode(), None)
    return {
        "json.loads": lambda: [json.loads(r) for r in raw],
        "bounded.loads": lambda: [_bounded.loads(r, what="r", error=ValueError) for r in raw],
        "bounded.check": lambda: [_bounded.check(t, what="r", error=ValueError) for t in trees],
        "screen": lambda: [_models._screen(t) for t in trees],
        "validate": lambda: [
            CreditReport.model_validate(s, context=_models._SCREENED) for s in screened
        ],
        "canonical": lambda: [_models.canonical_report_bytes(s, ()) for s in screened],
        "parse.bytes": lambda: [CreditReport.parse(r) for r in raw],
        "parse.dict": lambda: [CreditReport.parse(t) for t in trees],
        "decode_batch": lambda: decode_batch(response, queries),
    }


def stages(only: str | None = None, times: int = 0) -> None:
    table = _stages()
    if only is not None:
        run = table[only]
        for _ in range(times + 1):  # one more: schemas built, caches filled
            run()
        return
    for name, run in table.items():
        run()
        best = timeit.repeat(run, number=5, repeat=15, timer=time.process_time)
        print(f"{statistics.median(best) / 5 / 50 * 1e6:8.1f} µs per report  {name}")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "batch"
    if what == "batch":
        batch()
    elif what == "append":
        append()
    elif what == "conclude":
        conclude()
    elif what == "summarise":
        summarise(sys.argv[2], tuple(sys.argv[3:]))
    elif what == "stages":
        stages(*sys.argv[2:3], *map(int, sys.argv[3:4]))
    else:
        sys.exit(
            "usage: python -m benchmarks.profile batch|append|conclude|stages [NAME N]"
            "|summarise FILE [FRAME...]"
        )
