"""`credit-sdk check --file CSV --processes N`: the same rows, table, files and exit code as
one process, on worker processes (real ones, a few, short-lived) sharing one query log."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from credit_sdk import SQLiteQueryLog
from credit_sdk._identifiers import compute_uscc_check
from credit_sdk.cli import EXIT_INDETERMINATE, EXIT_INTERRUPTED, EXIT_REVIEW, EXIT_USAGE

from .conftest import CONTEXT, Run

if TYPE_CHECKING:
    from credit_sdk.sandbox import SandboxServer

Raw = Callable[[str], str]


def _bidders(tmp_path: Path, raw: Raw) -> Path:
    bad = raw("clean")[:-1] + ("0" if raw("clean")[-1] != "0" else "1")
    person = raw("judgment_defaulter")
    rows = [raw(s) for s in ("severe_list", "clean", "disputed", "red_list", "expired")] * 3
    csv_file = tmp_path / "bidders.csv"
    csv_file.write_text(
        "subject,grant_id,grant_expires\n"
        + "\n".join(rows)
        + f"\n# a comment line\n{bad}\n{person},G-7,2027-01-31\n{person},G-8,not-a-date\n",
        encoding="utf-8",
    )
    return csv_file


def test_two_processes_print_what_one_prints(
    run: Run, sandbox: SandboxServer, raw: Raw, tmp_path: Path
) -> None:
    csv_file = _bidders(tmp_path, raw)
    got = {}
    for n in ("1", "2"):
        db = tmp_path / f"audit-{n}.db"
        result = run(
            "check", "--file", str(csv_file), "--scenario", "civil_service_hiring", *CONTEXT,
            "--sandbox", sandbox.url, "--db", str(db), "--processes", n,
            "--output", str(tmp_path / f"desk-{n}.csv"),
        )  # fmt: skip
        got[n] = result
        with SQLiteQueryLog(db) as log:
            assert log.stats().incomplete == 0
            assert sum(1 for r in log.export() if r.kind == "intent") == 16
            assert log.verify().ok
    assert got["2"].code == got["1"].code == EXIT_INDETERMINATE  # a row not checked: 12
    assert got["2"].out == got["1"].out
    assert "18 subjects" in got["2"].out
    desk = [
        list(csv.reader(io.StringIO((tmp_path / f"desk-{n}.csv").read_text(encoding="utf-8-sig"))))
        for n in ("1", "2")
    ]
    assert [row[:5] for row in desk[1]] == [row[:5] for row in desk[0]]  # line .. outcome code
    assert len(desk[1]) == 19


def test_processes_with_the_production_environment(
    run: Run, env_client: Path, raw: Raw, tmp_path: Path
) -> None:
    csv_file = tmp_path / "bidders.csv"
    states = ("severe_list", "clean", "disputed") * 5
    csv_file.write_text("\n".join(raw(s) for s in states) + "\n", encoding="utf-8")
    result = run(
        "check", "--file", str(csv_file), "--scenario", "bidding", *CONTEXT, "--json",
        "--processes", "2",
    )  # fmt: skip
    assert result.code == EXIT_REVIEW  # the highest outcome code, as with one process
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert [r["line"] for r in rows] == list(range(1, 16))
    expected = {"severe_list": "RESTRICTED", "clean": "CLEAR", "disputed": "REVIEW"}
    assert [r["outcome"] for r in rows] == [expected[s] for s in states]
    with SQLiteQueryLog(env_client) as log:
        assert log.stats().incomplete == 0
        assert {r["query_id"] for r in rows} == {
            r.query_id for r in log.export() if r.kind == "completion"
        }


def test_processes_need_a_durable_log_and_a_file(
    run: Run, sandbox: SandboxServer, raw: Raw, tmp_path: Path
) -> None:
    csv_file = tmp_path / "bidders.csv"
    csv_file.write_text(raw("clean") + "\n", encoding="utf-8")
    base = ("--scenario", "bidding", *CONTEXT, "--sandbox", sandbox.url)
    result = run("check", "--file", str(csv_file), *base, "--processes", "2")
    assert result.code == EXIT_USAGE
    assert "durable query log" in result.err
    result = run("check", raw("clean"), *base, "--processes", "2", "--db", "x.db")
    assert result.code == EXIT_USAGE
    assert "--processes works with --file" in result.err
    for bad in ("two", "-1", "65"):
        result = run("check", "--file", str(csv_file), *base, "--processes", bad)
        assert result.code == EXIT_USAGE
        assert "whole number" in result.err


def test_ctrl_c_with_processes_writes_what_was_checked_and_logged(
    run: Run, sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from credit_sdk.cli._common import _Progress

    def pressed(self: _Progress, done: int, total: int, failures: int) -> None:
        raise KeyboardInterrupt  # the officer pressed Ctrl-C once the first chunk was in

    monkeypatch.setattr(_Progress, "__call__", pressed)
    subjects = tmp_path / "many.csv"
    subjects.write_text("subject\n" + "".join(f"{_uscc(n)}\n" for n in range(1, 451)))
    db, out_csv = tmp_path / "log.db", tmp_path / "out.csv"
    result = run(
        "check", "--file", str(subjects), "--scenario", "bidding", *CONTEXT, "--sandbox",
        sandbox.url, "--db", str(db), "--output", str(out_csv), "--processes", "2",
    )  # fmt: skip
    assert result.code == EXIT_INTERRUPTED
    assert "interrupted: 400 of 450 subjects were checked and logged" in result.err
    rows = list(csv.reader(io.StringIO(out_csv.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 401
    with SQLiteQueryLog(db) as log:
        # The chunk a worker had started when Ctrl-C came was finished and logged, too.
        assert log.stats().incomplete == 0
        completions = {r.query_id for r in log.export() if r.kind == "completion"}
    written = {r[rows[0].index("查询编号 Query id")] for r in rows[1:]}
    assert written <= completions
    assert len(written) == 400


def _uscc(serial: int) -> str:
    body = f"9123011{serial:010d}"
    return body + compute_uscc_check(body)
