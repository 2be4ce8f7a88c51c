"""Throughput of the whole check, durably logged: the rows P★, Pc and P3 of issue 11.

* **P★** subjects screened, decided and durably logged per second, measured from outside: the
  sandbox in its own process on loopback serving five-record reports, the client's
  ``check_many`` with a SQLite query log (WAL, ``synchronous=FULL``, group commit), wall time
  from the first intent to the last completion. Each configuration documented for bulk work is
  a row: one process (``check_many``) and, where present, the bulk re-screening API with
  worker processes sharing one log.
* **Pc** client CPU per subject on the batch path: the same ``check_many`` with a SQLite log,
  against an in-process platform (an httpx transport answering ``reports:batchQuery`` from
  stored report bytes); process CPU time, minus the CPU the in-process platform itself used,
  divided by the subjects.
* **P3** durable audited checks per second with group commit ÷ unaudited (no records built or
  written), 8 threads each calling ``check()`` against the sandbox.

Every loop is bounded in count and in time. Run alone with
``python -m benchmarks.throughput_bench`` or through ``make bench``.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from benchmarks._common import (
    REPEAT,
    Sandbox,
    cpu_seconds,
    five_record_report,
    process_cpu,
    repeat,
    row,
    sandbox,
    subjects,
    summary,
)
from credit_sdk import (
    BulkScreening,
    Catalog,
    ClientConfig,
    CreditClient,
    MemoryQueryLog,
    QueryCompletion,
    QueryContext,
    QueryIntent,
    Scenario,
    SQLiteQueryLog,
)

Row = dict[str, Any]
NOTES: list[str] = []
AS_OF = dt.date(2026, 11, 29)
KEY = b"benchmark-pseudonym-key-0123456789"
CTX = QueryContext(
    organ="230100-GGZY", operator="bench", matter_code="BID-2026-017",
    purpose="qualification screening of the bidders of tender 2026-17",
)  # fmt: skip
P_STAR_SUBJECTS = 6_000  # per run; a run is bounded by this count
P_STAR_GOAL = 10_000
P_STAR_PROCESSES = 2  # the cores of the machine the goal is set on
PC_SUBJECTS = 4_000
PC_GOAL_US = 100.0
P3_THREADS = 8
P3_PER_THREAD = 120  # checks per thread and run
P3_SECONDS = 3.0  # and at most this long


class NullLog(MemoryQueryLog):
    """Accepts and drops records: the store's cost is out of the measurement."""

    def append(self, records: Sequence[QueryIntent | QueryCompletion]) -> None:
        return None


class NoAuditClient(CreditClient):
    """A client whose query-log steps (building and writing the records) do nothing."""

    def _record_intent(self, p: Any, trace_id: str | None) -> None:
        return None

    def _record_completion(self, done: Any) -> None:
        return None


#: Bulk calls take longer than the default overall deadline of one call (5 s): a bulk run
#: documents its own bound.
BULK_DEADLINE = 120.0


def _client(server: Sandbox, audit: Any, cls: type[CreditClient] = CreditClient) -> CreditClient:
    client = cls(
        server.url,
        token=server.token,
        audit=audit,
        pseudonym_key=KEY,
        lists_dir=Path(tempfile.mkdtemp(prefix="credit-sdk-bench-")),
        list_sync_interval=None,
        today=lambda: AS_OF,
        cache_ttl=0,
        deadline=BULK_DEADLINE,
    )
    client.wait_until_ready(timeout=10)
    return client


# -- P★ --------------------------------------------------------------------------------------


