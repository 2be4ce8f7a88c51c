"""Benchmarks of the clients against the sandbox platform on loopback.

Every ratio is measured against a baseline in the same run, against the same sandbox:

* an uncached ``check()`` versus a hand-written httpx + pydantic + dict check (audit excluded on
  both sides, then included on both sides through the same SQLite query log with group commit);
* a cached ``check()`` with audit excluded, against a dict lookup;
* ``check_many`` of 1,000 subjects versus the same subjects checked one by one;
* ``AsyncCreditClient`` with 50 checks in flight on the default pool versus the blocking
  client's sequential rate.

"Audit excluded" means the query-log records are neither built nor written (a client subclass
whose two record steps do nothing); it isolates the SDK's own cost. Run alone with
``python -m benchmarks.client_bench`` or through ``make bench``; it takes well under a minute.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import statistics
import tempfile
import time
import timeit
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from benchmarks._common import REPEAT, row, sandbox, summary
from credit_sdk import (
    AsyncCreditClient,
    CreditClient,
    CreditReport,
    MemoryQueryLog,
    QueryCompletion,
    QueryContext,
    QueryIntent,
    Scenario,
    SQLiteQueryLog,
    parse_identifier,
)
from credit_sdk._audit._types import new_query_id

Row = dict[str, Any]
AS_OF = dt.date(2026, 11, 29)
KEY = b"benchmark-pseudonym-key-0123456789"
CTX = QueryContext(
    organ="230100-SCJGJ", operator="bench", matter_code="BENCH-1", purpose="benchmark run"
)
NOTES: list[str] = []


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


def _client(server: Any, cls: type[CreditClient] = CreditClient, **extra: Any) -> CreditClient:
    options: dict[str, Any] = {
        "token": server.token,
        "audit": NullLog(),
        "pseudonym_key": KEY,
        "lists_dir": Path(tempfile.mkdtemp(prefix="credit-sdk-bench-")),
        "list_sync_interval": None,
        "today": lambda: AS_OF,
        "cache_ttl": 0,
    }
    options.update(extra)
    client = cls(server.url, **options)
    client.wait_until_ready(timeout=10)
    return client


class HandWritten:
    """What a host would write without the SDK: httpx, pydantic, a dict of measures."""

    def __init__(self, server: Any, log: Any = None) -> None:
        self.http = httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=httpx.Timeout(10.0, connect=2.0),
        )
        self.log = log
        # Measures by (scenario, ground) from the lists the sandbox serves.
        self.measures: dict[tuple[str, str], list[str]] = {
            ("bidding", "severe_dishonesty"): ["HLJ-SUP-42.3-01"],
            ("bidding", "dishonesty"): ["HLJ-RES-41.3-02"],
        }

    def check(self, subject: str) -> list[str]:
        ident = parse_identifier(subject)
        query_id = new_query_id()
        if self.log is not None:
            self.log.record_intent(
                QueryIntent(
                    query_id=query_id,
                    requested_at=dt.datetime.now(dt.UTC),
                    organ=CTX.organ,
                    operator=CTX.operator,
                    matter_code=CTX.matter_code,
                    purpose=CTX.purpose,
                    scenario="bidding",
                    subject_pseudonym=ident.pseudonym(KEY),
                    subject_display=ident.masked,
                    subject_kind=ident.kind.value,
                )
            )
        body = {
            "query_id": query_id,
            "subject": {"kind": ident.kind.value, "number": subject},
            "scenario": "bidding",
            "organ": CTX.organ,
            "operator": CTX.operator,
            "matter_code": CTX.matter_code,
            "purpose": CTX.purpose,
        }
        response = self.http.post("/v1/reports:query", json=body)
        response.raise_for_status()
        report = CreditReport.model_validate_json(response.content)
        applied: list[str] = []
        for m in report.list_memberships:
            applied += self.measures.get(("bidding", m.list_type.value), [])
        for r in report.records:
            applied += self.measures.get(("bidding", r.kind.value), [])
        if self.log is not None:
            self.log.record_completion(
                QueryCompletion(
                    query_id=query_id,
                    completed_at=dt.datetime.now(dt.UTC),
                    outcome="RESTRICTED" if applied else "CLEAR",
                    policy_profile="hand",
                    applied_measure_ids=tuple(applied),
                )
            )
        return applied

    def close(self) -> None:
        self.http.close()


def bench_uncached(server: Any) -> list[Row]:
    """P1 (audit excluded on both sides), and the same comparison with both sides audited
    through a SQLite log with group commit (reported only)."""
    subject = server.population[0]
    rows: list[Row] = []
    per_round = 100
    with tempfile.TemporaryDirectory() as tmp:
        for audited in (False, True):
            log_sdk = SQLiteQueryLog(Path(tmp) / "sdk.db") if audited else None
            log_hand = SQLiteQueryLog(Path(tmp) / "hand.db") if audited else None
            sdk = _client(server, audit=log_sdk) if audited else _client(server, cls=NoAuditClient)
            hand = HandWritten(server, log_hand)
            sdk_rounds, hand_rounds, ratios = [], [], []
            try:
                for _ in range(20):  # warm both pools and caches
                    sdk.check(subject, Scenario.BIDDING, CTX)
                    hand.check(subject)
                clock = time.perf_counter
                for _ in range(max(REPEAT, 3)):
                    sdk_times: list[float] = []
                    hand_times: list[float] = []
                    for i in range(per_round):
                        # Alternate one by one (and swap who goes first), so that drift and
                        # the disk's fsync latency hit both sides alike.
                        first, second = (
                            (sdk_times, hand_times) if i % 2 else (hand_times, sdk_times)
                        )
                        for times in (first, second):
                            start = clock()
                            if times is sdk_times:
                                sdk.check(subject, Scenario.BIDDING, CTX)
                            else:
                                hand.check(subject)
                            times.append(clock() - start)
                    # Medians: a stray fsync stall or GC pause is not what is compared.
                    sdk_rounds.append(statistics.median(sdk_times) * 1e6)
                    hand_rounds.append(statistics.median(hand_times) * 1e6)
                    ratios.append(sdk_rounds[-1] / hand_rounds[-1])
            finally:
                sdk.close()
                hand.close()
                for log in (log_sdk, log_hand):
                    if log is not None:
                        log.close()
            ratio = summary(ratios)
            if audited:
                rows.append(row(
                    "P1+", "uncached check() vs hand-written httpx+pydantic+dict, audited "
                    "(SQLite, group commit, both sides)", summary(sdk_rounds), "µs/check",
                    f"hand-written {summary(hand_rounds).text(',.0f')} µs", ratio,
                    "report only", True,
                ))  # fmt: skip
            else:
                rows.append(row(
                    "P1", "uncached check() vs hand-written httpx+pydantic+dict, audit excluded, "
                    "five-record report", summary(sdk_rounds), "µs/check",
                    f"hand-written {summary(hand_rounds).text(',.0f')} µs", ratio,
                    "≤ 1.05×", ratio.median <= 1.05,
                ))  # fmt: skip
    return rows


def bench_cached(server: Any) -> list[Row]:
    subject = next(s for s in server.seeded if s.state == "severe_list").identifier.reveal()
    client = _client(server, cls=NoAuditClient, cache_ttl=3600)
    try:
        client.check(subject, Scenario.BIDDING, CTX)
        runs = timeit.repeat(
            lambda: client.check(subject, Scenario.BIDDING, CTX), number=5000, repeat=7
        )
    finally:
        client.close()
    t_cached = statistics.median(runs) / 5000 * 1e6
    table = {f"k{i}": i for i in range(64)}
    t_dict = (
        statistics.median(timeit.repeat(lambda: table["k42"], number=200_000, repeat=7))
        / 200_000
        * 1e6
    )
    return [
        {
            "name": "cached check() (report in cache, audit excluded)",
            "value": round(t_cached, 2),
            "unit": "µs/check",
            "baseline": f"dict lookup {t_dict:.3f} µs",
            "ratio": f"{t_cached / t_dict:.0f}× dict",
            "target": "≤ 25 µs",
            "ok": t_cached <= 25.0,
        }
    ]


def bench_check_many(server: Any) -> list[Row]:
    """P5: check_many of 1,000 subjects (five-record reports) vs the same 1,000 checked one
    by one with check(); audit excluded from the store (records built, then dropped)."""
    subjects = list(server.population[:1000])
    client = _client(server, deadline=120.0)  # a bulk call: more than one call's default 5 s
    many, single, ratios = [], [], []
    try:
        client.check_many(subjects[:100], Scenario.BIDDING, CTX)  # warm
        for _ in range(REPEAT):
            start = time.perf_counter()
            n = len(client.check_many(subjects, Scenario.BIDDING, CTX))
            many.append(n / (time.perf_counter() - start))
            start = time.perf_counter()
            for s in subjects:
                client.check(s, Scenario.BIDDING, CTX)
            single.append(len(subjects) / (time.perf_counter() - start))
            ratios.append(many[-1] / single[-1])
    finally:
        client.close()
    ratio = summary(ratios)
    return [
        row(
            "P5", "check_many(1,000 subjects, five-record reports) vs 1,000 sequential check()",
            summary(many), "checks/s", f"sequential {summary(single).text()} checks/s", ratio,
            "≥ 8×", ratio.median >= 8.0,
        )
    ]  # fmt: skip


def bench_async(server: Any) -> list[Row]:
    """P6: AsyncCreditClient with 50 checks in flight vs the blocking client's sequential
    rate, the same subjects (five-record reports), audit store excluded on both sides."""
    subjects = list(server.population[:500])
    sync = _client(server)
    single: list[float] = []

    def sequential() -> None:
        start = time.perf_counter()
        for s in subjects:
            sync.check(s, Scenario.BIDDING, CTX)
        single.append(len(subjects) / (time.perf_counter() - start))

    async def concurrent(rounds: int) -> list[float]:
        async with AsyncCreditClient(
            server.url,
            token=server.token,
            audit=NullLog(),
            pseudonym_key=KEY,
            lists_dir=Path(tempfile.mkdtemp(prefix="credit-sdk-bench-")),
            list_sync_interval=None,
            today=lambda: AS_OF,
            cache_ttl=0,
        ) as client:
            await client.wait_until_ready(timeout=10)
            gate = asyncio.Semaphore(50)

            async def one(s: str) -> None:
                async with gate:
                    await client.check(s, Scenario.BIDDING, CTX)

            await asyncio.gather(*(one(s) for s in subjects[:100]))  # warm the pool
            rates = []
            for _ in range(rounds):
                start = time.perf_counter()
                await asyncio.gather(*(one(s) for s in subjects))
                rates.append(len(subjects) / (time.perf_counter() - start))
            return rates

    try:
        for s in subjects[:20]:
            sync.check(s, Scenario.BIDDING, CTX)
        rates: list[float] = []
        for _ in range(REPEAT):  # interleaved: each round's ratio is against its own baseline
            sequential()
            rates += asyncio.run(concurrent(1))
    finally:
        sync.close()
    ratio = summary([a / b for a, b in zip(rates, single, strict=True)])
    return [
        row(
            "P6", "AsyncCreditClient, 50 in flight, default pool vs sync sequential",
            summary(rates), "checks/s", f"sync sequential {summary(single).text()} checks/s",
            ratio, "≥ 1.5×", ratio.median >= 1.5,
        )
    ]  # fmt: skip


def run() -> list[Row]:
    with sandbox() as server:
        probe = httpx.Client(base_url=server.url)
        try:
            start = time.perf_counter()
            for _ in range(20):
                probe.get("/v1/health", headers={"Authorization": f"Bearer {server.token}"})
            bare = (time.perf_counter() - start) / 20 * 1e6
        finally:
            probe.close()
        NOTES.append(
            f"client benchmarks: bare httpx GET /v1/health on the sandbox {bare:.0f} µs; "
            "audit excluded = no query-log records built or written"
        )
        rows = bench_uncached(server)
        rows += bench_cached(server)
        rows += bench_check_many(server)
        rows += bench_async(server)
    return rows


if __name__ == "__main__":
    for r in run():
        print(json.dumps(r, ensure_ascii=False))
    for note in NOTES:
        print(note)
