"""Benchmarks of the pure core: decide(), catalog loading, and import time.

Each row is measured in the same run as its baseline, so the ratio is what holds on a noisy
machine. Run alone with ``python -m benchmarks.engine_bench`` or through ``make bench``.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path
from typing import Any

from credit_sdk import Catalog, CreditReport, Scenario, decide
from credit_sdk._catalog import _expand_scenarios, content_sha256
from credit_sdk._identifiers import compute_uscc_check

AS_OF = dt.date(2026, 11, 29)
Row = dict[str, Any]


def _uscc(body: str) -> str:
    return body + compute_uscc_check(body)


def five_record_report() -> CreditReport:
    """A company with five items: a severe listing, two dishonesty records (one expired), a
    repaired record and a false commitment: every path of the engine is exercised."""
    decision_doc = {
        "kind": "administrative_penalty_decision",
        "number": "示例罚〔2026〕1号",
        "issuer": "示例市场监督管理局",
        "issued_on": "2026-05-01",
        "effective": True,
    }
    records = [
        {
            "record_id": f"R{i}",
            "kind": kind,
            "category": cat,
            "domain": "procurement",
            "finding_date": found,
            "basis": decision_doc,
            "status": status,
        }
        for i, (kind, cat, found, status) in enumerate(
            [
                ("dishonesty", "procurement_fraud", "2026-05-01", "active"),
                ("dishonesty", "false_materials", "2022-01-10", "active"),
                ("severe_dishonesty", "bid_rigging", "2026-03-01", "active"),
                ("dishonesty", "tax_arrears", "2026-02-01", "repaired"),
            ]
        )
    ]
    return CreditReport.model_validate(
        {
            "report_id": "bench-5",
            "generated_at": "2026-11-29T08:00:00+08:00",
            "subject": {"kind": "legal_person", "identifier": _uscc("91230100MA1C2X3Y4")},
            "records": records,
            "commitments": [
                {
                    "commitment_id": "C1",
                    "made_on": "2026-01-05",
                    "status": "false",
                    "found_on": "2026-03-01",
                }
            ],
        }
    )


def _median_us(fn: Any, number: int, repeat: int = 7) -> float:
    runs = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(runs) / number * 1e6


def bench_decide() -> list[Row]:
    catalog = Catalog.default()
    report = five_record_report()
    scenario = Scenario.GOVERNMENT_PROCUREMENT
    decide(report, scenario, as_of=AS_OF, catalog=catalog)  # warm caches
    t_decide = _median_us(lambda: decide(report, scenario, as_of=AS_OF, catalog=catalog), 2000)

    table = {f"k{i}": i for i in range(64)}
    t_dict = _median_us(lambda: table["k42"], 200_000)

    # A hand-written matcher over the same data: for each record, scan every measure and keep
    # those whose scenario and ground fit. No windows, no reasons, no provenance.
    flat = [
        (_expand_scenarios(m.scenarios), tuple(m.triggers.grounds), m.measure_id)
        for lst in catalog.lists
        for m in lst.measures
    ]
    recs = [(r.kind.value, r.category) for r in report.records]

    def nested() -> list[str]:
        out = []
        for kind, _cat in recs:
            for scenarios, grounds, mid in flat:
                if scenario in scenarios and kind in grounds:
                    out.append(mid)
        return out

    t_loop = _median_us(nested, 2000)
    return [
        {
            "name": "decide(): 5-record report, shipped catalog",
            "value": round(t_decide, 2),
            "unit": "µs/decision",
            "baseline": f"dict lookup {t_dict:.3f} µs; hand-written nested loop {t_loop:.2f} µs",
            "ratio": f"{t_decide / t_dict:.0f}× dict, {t_decide / t_loop:.2f}× loop",
            "target": "≤ 25 µs",
            "ok": t_decide <= 25.0,
        }
    ]


def _generated_list(n: int) -> dict[str, Any]:
    measures = []
    items = ["42.1", "42.2", "42.3", "42.4", "42.5", "42.7", "42.10.3"]
    for i in range(n):
        measures.append(
            {
                "measure_id": f"GEN-{i:05d}",
                "kind": "punishment",
                "range_item": items[i % len(items)],
                "title": f"生成措施 {i}",
                "content": "benchmark content",
                "target": {"description": "严重失信主体", "roles": ["subject"]},
                "legal_basis": ["《示例条例》第四十二条"],
                "implementing_body": {"name": "示例部门", "type": "state_organ"},
                "scenarios": ["procurement", "funding"] if i % 2 else ["administration"],
                "triggers": {"grounds": ["severe_dishonesty", "dishonesty"]},
            }
        )
    body = {
        "list_id": "generated",
        "version": "1",
        "title": "generated benchmark list (示例)",
        "kind": "punishment_supplementary",
        "jurisdiction": "benchmark",
        "publication": {"reference": "bench", "date": "2026-01-01"},
        "effective_from": "2026-01-01",
        "provenance": {"status": "sample", "statement": "generated for benchmarks"},
        "measures": measures,
    }
    body["sha256"] = content_sha256(body)
    return body


def bench_catalog_load() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.json"
        path.write_text(json.dumps(_generated_list(1000), ensure_ascii=False), encoding="utf-8")
        Catalog.load([path])
        runs = timeit.repeat(lambda: Catalog.load([path]), number=1, repeat=7)
        raw = timeit.repeat(
            lambda: json.loads(path.read_text(encoding="utf-8")), number=1, repeat=7
        )
    t = statistics.median(runs) * 1e3
    t_raw = statistics.median(raw) * 1e3
    return [
        {
            "name": "catalog load + validate + index, 1,000 generated measures",
            "value": round(t, 1),
            "unit": "ms",
            "baseline": f"json.loads of the same file {t_raw:.1f} ms",
            "ratio": f"{t / t_raw:.1f}× json.loads",
            "target": "≤ 200 ms",
            "ok": t <= 200.0,
        }
    ]


_IMPORT_PROBE = (
    "import time, sys; t = time.perf_counter(); {stmt}; "
    "sys.stdout.write(str(time.perf_counter() - t))"
)
_DEPS = "import httpx, pydantic, tenacity, cachetools, opentelemetry.trace"


def _import_time(stmt: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE.format(stmt=stmt)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout)


_DEPS_USED = _DEPS + "; from pydantic import BaseModel"
_FIRST_USE = "from credit_sdk import CreditClient, CreditReport, decide, parse_identifier"


def bench_import() -> list[Row]:
    deps, sdk, deps_used, first_use = [], [], [], []
    for _ in range(9):  # interleaved so both sides see the same machine state
        deps.append(_import_time(_DEPS))
        sdk.append(_import_time("import credit_sdk"))
        deps_used.append(_import_time(_DEPS_USED))
        first_use.append(_import_time(_FIRST_USE))
    t_deps, t_sdk = statistics.median(deps) * 1e3, statistics.median(sdk) * 1e3
    t_used, t_first = statistics.median(deps_used) * 1e3, statistics.median(first_use) * 1e3
    return [
        {
            "name": "import credit_sdk (fresh interpreter)",
            "value": round(t_sdk, 1),
            "unit": "ms",
            "baseline": f"importing its dependencies alone {t_deps:.1f} ms",
            "ratio": f"{t_sdk / t_deps:.2f}×",
            "target": "≤ 1.15×",
            "ok": t_sdk <= 1.15 * t_deps,
        },
        {
            # Submodules load on first use, so the first row alone would flatter us: this one
            # pays for the client, the engine and the models as a host does on its first check.
            "name": f"first use: `{_FIRST_USE}`",
            "value": round(t_first, 1),
            "unit": "ms",
            "baseline": f"dependencies incl. pydantic.BaseModel {t_used:.1f} ms",
            "ratio": f"{t_first / t_used:.2f}×",
            "target": "report only",
            "ok": True,
        },
    ]


S1_MEASURES = 10_000
S1_CATEGORIES = 400  # conduct categories the generated measures are spread over


def _large_list(n: int) -> dict[str, Any]:
    """A provincial supplementary list of ``n`` measures as a large catalog has them: each
    narrowed to one conduct category (of ``S1_CATEGORIES``) and one scenario family, so that a
    report's records relate to a few of them, as the law asks (Art. 43)."""
    body = _generated_list(n)
    families = ["procurement", "funding", "administration", "honours", "personnel"]
    categories = ["bid_rigging", "procurement_fraud", "false_materials", "contract_breach"]
    categories += [f"generated_category_{k}" for k in range(S1_CATEGORIES - len(categories))]
    for i, m in enumerate(body["measures"]):
        m["scenarios"] = [families[i % len(families)]]
        m["triggers"] = {
            "grounds": ["severe_dishonesty", "dishonesty"],
            "categories": [categories[(i * 7) % len(categories)]],
        }
    body["list_id"] = "generated-large"
    body.pop("sha256", None)
    body["sha256"] = content_sha256(body)
    return body


