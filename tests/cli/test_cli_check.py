"""`credit-sdk check`: one subject and CSV batches against the sandbox, every outcome's exit
code, the query log, and the argument and configuration errors."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from credit_sdk import SQLiteQueryLog
from credit_sdk._identifiers import compute_uscc_check
from credit_sdk._labels import OUTCOME_LABELS
from credit_sdk.cli import (
    EXIT_CONFIG,
    EXIT_DB_CORRUPT,
    EXIT_INDETERMINATE,
    EXIT_OK,
    EXIT_PLATFORM,
    EXIT_RESTRICTED,
    EXIT_REVIEW,
    EXIT_USAGE,
)

from .conftest import CONTEXT, Run

if TYPE_CHECKING:
    from credit_sdk.sandbox import SandboxServer

Raw = Callable[[str], str]


def check(run: Run, sandbox: SandboxServer, *argv: str) -> tuple[int, str, str]:
    result = run("check", *argv, *CONTEXT, "--sandbox", sandbox.url)
    return result.code, result.out, result.err


@pytest.mark.parametrize(
    ("state", "scenario", "code", "outcome"),
    [
        ("severe_list", "government_procurement", EXIT_RESTRICTED, "RESTRICTED"),
        ("clean", "bidding", EXIT_OK, "CLEAR"),
        ("red_list", "admin_licensing", EXIT_OK, "INCENTIVES"),
        ("disputed", "bidding", EXIT_REVIEW, "REVIEW"),
    ],
)
def test_outcome_and_exit_code(
    run: Run, sandbox: SandboxServer, raw: Raw, state: str, scenario: str, code: int, outcome: str
) -> None:
    got, out, _ = check(run, sandbox, raw(state), "--scenario", scenario)
    assert got == code
    line = next(x for x in out.splitlines() if "核查结论 Outcome:" in x)
    assert f"[{outcome}]" in line
    assert OUTCOME_LABELS[outcome][0] in line  # Chinese first
    assert "Query id:" in out
    # The identifier the user typed is never printed back: only its masked form.
    assert raw(state) not in out
    assert raw(state)[:4] + "**********" + raw(state)[-4:] in out


def test_restricted_shows_the_legal_basis(run: Run, sandbox: SandboxServer, raw: Raw) -> None:
    code, out, _ = check(run, sandbox, raw("severe_list"), "--scenario", "bidding")
    assert code == EXIT_RESTRICTED
    assert "设定依据" in out
    assert "实施主体" in out
    assert "HLJ-SUP-42.3-04" in out
    assert "STALE_LISTS" not in out  # the platform's lists were synced before the check


def test_json(run: Run, sandbox: SandboxServer, raw: Raw) -> None:
    code, out, _ = check(run, sandbox, raw("severe_list"), "--scenario", "bidding", "--json")
    assert code == EXIT_RESTRICTED
    data = json.loads(out)
    assert data["outcome"] == "RESTRICTED"
    assert data["restrictions"][0]["legal_basis"]
    assert data["query_id"]
    assert raw("severe_list") not in out


def test_platform_down_is_indeterminate_never_clear(
    run: Run, sandbox: SandboxServer, raw: Raw
) -> None:
    sandbox.admin.inject_fault("reports:query", status=503)
    code, out, _ = check(run, sandbox, raw("clean"), "--scenario", "bidding")
    assert code == EXIT_INDETERMINATE
    assert "无法判定 indeterminate [INDETERMINATE]" in out
    assert "PLATFORM_UNAVAILABLE" in out
    # No data says nothing about the subject: no supervision tier, no report.
    assert "风险较高" not in out
    assert "high risk" not in out
    assert "Supervision" not in out
    assert "report None" not in out
    assert "不说明该主体的任何信用状况" in out


def test_natural_person_needs_an_authorisation(run: Run, sandbox: SandboxServer, raw: Raw) -> None:
    person = raw("judgment_defaulter")
    code, _, err = check(run, sandbox, person, "--scenario", "civil_service_hiring")
    assert code == EXIT_USAGE
    assert "Art. 25, 56" in err
    assert "--grant-id" in err
    assert person not in err
    code, _, err = check(
        run, sandbox, person, "--scenario", "civil_service_hiring", "--grant-id", "G-1"
    )
    assert code == EXIT_USAGE
    assert "--grant-expires" in err
    code, out, _ = check(
        run, sandbox, person, "--scenario", "civil_service_hiring",
        "--grant-id", "G-2026-0042", "--grant-expires", "2099-01-01",
    )  # fmt: skip
    assert code == EXIT_USAGE  # longer than the law allows: lifelong in effect (Art. 56)
    code, out, _ = check(
        run, sandbox, person, "--scenario", "civil_service_hiring",
        "--grant-id", "G-2026-0042", "--grant-expires", "2027-06-30",
        "--granted-on", "2026-01-01",
    )  # fmt: skip
    assert code == EXIT_RESTRICTED, out
    assert person not in out


def test_writes_the_query_log(run: Run, sandbox: SandboxServer, raw: Raw, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    code, _, _ = check(run, sandbox, raw("severe_list"), "--scenario", "bidding", "--db", str(db))
    assert code == EXIT_RESTRICTED
    with SQLiteQueryLog(db, create=False) as log:
        assert log.verify().ok
        records = list(log.export())
    assert [r.kind for r in records] == ["intent", "completion"]
    assert records[0].data["organ"] == "230100-CZJ"
    assert records[0].data["matter_code"] == "CLI"
    assert raw("severe_list") not in "".join(r.body for r in records)
    verify = run("audit", "verify", "--db", str(db))
    assert verify.code == EXIT_OK
    assert "chain verified: 2 records" in verify.out


def test_from_environment(run: Run, env_client: Path, raw: Raw) -> None:
    result = run("check", raw("severe_list"), "--scenario", "bidding", *CONTEXT, "--json")
    assert result.code == EXIT_RESTRICTED
    assert env_client.exists()
    # The production path announces nothing: no in-memory log, no random key.
    assert "sandbox client" not in result.err


def test_raise_on_unavailable_is_a_platform_error(
    run: Run, env_client: Path, sandbox: SandboxServer, raw: Raw, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDIT_SDK_RAISE_ON_UNAVAILABLE", "true")
    monkeypatch.setenv("CREDIT_SDK_MAX_RETRIES", "0")
    sandbox.admin.inject_fault("reports:query", status=503)
    result = run("check", raw("clean"), "--scenario", "bidding", *CONTEXT)
    assert result.code == EXIT_PLATFORM
    assert "platform:" in result.err


def test_configuration_errors(run: Run, raw: Raw, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run("check", raw("clean"), "--scenario", "bidding", *CONTEXT)
    assert result.code == EXIT_CONFIG
    assert "CREDIT_SDK_BASE_URL" in result.err
    monkeypatch.setenv("CREDIT_SDK_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CREDIT_SDK_TOKEN", "secret-token-value")
    result = run("check", raw("clean"), "--scenario", "bidding", *CONTEXT)
    assert result.code == EXIT_CONFIG
    assert "CREDIT_SDK_AUDIT_DB" in result.err
    monkeypatch.setenv("CREDIT_SDK_AUDIT_DB", "memory:")
    result = run("check", raw("clean"), "--scenario", "bidding", *CONTEXT)
    assert result.code == EXIT_CONFIG
    assert "not durable" in result.err
    assert "secret-token-value" not in result.err


def test_corrupt_query_log(run: Run, sandbox: SandboxServer, raw: Raw, tmp_path: Path) -> None:
    db = tmp_path / "garbage.db"
    db.write_bytes(b"this is not a database" * 100)
    code, _, err = check(run, sandbox, raw("clean"), "--scenario", "bidding", "--db", str(db))
    assert code == EXIT_DB_CORRUPT
    assert raw("clean") not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--scenario", "biding"), "Art. 27 scenarios are"),
        (("--scenario", "bidding", "--as-of", "yesterday"), "--as-of"),
        (("--scenario", "bidding", "--grant-expires", "2026-12-31"), "need --grant-id"),
    ],
)
def test_argument_errors(
    run: Run, sandbox: SandboxServer, raw: Raw, argv: tuple[str, ...], message: str
) -> None:
    code, _, err = check(run, sandbox, raw("clean"), *argv)
    assert code == EXIT_USAGE
    assert message in err


def test_context_and_identifier_errors(run: Run, sandbox: SandboxServer, raw: Raw) -> None:
    bad = raw("clean")[:-1] + ("0" if raw("clean")[-1] != "0" else "1")
    result = run("check", bad, "--scenario", "bidding", *CONTEXT, "--sandbox", sandbox.url)
    assert result.code == EXIT_USAGE
    assert "rule: check_character" in result.err
    assert bad not in result.err
    ctx = ("--organ", "X", "--operator", "u1", "--purpose", f"about {raw('clean')}")
    result = run("check", raw("clean"), "--scenario", "bidding", *ctx, "--sandbox", sandbox.url)
    assert result.code == EXIT_USAGE
    assert "--purpose looks like it contains a raw" in result.err
    assert raw("clean") not in result.err
    ctx = ("--organ", " ", "--operator", "u1", "--purpose", "p")
    result = run("check", raw("clean"), "--scenario", "bidding", *ctx, "--sandbox", sandbox.url)
    assert result.code == EXIT_USAGE
    assert "--organ is required" in result.err
    result = run("check", "--scenario", "bidding", *CONTEXT, "--sandbox", sandbox.url)
    assert result.code == EXIT_USAGE
    assert "one subject ID or --file" in result.err
    result = run("check", raw("clean"), *CONTEXT)  # --scenario missing
    assert result.code == EXIT_USAGE
    result = run("check", raw("clean"), "--scenario", "bidding", *CONTEXT, "--token", "t")
    assert result.code == EXIT_USAGE
    assert "--token is only used with --sandbox" in result.err
    result = run("check", raw("clean"), "--scenario", "bidding", *CONTEXT, "--sandbox", "x")
    assert result.code == EXIT_USAGE


# -- batches ---------------------------------------------------------------------------------


def uscc(serial: int) -> str:
    body = f"9123010{serial:010d}"
    return body + compute_uscc_check(body)


def test_batch_table_and_exit_code(
    run: Run, sandbox: SandboxServer, raw: Raw, tmp_path: Path
) -> None:
    bad = raw("clean")[:-1] + ("0" if raw("clean")[-1] != "0" else "1")
    person = raw("judgment_defaulter")
    csv_file = tmp_path / "bidders.csv"
    csv_file.write_text(
        "subject,grant_id,grant_expires\n"
        f"{raw('severe_list')}\n"
        "# a comment line\n"
        f"{raw('clean')}\n"
        "\n"
        f"{raw('disputed')}\n"
        f"{bad}\n"
        f"{person},G-7,2027-01-31\n"
        f"{person},G-8,not-a-date\n",
        encoding="utf-8",
    )
    code, out, err = check(
        run, sandbox, "--file", str(csv_file), "--scenario", "civil_service_hiring"
    )
    # A row that could not be checked (bad identifier, bad authorisation) counts as 12.
    assert code == EXIT_INDETERMINATE
    lines = out.splitlines()
    assert lines[0].split() == [
        "行号", "LINE", "信用主体", "SUBJECT", "核查结论", "OUTCOME", "限制", "R", "激励", "I",
        "复核", "H", "措施/原因", "MEASURES", "/", "WHY",
    ]  # fmt: skip
    by_line = {ln.split()[0]: ln for ln in lines[1:] if ln[:1].isdigit()}
    assert "invalid identifier (rule: check_character)" in by_line["7"]
    assert "RESTRICTED" in by_line["8"]
    assert "--grant-expires: expected a date" in by_line["9"]
    assert "6 subjects at civil_service_hiring" in out
    for value in (raw("severe_list"), raw("clean"), bad, person):
        assert value not in out
        assert value not in err


def test_batch_json_lines(run: Run, sandbox: SandboxServer, raw: Raw, tmp_path: Path) -> None:
    csv_file = tmp_path / "bidders.csv"
    csv_file.write_text(f"{raw('severe_list')}\n{raw('clean')}\n{raw('disputed')}\n")
    code, out, _ = check(run, sandbox, "--file", str(csv_file), "--scenario", "bidding", "--json")
    assert code == EXIT_REVIEW  # the highest: REVIEW (11) over RESTRICTED (10)
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["line"], r["outcome"]) for r in rows] == [
        (1, "RESTRICTED"),
        (2, "CLEAR"),
        (3, "REVIEW"),
    ]
    assert all(r["query_id"] for r in rows)
    assert raw("severe_list") not in out


def test_batch_all_clear_from_stdin(
    run: Run, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{uscc(1)}\n{uscc(2)}\n"))
    code, out, err = check(run, sandbox, "--file", "-", "--scenario", "bidding")
    assert code == EXIT_OK
    assert "共 2 个主体" in out
    assert "2 subjects at bidding: 通过 CLEAR 2" in out
    assert "checked" not in err  # short batches show no progress


def test_batch_progress(run: Run, sandbox: SandboxServer, tmp_path: Path) -> None:
    csv_file = tmp_path / "many.csv"
    csv_file.write_text("".join(f"{uscc(n)}\n" for n in range(1, 131)))
    code, out, err = check(run, sandbox, "--file", str(csv_file), "--scenario", "bidding")
    assert code == EXIT_OK
    assert "130 subjects at bidding: 通过 CLEAR 130" in out
    assert "checked" not in err  # piped: quiet


def test_batch_progress_on_a_terminal(
    run: Run, sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_file = tmp_path / "many.csv"
    csv_file.write_text("".join(f"{uscc(n)}\n" for n in range(1, 131)))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = check(run, sandbox, "--file", str(csv_file), "--scenario", "bidding")
    assert code == EXIT_OK
    last = err.split("\r")[-1]
    assert "已核查 checked 130/130 (100%)" in last
    assert re.search(r"\d+\.\d/s  ETA \d+:\d\d:\d\d  失败 failures 0", last)
    assert "130/130" not in out
    code, _, err = check(
        run, sandbox, "--file", str(csv_file), "--scenario", "bidding", "--no-progress"
    )
    assert code == EXIT_OK
    assert "checked" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "no subjects"),
        ("# only a comment\n", "no subjects"),
        ("91230100MA1EXA017F,G-1\n", "add a header row"),
        ("名称,地址\n某某公司,哈尔滨\n", "add a header row"),
    ],
)
def test_batch_file_errors(
    run: Run, sandbox: SandboxServer, tmp_path: Path, content: str, message: str
) -> None:
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text(content)
    code, _, err = check(run, sandbox, "--file", str(csv_file), "--scenario", "bidding")
    assert code == EXIT_USAGE
    assert message in err


def test_batch_argument_errors(run: Run, sandbox: SandboxServer, raw: Raw, tmp_path: Path) -> None:
    code, _, err = check(
        run, sandbox, "--file", str(tmp_path / "nope.csv"), "--scenario", "bidding"
    )
    assert code == EXIT_USAGE
    assert "cannot read" in err
    (tmp_path / "latin1.csv").write_bytes(b"\xff\xfe\xfa\n")
    code, _, err = check(
        run, sandbox, "--file", str(tmp_path / "latin1.csv"), "--scenario", "bidding"
    )
    assert code == EXIT_USAGE
    assert "UTF-8" in err
    (tmp_path / "one.csv").write_text(raw("clean") + "\n")
    code, _, err = check(
        run, sandbox, raw("clean"), "--file", str(tmp_path / "one.csv"), "--scenario", "bidding"
    )
    assert code == EXIT_USAGE
    code, _, err = check(
        run, sandbox, "--file", str(tmp_path / "one.csv"), "--scenario", "bidding",
        "--grant-id", "G-1", "--grant-expires", "2027-01-01",
    )  # fmt: skip
    assert code == EXIT_USAGE
    assert "grant_* columns" in err


def test_policy_profile_errors(
    run: Run, env_client: Path, raw: Raw, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDIT_SDK_POLICY_PROFILE", "no-such-profile")
    result = run("check", raw("clean"), "--scenario", "bidding", *CONTEXT)
    assert result.code == EXIT_CONFIG
    assert "hlj-draft-2021" in result.err  # names the shipped profiles
    monkeypatch.setenv("CREDIT_SDK_POLICY_PROFILE", "cn-national-2026")
    result = run("check", raw("clean"), "--scenario", "bidding", *CONTEXT, "--as-of", "2020-01-01")
    assert result.code == EXIT_USAGE
    assert "not in force on 2020-01-01" in result.err
