"""What several benchmark modules share: realistic reports, subjects, the sandbox in its own
process, and how a figure is summarised (median and spread over repeated runs).

Every load loop here is bounded in count and in time, and every socket is on loopback.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from credit_sdk import parse_identifier
from credit_sdk._identifiers import compute_uscc_check

REPEAT = int(os.environ.get("CREDIT_SDK_BENCH_REPEAT", "3"))


def uscc(body: str) -> str:
    return body + compute_uscc_check(body)


def subjects(n: int, prefix: str = "91230100MA") -> list[str]:
    """``n`` valid, distinct USCCs (synthetic)."""
    width = 17 - len(prefix)
    return [uscc(f"{prefix}{i:0{width}d}") for i in range(n)]


def _basis(number: str, issued: str) -> dict[str, Any]:
    return {
        "kind": "administrative_penalty_decision",
        "number": number,
        "issuer": "示例市场监督管理局",
        "issued_on": issued,
        "effective": True,
        "effective_on": issued,
    }


_RECORDS = [
    # kind, category, domain, finding date, status
    ("severe_dishonesty", "bid_rigging", "procurement", "2026-03-02", "active"),
    ("dishonesty", "procurement_fraud", "procurement", "2026-05-01", "active"),
    ("dishonesty", "false_materials", "food_drug", "2022-01-10", "active"),  # expired
    ("dishonesty", "tax_arrears", "taxation", "2026-02-01", "repaired"),
    ("dishonesty", "contract_breach", "procurement", "2026-08-12", "active"),
]


def five_record_report(identifier: str, n: int = 0) -> dict[str, Any]:
    """A company's report with five records in the platform's JSON form (about 3.7 KB): a
    severe finding, three dishonesty findings (one out of its publication window, one
    repaired), one more recent one, a severe-list membership and a false commitment, so
    that every path of the engine is taken. ``n`` varies the ids."""
    records = [
        {
            "record_id": f"REC-BENCH-{n}-{i}",
            "kind": kind,
            "category": category,
            "domain": domain,
            "title": f"示例失信行为记录 {i}（基准测试用）",
            "finding_date": found,
            "basis": _basis(f"示例罚〔2026〕{n}-{i}号", found),
            "penalty": {"procedure": "general", "types": ["warning", "fine"]},
            "publication_period_months": 36 if kind == "severe_dishonesty" else 12,
            "status": status,
            "provider": "示例市场监督管理局",
        }
        for i, (kind, category, domain, found, status) in enumerate(_RECORDS)
    ]
    return {
        "schema_version": "1",
        "report_id": f"RPT-BENCH-{n}",
        "generated_at": "2026-11-29T09:00:00+08:00",
        "subject": {
            "kind": "legal_person",
            "identifier": identifier,
            "name": "示例建设工程有限公司",
        },
        "records": records,
        "list_memberships": [
            {
                "membership_id": f"MEM-BENCH-{n}",
                "list_type": "severe_dishonesty",
                "listed_on": "2026-03-20",
                "listing_body": "示例市场监督管理局",
                "decision": {
                    "kind": "severe_list_decision",
                    "number": f"示例严失〔2026〕{n}号",
                    "issuer": "示例市场监督管理局",
                    "issued_on": "2026-03-20",
                    "effective": True,
                    "effective_on": "2026-03-20",
                },
                "category": "bid_rigging",
                "domain": "procurement",
                "term_end": "2029-03-19",
                "status": "active",
                "record_ids": [f"REC-BENCH-{n}-0"],
            }
        ],
        "commitments": [
            {
                "commitment_id": f"C-{n}",
                "made_on": "2026-01-05",
                "status": "false",
                "found_on": "2026-03-01",
            }
        ],
    }


@dataclass(frozen=True)
class Summary:
    """A figure over repeated runs: median and its spread."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def text(self, fmt: str = ",.0f") -> str:
        return f"{self.median:{fmt}} ({self.low:{fmt}}–{self.high:{fmt}})"


def summary(values: Sequence[float]) -> Summary:
    return Summary(tuple(values))


def ratio_text(r: float) -> str:
    return f"{r:.2f}×" if r < 10 else f"{r:.1f}×"


def row(
    rid: str,
    name: str,
    value: Summary,
    unit: str,
    baseline: str,
    ratio: Summary | None,
    target: str,
    ok: bool,
    fmt: str = ",.0f",
) -> dict[str, Any]:
    """A report row: the median with its min–max spread, the same-run baseline, the ratio
    (median over the runs of each run's ratio, with its spread) and whether the goal is met."""
    return {
        "id": rid,
        "name": name,
        "value": value.text(fmt),
        "unit": unit,
        "baseline": baseline,
        "ratio": "—" if ratio is None else (
            f"{ratio_text(ratio.median)} ({ratio_text(ratio.low)}–{ratio_text(ratio.high)})"
        ),
        "target": target,
        "ok": ok,
    }  # fmt: skip


def cpu_seconds() -> float:
    """CPU time of this process, every thread, user and system."""
    return time.process_time()


# -- the sandbox in its own process ----------------------------------------------------------

_SERVER_CODE = r"""
import json, socket, sys
import credit_sdk.sandbox.server as server_module
from credit_sdk import parse_identifier
from benchmarks._common import five_record_report, subjects

original = server_module._bind

def bind_tcp(host, port):
    sock = original(host, port)
    if sock.proto == 0:
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    return sock

server_module._bind = bind_tcp
count = int(sys.argv[1])
with server_module.SandboxServer() as server:
    store = server.state.store
    population = subjects(count, prefix="91230100MB")
    for n, raw in enumerate(population):
        store.put_subject(parse_identifier(raw), five_record_report(raw, n), state="bench")
    seeded = [[s.state, s.identifier.reveal()] for s in server.seeded]
    print(json.dumps({"url": server.url, "token": server.token, "seeded": seeded,
                      "population": population}), flush=True)
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
    #: subjects whose stored report is a five-record report
    population: tuple[str, ...]
    pid: int


@contextmanager
def sandbox(population: int = 2000) -> Iterator[Sandbox]:
    """The sandbox in its own process (its CPU does not share our GIL), on loopback, with
    TCP_NODELAY on its connections and ``population`` subjects whose stored report has five
    records.

    asyncio sets TCP_NODELAY only on sockets whose protocol is IPPROTO_TCP; a listening socket
    made with protocol 0 hands out connections that wait ~40 ms for delayed ACKs. The bound
    socket is re-wrapped with the protocol set (harmless once the sandbox does it itself).
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER_CODE, str(population)],
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
            tuple(info["population"]),
            proc.pid,
        )
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) another process has used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def repeat(fn: Callable[[], float], n: int = REPEAT) -> Summary:
    return summary([fn() for _ in range(n)])
