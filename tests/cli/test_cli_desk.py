"""What the desk gets from ``credit-sdk check``: subject files as Excel saves them (GB18030,
extra columns), CSV it opens, the printable sheet, and Ctrl-C that keeps what was logged."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from credit_sdk import CreditClient, SQLiteQueryLog
from credit_sdk._identifiers import compute_uscc_check
from credit_sdk.cli import EXIT_INTERRUPTED, EXIT_RESTRICTED, EXIT_USAGE

from .conftest import CONTEXT, Run

if TYPE_CHECKING:
    from credit_sdk.sandbox import SandboxServer

Raw = Callable[[str], str]
NAME = "哈尔滨示例建设工程有限公司"  # a name column: sample data, never printed or logged


def uscc(serial: int) -> str:
    body = f"9123011{serial:010d}"
    return body + compute_uscc_check(body)


def check(run: Run, sandbox: SandboxServer, *argv: str) -> tuple[int, str, str]:
    result = run("check", *argv, *CONTEXT, "--sandbox", sandbox.url)
    return result.code, result.out, result.err


def _csv(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_a_gbk_file_with_a_name_column_writes_csv_and_sheet(
    run: Run, sandbox: SandboxServer, raw: Raw, tmp_path: Path
) -> None:
    subjects = tmp_path / "投标人.csv"
    subjects.write_bytes(
        (
            "序号,企业名称,统一社会信用代码\r\n"
            f"1,{NAME},{raw('severe_list')}\r\n"
            f"2,{NAME}二,{raw('clean')}\r\n"
        ).encode("gb18030")
    )
    db, out_csv, sheet = tmp_path / "log.db", tmp_path / "out.csv", tmp_path / "sheet.html"
    code, out, err = check(
        run, sandbox, "--file", str(subjects), "--scenario", "bidding", "--db", str(db),
        "--output", str(out_csv), "--html", str(sheet),
    )  # fmt: skip
    assert code == EXIT_RESTRICTED, err
    rows = _csv(out_csv)
    header = rows[0]
    assert header[0] == "行号 Line"
    assert "设定依据 Legal basis" in header
    by_line = {r[0]: r for r in rows[1:]}
    assert set(by_line) == {"2", "3"}
    restricted = by_line["2"]
    assert restricted[header.index("核查结论 Outcome")] == "限制 restricted"
    assert (
        "《黑龙江省社会信用条例（征求意见稿）》第四十二条"
        in restricted[header.index("设定依据 Legal basis")]
    )
    assert restricted[header.index("措施名称 Measures")]
    html = sheet.read_text(encoding="utf-8")
    assert "联合奖惩核查单" in html
    assert "行 line 2" in html
    # The name column is ignored: never printed, written or logged; identifiers only masked.
    log_bytes = db.read_bytes()
    for text in (out, err, html, out_csv.read_text(encoding="utf-8-sig")):
        assert NAME not in text
        assert raw("severe_list") not in text
        assert raw("clean") not in text
    assert NAME.encode("utf-8") not in log_bytes
    assert NAME.encode("gb18030") not in log_bytes
    with SQLiteQueryLog(db) as log:
        assert [r.query_id for r in log.export() if r.kind == "completion"]
        assert f"#{max(r.seq for r in log.export())}" in html


def test_a_single_check_writes_its_sheet_in_chinese(
    run: Run, sandbox: SandboxServer, raw: Raw, tmp_path: Path
) -> None:
    sheet = tmp_path / "sheet.html"
    code, out, _ = check(
        run, sandbox, raw("severe_list"), "--scenario", "bidding", "--lang", "zh",
        "--html", str(sheet),
    )  # fmt: skip
    assert code == EXIT_RESTRICTED
    assert "核查结论: 限制 [RESTRICTED]" in out
    assert "Outcome" not in out
    html = sheet.read_text(encoding="utf-8")
    assert "限制 [RESTRICTED]" in html
    assert raw("severe_list") not in html
    code, _, err = check(
        run, sandbox, raw("clean"), "--scenario", "bidding", "--html", "/no/such/dir/x.html"
    )
    assert code == EXIT_USAGE
    assert "--html: no such directory" in err


def test_undecodable_file_is_a_usage_error(
    run: Run, sandbox: SandboxServer, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\xfa\n")
    code, _, err = check(run, sandbox, "--file", str(bad), "--scenario", "bidding")
    assert code == EXIT_USAGE
    assert "neither UTF-8 nor GB18030/GBK" in err


def test_ctrl_c_writes_what_was_checked_and_logged(
    run: Run, sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = CreditClient.check_many
    calls: list[int] = []

    def interrupted_second_time(self: CreditClient, subjects: Any, *a: Any, **kw: Any) -> Any:
        calls.append(len(subjects))
        if len(calls) == 2:
            raise KeyboardInterrupt  # the officer pressed Ctrl-C during the second round
        return real(self, subjects, *a, **kw)

    monkeypatch.setattr(CreditClient, "check_many", interrupted_second_time)
    subjects = tmp_path / "many.csv"
    subjects.write_text("subject\n" + "".join(f"{uscc(n)}\n" for n in range(1, 451)))
    db, out_csv = tmp_path / "log.db", tmp_path / "out.csv"
    code, out, err = check(
        run, sandbox, "--file", str(subjects), "--scenario", "bidding", "--db", str(db),
        "--output", str(out_csv),
    )  # fmt: skip
    assert code == EXIT_INTERRUPTED
    first = calls[0]
    assert first < 450
    assert f"interrupted: {first} of 450 subjects were checked and logged" in err
    rows = _csv(out_csv)[1:]
    assert len(rows) == first
    with SQLiteQueryLog(db) as log:
        completions = {r.query_id for r in log.export() if r.kind == "completion"}
    written = {r[_csv(out_csv)[0].index("查询编号 Query id")] for r in rows}
    assert written == completions
    assert f"共 {first} 个主体" in out