def bench_large_catalog() -> list[Row]:
    """S1: decide() with the shipped lists plus a 10,000-measure list ÷ the shipped lists
    alone, the same five-record report; each run's ratio against its own baseline."""
    from benchmarks._common import five_record_report, row, summary, uscc

    shipped = Catalog.default()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.json"
        path.write_text(json.dumps(_large_list(S1_MEASURES), ensure_ascii=False), "utf-8")
        large = Catalog((*shipped.lists, *Catalog.load([path]).lists))
    report = CreditReport.model_validate(five_record_report(uscc("91230100MA1C2X3Y4"), 0))
    scenario = Scenario.BIDDING
    small_d = decide(report, scenario, as_of=AS_OF, catalog=shipped)
    large_d = decide(report, scenario, as_of=AS_OF, catalog=large)
    t_small, t_large, ratios = [], [], []
    for _ in range(5):
        a = _median_us(lambda: decide(report, scenario, as_of=AS_OF, catalog=shipped), 500, 3)
        b = _median_us(lambda: decide(report, scenario, as_of=AS_OF, catalog=large), 500, 3)
        t_small.append(a)
        t_large.append(b)
        ratios.append(b / a)
    ratio = summary(ratios)
    applied = len(large_d.applied_measure_ids) - len(small_d.applied_measure_ids)
    return [
        row(
            "S1", f"decide(): five-record report, shipped lists + {S1_MEASURES:,} generated "
            f"measures ({applied} more applied)", summary(t_large), "µs/decision",
            f"shipped lists alone {summary(t_small).text(',.1f')} µs", ratio, "≤ 1.5×",
            ratio.median <= 1.5, fmt=",.1f",
        )
    ]  # fmt: skip


def run() -> list[Row]:
    return [*bench_decide(), *bench_large_catalog(), *bench_catalog_load(), *bench_import()]


if __name__ == "__main__":
    for row in run():
        print(row)
