"""`credit-sdk push`, `correct`, `update-basis`: the organ's duties (Art. 22, 52) from the
command line against the sandbox: queued with the due date, delivered with --flush, refused
before any I/O on bad input, the exit codes of the one table."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from credit_sdk import SQLiteQueryLog
from credit_sdk.cli import EXIT_INVALID_LIST, EXIT_OK, EXIT_PLATFORM, EXIT_USAGE
from credit_sdk.sandbox import seeded_subject

from .conftest import Run

if TYPE_CHECKING:
    from credit_sdk.sandbox import SandboxServer

DOCUMENT = (
    "--document-number", "哈市监罚〔2026〕118号",
    "--document-issuer", "哈尔滨市市场监督管理局",
    "--document-issued-on", "2026-09-28",
)  # fmt: skip


def push_args(record: str, *extra: str) -> list[str]:
    return [
        "push", seeded_subject("severe_list").identifier.reveal(),
        "--record-id", record, "--category", "food_safety", "--summary", "警告并罚款",
        "--produced-on", "2026-09-28", "--organ", "230100-SCJGJ", *DOCUMENT, *extra,
    ]  # fmt: skip


def mine(sandbox: SandboxServer, record: str) -> list[dict[str, object]]:
    return [d for d in sandbox.admin.duties() if d["record_id"] == record]


def test_push_is_queued_with_its_due_date_and_delivered(
    run: Run, sandbox: SandboxServer, tmp_path: Path
) -> None:
    record = f"PEN-{uuid.uuid4().hex[:8]}"
    db = str(tmp_path / "audit.db")
    result = run(*push_args(record), "--sandbox", sandbox.url, "--db", db, "--flush", "10")
    assert result.code == EXIT_OK, result.err
    assert "Art. 22 推送 push" in result.out
    # Monday 28 Sep 2026 + 5 working days: 29, 30 Sep, 8, 9 Oct, Saturday 10 Oct (调休).
    assert "应于 Due by      2026-10-10" in result.out
    assert "LATE" in result.out  # that day has passed: queued and delivered all the same
    assert "已送达 Delivered" in result.out
    assert seeded_subject("severe_list").identifier.reveal() not in result.out + result.err
    assert len(mine(sandbox, record)) == 1


def test_correction_and_basis_update_as_json(
    run: Run, sandbox: SandboxServer, tmp_path: Path
) -> None:
    record = f"COR-{uuid.uuid4().hex[:8]}"
    subject = seeded_subject("severe_list").identifier.reveal()
    db = str(tmp_path / "audit.db")
    common = ("--record-id", record, "--category", "food_safety", "--organ", "230100-SCJGJ")
    result = run(
        "correct", subject, *common, "--reason", "wrong", "--discovered-on", "2026-09-30",
        "--corrected", "罚款金额应为一万元", "--sandbox", sandbox.url, "--db", db,
        "--flush", "10", "--json",
    )  # fmt: skip
    assert result.code == EXIT_OK, result.err
    data = json.loads(result.out)
    assert data["article"] == "Art. 52 ¶1"
    assert data["due_on"] == "2026-10-10"
    assert data["delivered"] is True
    assert data["provisional"] is False
    result = run(
        "update-basis", subject, *common, "--change", "revoked", "--changed-on", "2026-09-30",
        "--document-kind", "judgment", *DOCUMENT, "--sandbox", sandbox.url, "--db", db,
        "--flush", "10", "--json",
    )  # fmt: skip
    assert result.code == EXIT_OK, result.err
    assert json.loads(result.out)["due_on"] == "2026-10-09"
    assert sorted(str(d["kind"]) for d in mine(sandbox, record)) == ["basis_update", "correction"]


def test_a_platform_that_refuses_leaves_it_queued_exit_7(
    run: Run, sandbox: SandboxServer, tmp_path: Path
) -> None:
    record = f"PEN-{uuid.uuid4().hex[:8]}"
    db = tmp_path / "audit.db"
    sandbox.admin.inject_fault("information:push", status=503)
    result = run(*push_args(record), "--sandbox", sandbox.url, "--db", str(db), "--flush", "0.5")
    assert result.code == EXIT_PLATFORM
    assert "未送达 Pending" in result.out
    with SQLiteQueryLog(db, create=False) as log:
        assert log.outbox_stats().by_kind["push"].pending == 1
    sandbox.admin.clear_faults()
    flushed = run("feedback", "flush", "--sandbox", sandbox.url, "--db", str(db))
    assert flushed.code == EXIT_OK, flushed.err
    assert len(mine(sandbox, record)) == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (("--category", "religion"), EXIT_INVALID_LIST),  # not in the catalogue (Art. 19)
        (("--produced-on", "2026-02-30"), EXIT_USAGE),
        (("--document-issued-on", "2026-12-31"), EXIT_USAGE),  # not in effect on that day
        (("--summary", "身份证 230102199001011234"), EXIT_USAGE),
    ],
)
def test_bad_input_is_refused_before_any_io(
    run: Run, sandbox: SandboxServer, tmp_path: Path, change: tuple[str, str], code: int
) -> None:
    args = push_args("PEN-BAD")
    flag, value = change
    args[args.index(flag) + 1] = value
    before = sandbox.admin.requests()
    db = tmp_path / "audit.db"
    result = run(*args, "--sandbox", sandbox.url, "--db", str(db))
    assert result.code == code, result.err
    assert "230102199001011234" not in result.err
    assert not db.exists()  # nothing was opened, let alone written
    assert sandbox.admin.requests() == before


def test_a_bad_subject_and_a_missing_document_are_usage_errors(run: Run, tmp_path: Path) -> None:
    args = push_args("PEN-X")
    args[1] = "91230100MA1C2X3Y4X"
    assert run(*args, "--db", str(tmp_path / "a.db")).code == EXIT_USAGE
    args = push_args("PEN-X")
    del args[args.index("--document-number") : args.index("--document-number") + 2]
    result = run(*args, "--db", str(tmp_path / "a.db"))
    assert result.code == EXIT_USAGE
    assert "--document-number" in result.err
    assert not (tmp_path / "a.db").exists()


def test_provisional_due_dates_say_so(
    run: Run, sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A calendar release that stops at 2025: every 2026 day is a weekends-only estimate.
    import credit_sdk._workdays as workdays

    monkeypatch.setattr(workdays, "_library_years", lambda: (2004, 2025))
    result = run(*push_args(f"PEN-{uuid.uuid4().hex[:8]}"), "--sandbox", sandbox.url)
    assert result.code == EXIT_OK, result.err
    # Without the holiday week, 28 Sep + 5 weekdays is Monday 5 Oct, and it says why.
    assert "2026-10-05 (provisional: weekends-only estimate for 2026)" in result.out
    assert "暂估 PROVISIONAL" in result.out


def test_help_shows_examples_and_exit_codes(run: Run) -> None:
    for command in ("push", "correct", "update-basis"):
        result = run(command, "--help")
        assert result.code == EXIT_OK
        assert f"credit-sdk {command} " in result.out
        assert "exit codes:" in result.out
