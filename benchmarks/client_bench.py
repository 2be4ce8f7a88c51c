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
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

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
from credit_sdk._identifiers import compute_uscc_check

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


_SERVER_CODE = r"""
import json, socket, sys
import credit_sdk.sandbox.server as server_module

original = server_module._bind

def bind_tcp(host, port):
    sock = original(host, port)
    if sock.proto == 0:
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    return sock

server_module._bind = bind_tcp
with server_module.SandboxServer() as server:
    seeded = [[s.state, s.identifier.reveal()] for s in server.seeded]
    print(json.dumps({"url": server.url, "token": server.token, "seeded": seeded}), flush=True)
    sys.stdin.read()
"""


@dataclass(frozen=True)
class Seeded:
    state: str
    identifier: Any


@dataclass(frozen=True)
class Sandbox:
    url: str
    token: str
    seeded: tuple[Seeded, ...]


@contextmanager
def sandbox() -> Iterator[Sandbox]:
    """The sandbox in its own process (so that its CPU does not share our GIL), on loopback,
    with TCP_NODELAY on its connections.

    asyncio sets TCP_NODELAY only on sockets whose protocol is IPPROTO_TCP; a listening socket
    made with protocol 0 hands out connections that wait ~40 ms for delayed ACKs. The bound
    socket is re-wrapped with the protocol set (harmless once the sandbox does it itself).
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER_CODE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        yield Sandbox(
            info["url"],
            info["token"],
            tuple(Seeded(state, parse_identifier(raw)) for state, raw in info["seeded"]),
        )
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _subjects(n: int) -> list[str]:
    return [body + compute_uscc_check(body) for body in (f"91230100MA{i:07d}" for i in range(n))]


def _median_rate(fn: Callable[[], int], rounds: int = 5) -> float:
    """Items per second: the median over ``rounds`` runs of ``fn`` (which returns a count)."""
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        count = fn()
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates)


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
    subject = next(s for s in server.seeded if s.state == "severe_list").identifier.reveal()
    rows: list[Row] = []
    n = 100
    with tempfile.TemporaryDirectory() as tmp:
        for audited in (False, True):
            log_sdk = SQLiteQueryLog(Path(tmp) / "sdk.db") if audited else None
            log_hand = SQLiteQueryLog(Path(tmp) / "hand.db") if audited else None
            sdk = _client(server, audit=log_sdk) if audited else _client(server, cls=NoAuditClient)
            hand = HandWritten(server, log_hand)
            try:
                for _ in range(20):  # warm both pools and caches
                    sdk.check(subject, Scenario.BIDDING, CTX)
                    hand.check(subject)
                sdk_times, hand_times = [], []
                clock = time.perf_counter
                for i in range(n * 5):
                    # Alternate one by one (and swap who goes first), so that drift and the
                    # disk's fsync latency hit both sides alike.
                    first, second = (sdk_times, hand_times) if i % 2 else (hand_times, sdk_times)
                    for times in (first, second):
                        start = clock()
                        if times is sdk_times:
                            sdk.check(subject, Scenario.BIDDING, CTX)
                        else:
                            hand.check(subject)
                        times.append(clock() - start)
            finally:
                sdk.close()
                hand.close()
                for log in (log_sdk, log_hand):
                    if log is not None:
                        log.close()
            # Medians: a stray fsync stall or GC pause on either side is not what is compared.
            t_sdk = statistics.median(sdk_times) * 1e6
            t_hand = statistics.median(hand_times) * 1e6
            ratio = t_sdk / t_hand
            label = "audited (SQLite, group commit, both sides)" if audited else "audit excluded"
            rows.append(
                {
                    "name": f"uncached check() vs hand-written httpx+pydantic+dict, {label}",
                    "value": round(t_sdk, 1),
                    "unit": "µs/check",
                    "baseline": f"hand-written {t_hand:.1f} µs",
                    "ratio": f"{ratio:.2f}×",
                    "target": "≤ 1.15×",
                    "ok": ratio <= 1.15,
                }
            )
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
    subjects = _subjects(1000)
    client = _client(server)
    try:
        client.check_many(subjects[:100], Scenario.BIDDING, CTX)  # warm
        many = _median_rate(lambda: len(client.check_many(subjects, Scenario.BIDDING, CTX)), 3)

        def sequential() -> int:
            for s in subjects[:200]:
                client.check(s, Scenario.BIDDING, CTX)
            return 200

        single = _median_rate(sequential, 3)
    finally:
        client.close()
    ratio = many / single
    return [
        {
            "name": "check_many(1,000 subjects) vs sequential check()",
            "value": round(many),
            "unit": "checks/s",
            "baseline": f"sequential {single:.0f} checks/s",
            "ratio": f"{ratio:.1f}×",
            "target": "≥ 5×",
            "ok": ratio >= 5.0,
        }
    ]


def bench_async(server: Any) -> list[Row]:
    subject = next(s for s in server.seeded if s.state == "severe_list").identifier.reveal()
    sync = _client(server)
    try:
        for _ in range(20):
            sync.check(subject, Scenario.BIDDING, CTX)

        def sequential() -> int:
            for _ in range(200):
                sync.check(subject, Scenario.BIDDING, CTX)
            return 200

        single = _median_rate(sequential, 3)
    finally:
        sync.close()

    async def concurrent() -> float:
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

            async def one() -> None:
                async with gate:
                    await client.check(subject, Scenario.BIDDING, CTX)

            await asyncio.gather(*(one() for _ in range(100)))  # warm the pool
            rates = []
            for _ in range(3):
                start = time.perf_counter()
                await asyncio.gather(*(one() for _ in range(500)))
                rates.append(500 / (time.perf_counter() - start))
            return statistics.median(rates)

    rate = asyncio.run(concurrent())
    ratio = rate / single
    return [
        {
            "name": "AsyncCreditClient, 50 in flight, default pool vs sync sequential",
            "value": round(rate),
            "unit": "checks/s",
            "baseline": f"sync sequential {single:.0f} checks/s",
            "ratio": f"{ratio:.2f}×",
            "target": "≥ 0.5×",
            "ok": ratio >= 0.5,
        }
    ]


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
    for row in run():
        print(json.dumps(row, ensure_ascii=False))
    for note in NOTES:
        print(note)
