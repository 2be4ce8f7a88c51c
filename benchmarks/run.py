"""Run every benchmark and write ``benchmarks/report.md``.

Targets are checked here, by benchmarks, never by timed unit tests: the machines are noisy, so
each figure is reported with a baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import sys
from pathlib import Path
from typing import Any

MODULES = [
    "benchmarks.engine_bench",
    "benchmarks.audit_bench",
    "benchmarks.client_bench",
    "benchmarks.throughput_bench",
    "benchmarks.log_scale_bench",
]


def _load() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _render(rows: list[dict[str, Any]], notes: list[str]) -> str:
    lines = [
        "# Benchmark report",
        "",
        f"Generated {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} by `make bench` "
        f"on Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs "
        f"(load average at the start {_load()}). Every ratio is measured against its baseline in "
        "the same run. Figures are medians with their min–max over the repeated runs "
        f"(`CREDIT_SDK_BENCH_REPEAT`, default 3); ids are the rows of issue 11.",
        "",
        "| id | benchmark | median (min–max) | baseline (same run) | ratio (min–max) | target "
        "| met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = "yes" if r["ok"] else "**no**"
        lines.append(
            f"| {r.get('id', '')} | {r['name']} | {r['value']} {r['unit']} | {r['baseline']} "
            f"| {r['ratio']} | {r['target']} | {met} |"
        )
    if notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--report", default="benchmarks/report.md")
    parser.add_argument("--only", help="run only modules whose name contains this")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for name in MODULES:
        if args.only and args.only not in name:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:
                continue  # that part of the SDK has no benchmark yet
            raise
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(module.run())
        notes.extend(getattr(module, "NOTES", []))
    text = _render(rows, notes)
    Path(args.report).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