def _p_star_one_process(server: Sandbox, tmp: Path, run: int) -> tuple[float, float, float, int]:
    """One run: subjects/s, client CPU µs/subject, sandbox CPU µs/subject, and how many
    subjects were not decided as their report says (they do not count as screened)."""
    population = list(server.population)
    todo = (population * (P_STAR_SUBJECTS // len(population) + 1))[:P_STAR_SUBJECTS]
    with SQLiteQueryLog(tmp / f"pstar-{run}.db") as log:
        client = _client(server, log)
        try:
            client.check_many(todo[:200], Scenario.BIDDING, CTX)  # warm the pool
            cpu0, srv0 = cpu_seconds(), process_cpu(server.pid)
            start = time.perf_counter()
            results = client.check_many(todo, Scenario.BIDDING, CTX)
            elapsed = time.perf_counter() - start
            cpu, srv = cpu_seconds() - cpu0, process_cpu(server.pid) - srv0
        finally:
            client.close()
    wrong = sum(not (r.ok and r.unwrap().outcome.value == "RESTRICTED") for r in results)
    n = len(todo)
    return (n - wrong) / elapsed, cpu / n * 1e6, srv / n * 1e6, wrong


def _p_star_bulk(server: Sandbox, tmp: Path, run: int) -> tuple[float, float, float, float, int]:
    """One run of the documented bulk configuration: ``BulkScreening`` with
    ``P_STAR_PROCESSES`` worker processes sharing one SQLite log, results consumed in input
    order as they come. Subjects/s, client CPU µs/subject (the caller's process and its
    workers), the caller's own share of it, sandbox CPU µs/subject, and how many subjects were
    not decided as their report says."""
    population = list(server.population)
    todo = (population * (P_STAR_SUBJECTS // len(population) + 1))[:P_STAR_SUBJECTS]
    config = ClientConfig(
        server.url,
        token=server.token,
        audit=str(tmp / f"pstar-bulk-{run}.db"),
        pseudonym_key=KEY,
        lists_dir=str(tmp / "lists"),
        list_sync_interval=None,
        cache_ttl=0,
        deadline=BULK_DEADLINE,
    )
    wrong = 0
    with BulkScreening(config, processes=P_STAR_PROCESSES) as bulk:
        for _ in bulk.screen(todo[:400], Scenario.BIDDING, CTX, as_of=AS_OF):
            pass  # start the workers, sync their lists, warm their pools
        workers = [p.pid for p in multiprocessing.active_children() if p.pid is not None]
        own0, srv0 = cpu_seconds(), process_cpu(server.pid)
        kids0 = sum(process_cpu(pid) for pid in workers)
        start = time.perf_counter()
        for result in bulk.screen(todo, Scenario.BIDDING, CTX, as_of=AS_OF, deadline=BULK_DEADLINE):
            decision = result.decision
            wrong += decision is None or decision.outcome.value != "RESTRICTED"
        elapsed = time.perf_counter() - start
        own, srv = cpu_seconds() - own0, process_cpu(server.pid) - srv0
        kids = sum(process_cpu(pid) for pid in workers) - kids0
    n = len(todo)
    return (n - wrong) / elapsed, (own + kids) / n * 1e6, own / n * 1e6, srv / n * 1e6, wrong


def bench_p_star(server: Sandbox) -> list[Row]:
    one: dict[str, list[float]] = {"rate": [], "client": [], "server": []}
    bulk: dict[str, list[float]] = {"rate": [], "client": [], "own": [], "server": []}
    ratios: list[float] = []
    wrong = 0
    with tempfile.TemporaryDirectory(prefix="credit-sdk-bench-", dir=".") as tmp:
        for run in range(REPEAT):
            # Alternate which configuration goes first, so that drift hits both alike.
            order = ("one", "bulk") if run % 2 == 0 else ("bulk", "one")
            for side in order:
                if side == "one":
                    rate, c, s, w = _p_star_one_process(server, Path(tmp), run)
                    one["rate"].append(rate)
                    one["client"].append(c)
                    one["server"].append(s)
                else:
                    rate, c, own, s, w = _p_star_bulk(server, Path(tmp), run)
                    bulk["rate"].append(rate)
                    bulk["client"].append(c)
                    bulk["own"].append(own)
                    bulk["server"].append(s)
                wrong += w
            ratios.append(bulk["rate"][-1] / one["rate"][-1])
    one_s, bulk_s, ratio = summary(one["rate"]), summary(bulk["rate"]), summary(ratios)
    if wrong:
        NOTES.append(
            f"P★: {wrong:,} subjects were not decided as their reports say (not counted as "
            "screened); see the sandbox's and the client's logs."
        )
    NOTES.append(
        f"P★ (one process): client CPU {summary(one['client']).text(',.0f')} µs/subject, "
        f"sandbox CPU {summary(one['server']).text(',.0f')} µs/subject (median, min–max); "
        f"{P_STAR_SUBJECTS:,} subjects per run, check_many (batch_size 100, batch_concurrency 4, "
        f"deadline {BULK_DEADLINE:g} s), SQLite log with group commit."
    )
    NOTES.append(
        f"P★ ({P_STAR_PROCESSES} processes): BulkScreening(ClientConfig(...), processes="
        f"{P_STAR_PROCESSES}) (chunks of 500, two per worker in flight, results consumed in "
        f"order), one SQLite log shared by the workers (group commit in each); client CPU "
        f"{summary(bulk['client']).text(',.0f')} µs/subject over the caller and its workers, of "
        f"which the caller (receiving and unpickling the results) "
        f"{summary(bulk['own']).text(',.0f')}; sandbox CPU "
        f"{summary(bulk['server']).text(',.0f')} µs/subject; {P_STAR_SUBJECTS:,} subjects per "
        "run, alternated with the one-process run."
    )
    return [
        row(
            "P★", "subjects screened, decided and durably logged, one process (check_many, "
            "SQLite log), sandbox over loopback", one_s, "subjects/s",
            f"goal {P_STAR_GOAL:,}/s", None, f"≥ {P_STAR_GOAL:,}/s",
            one_s.median >= P_STAR_GOAL and not wrong,
        ),
        row(
            "P★", f"the same, {P_STAR_PROCESSES} worker processes sharing one SQLite log "
            f"(BulkScreening, processes={P_STAR_PROCESSES})", bulk_s, "subjects/s",
            f"one process {one_s.text()} subjects/s", ratio, f"≥ {P_STAR_GOAL:,}/s",
            bulk_s.median >= P_STAR_GOAL and not wrong,
        ),
    ]  # fmt: skip


# -- Pc --------------------------------------------------------------------------------------


class InProcessPlatform(httpx.BaseTransport):
    """``reports:batchQuery`` answered in-process from stored report bytes: the query ids
    are spliced into pre-encoded answers. The CPU it spends is measured (per thread) so that
    it can be taken out of the client's figure."""

    def __init__(self, reports: dict[str, bytes]) -> None:
        self._reports = reports
        self._lock = threading.Lock()
        self.cpu = 0.0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        t0 = time.thread_time()
        if request.url.path != "/v1/reports:batchQuery":
            raise AssertionError(f"unexpected request {request.url.path}")
        queries = json.loads(request.read())["queries"]
        parts = [
            b'{"query_id":"%s","status":200,"report":%s}'
            % (q["query_id"].encode(), self._reports[q["subject"]["number"]])
            for q in queries
        ]
        content = b'{"results":[' + b",".join(parts) + b"]}"
        response = httpx.Response(
            200, headers={"Content-Type": "application/json"}, stream=httpx.ByteStream(content)
        )
        with self._lock:
            self.cpu += time.thread_time() - t0
        return response


def _pc_one(tmp: Path, run: int, population: list[str], reports: dict[str, bytes]) -> float:
    platform = InProcessPlatform(reports)
    with SQLiteQueryLog(tmp / f"pc-{run}.db") as log:
        client = CreditClient(
            "https://platform.invalid",
            token="bench-token",
            audit=log,
            pseudonym_key=KEY,
            catalog=Catalog.default(),
            list_sync_interval=None,
            today=lambda: AS_OF,
            cache_ttl=0,
            deadline=BULK_DEADLINE,
            http_transport=platform,
        )
        try:
            client.check_many(population[:200], Scenario.BIDDING, CTX)  # warm
            platform.cpu = 0.0
            cpu0 = cpu_seconds()
            results = client.check_many(population, Scenario.BIDDING, CTX)
            cpu = cpu_seconds() - cpu0 - platform.cpu
        finally:
            client.close()
    if not all(r.ok for r in results):
        raise AssertionError("Pc: a check failed")
    return cpu / len(population) * 1e6


def bench_pc() -> list[Row]:
    population = subjects(PC_SUBJECTS, prefix="91230100MC")
    reports = {
        s: json.dumps(five_record_report(s, n), ensure_ascii=False, separators=(",", ":")).encode()
        for n, s in enumerate(population)
    }
    with tempfile.TemporaryDirectory(prefix="credit-sdk-bench-", dir=".") as tmp:
        us = repeat(lambda: _pc_one(Path(tmp), len(reports), population, reports))
    return [
        row(
            "Pc", f"client CPU per subject, batch path (check_many of {PC_SUBJECTS:,}, SQLite "
            "log, in-process platform; its own CPU taken out)", us, "µs/subject",
            "process CPU time ÷ subjects", None, f"≤ {PC_GOAL_US:.0f} µs", us.median <= PC_GOAL_US,
            fmt=",.1f",
        )
    ]  # fmt: skip


# -- P3 --------------------------------------------------------------------------------------


def _threads_rate(client: CreditClient, population: list[str]) -> float:
    """``P3_THREADS`` threads, each checking its own subjects one ``check()`` at a time, at most
    ``P3_PER_THREAD`` checks or ``P3_SECONDS``; checks per second."""
    barrier = threading.Barrier(P3_THREADS + 1)
    deadline = [0.0]
    counts = [0] * P3_THREADS

    def worker(t: int) -> None:
        mine = population[t::P3_THREADS][:P3_PER_THREAD]
        barrier.wait()
        for subject in mine:
            client.check(subject, Scenario.BIDDING, CTX)
            counts[t] += 1
            if time.perf_counter() >= deadline[0]:
                return

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(P3_THREADS)]
    for th in threads:
        th.start()
    start = time.perf_counter()
    deadline[0] = start + P3_SECONDS
    barrier.wait()
    for th in threads:
        th.join()
    return sum(counts) / (time.perf_counter() - start)


def bench_p3(server: Sandbox) -> list[Row]:
    population = list(server.population)
    audited_rates, plain_rates, ratios = [], [], []
    with tempfile.TemporaryDirectory(prefix="credit-sdk-bench-", dir=".") as tmp:
        for run in range(REPEAT):
            # Alternate which side goes first, so that drift hits both alike.
            sides = ["plain", "audited"] if run % 2 == 0 else ["audited", "plain"]
            got: dict[str, float] = {}
            for side in sides:
                if side == "audited":
                    with SQLiteQueryLog(Path(tmp) / f"p3-{run}.db") as log:
                        client = _client(server, log)
                        try:
                            _threads_rate(client, population[-400:])  # warm
                            got[side] = _threads_rate(client, population)
                        finally:
                            client.close()
                else:
                    client = _client(server, NullLog(), cls=NoAuditClient)
                    try:
                        _threads_rate(client, population[-400:])
                        got[side] = _threads_rate(client, population)
                    finally:
                        client.close()
            audited_rates.append(got["audited"])
            plain_rates.append(got["plain"])
            ratios.append(got["audited"] / got["plain"])
    audited, plain, ratio = summary(audited_rates), summary(plain_rates), summary(ratios)
    return [
        row(
            "P3", f"durable audited checks, {P3_THREADS} threads × check(), SQLite group commit, "
            "vs unaudited", audited, "checks/s", f"unaudited {plain.text()} checks/s", ratio,
            "≥ 0.85×", ratio.median >= 0.85,
        )
    ]  # fmt: skip


def run() -> list[Row]:
    rows = bench_pc()
    with sandbox(population=2_000) as server:
        rows = bench_p_star(server) + rows + bench_p3(server)
    return rows


if __name__ == "__main__":
    for r in run():
        print(json.dumps(r, ensure_ascii=False))
    for note in NOTES:
        print(note)
