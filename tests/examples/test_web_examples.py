"""The web and decorator examples: each `run_demo` against the sandbox, and each run alone."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn", reason="the examples run against the sandbox ('sandbox' extra)")
pytest.importorskip("fastapi", reason="examples/permit_approval needs the 'fastapi' extra")
pytest.importorskip("flask", reason="examples/personnel_review needs the 'flask' extra")

from examples.decorators import run_demo as decorators_demo
from examples.permit_approval import run_demo as permit_demo
from examples.personnel_review import run_demo as personnel_demo

ROOT = Path(__file__).resolve().parents[2]
#: The synthetic sample data's date: the demos show the same outcomes whatever day it is.
AS_OF = dt.date(2026, 11, 29)
RAW_ID = re.compile(r"(?<![0-9A-Z*])(?:\d{17}[\dXx]|[0-9A-HJ-NPQRTUWXY]{18})(?![0-9A-Z])")


@pytest.fixture
def sandbox(sandbox_server: Any) -> Iterator[Any]:
    sandbox_server.admin.reset()
    yield sandbox_server
    sandbox_server.admin.clear_faults()


def masked(sandbox: Any) -> dict[str, str]:
    return {s.state: s.identifier.masked for s in sandbox.seeded}


def block(text: str, starts: str) -> str:
    """The lines of one case: from the line starting with ``starts`` to the next blank line."""
    return text.split(starts, 1)[1].split("\n\n", 1)[0]


def no_raw_identifiers(text: str, sandbox: Any) -> None:
    assert not RAW_ID.search(text)
    for subject in sandbox.seeded:
        assert subject.identifier.reveal() not in text


def test_permit_approval(sandbox: Any) -> None:
    shown = masked(sandbox)
    text = permit_demo(sandbox, today=AS_OF)
    clean = block(text, "申请 2026-118")
    assert shown["clean"] in clean
    assert "200 受理 received: credit CLEAR, route commitment" in clean
    red = block(text, "申请 2026-119")
    assert "credit INCENTIVES" in red
    assert "绿色通道 green channel" in red
    restricted = block(text, "申请 2026-120")
    assert "403 application/problem+json" in restricted
    assert "不适用信用承诺制" in restricted
    assert "设定依据: 《黑龙江省社会信用条例（征求意见稿）》第四十一条" in restricted
    assert "SEVERE_DISHONESTY" in restricted
    assert "409 application/problem+json" in block(text, "申请 2026-121")
    down = block(text, "申请 2026-122")
    assert "503 application/problem+json (Retry-After: 30 s)" in down
    assert "do not treat the subject as clear" in down
    assert "422 证件号码或统一社会信用代码无效 Invalid identifier (rule check_character)" in text
    assert "Feedback (Art. 46): 2 applied incentive(s) reported" in text
    assert "Query log: 5 checks logged" in text
    no_raw_identifiers(text, sandbox)
    assert sandbox.admin.faults() == []
    # Art. 46: the red-list applicant's green channel was reported back.
    assert any(item.get("case_id") == "2026-119" for item in _delivered(sandbox))


def _delivered(sandbox: Any) -> list[dict[str, Any]]:
    return list(sandbox.admin.feedback())


def test_personnel_review(sandbox: Any) -> None:
    text = personnel_demo(sandbox, today=AS_OF)
    cleared = block(text, "/hiring/HR-07  候选人 " + masked(sandbox)["prohibited_fields"])
    assert "200 credit CLEAR" in cleared
    assert "prohibited field(s) dropped" in cleared
    refused = block(text, "/hiring/HR-07  候选人 " + masked(sandbox)["judgment_defaulter"])
    assert "403 适用失信约束措施 Credit restrictions apply" in refused
    assert "限制录用、聘用为公务员" in refused
    assert "403 信息主体的授权不允许本次查询 The subject's authorisation" in block(
        text, "/hiring/HR-08"
    )
    linked = block(text, "/qualification/Q-2026-31")
    assert "200 credit RESTRICTED" in linked
    assert "qualifies on credit: no" in linked
    assert f"{masked(sandbox)['severe_list']}（法定代表人 legal representative）" in linked
    assert "第四十五条" in linked
    down = block(text, "/qualification/Q-2026-32")
    assert "503 无法判定，核查未完成 Credit check indeterminate" in down
    assert "Query log: 4 checks logged" in text
    no_raw_identifiers(text, sandbox)


def test_decorators(sandbox: Any) -> None:
    text = decorators_demo(sandbox, today=AS_OF)
    assert "SUB-2026-01  " + masked(sandbox)["clean"] + "  — no records\n  → granted" in text
    assert "(red list: paid first, Art. 40)" in block(text, "SUB-2026-02")
    refused = block(text, "SUB-2026-03")
    assert "refused (403)" in refused
    assert "限制获得财政性资金" in refused
    assert "refused (503)" in block(text, "SUB-2026-04")
    honours = text.split("荣誉称号", 1)[1]
    assert "→ nominated" in honours
    assert "deferred: a record is under objection (Art. 53)" in honours
    assert "不得参评诚信类荣誉" in honours
    no_raw_identifiers(text, sandbox)


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "examples.permit_approval"],
        ["examples/personnel_review/app.py"],
        ["-m", "examples.decorators"],
    ],
    ids=["permit_approval", "personnel_review-script", "decorators"],
)
def test_runs_alone_against_a_running_sandbox(sandbox: Any, command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", *command,
         "--sandbox-url", sandbox.url, "--token", sandbox.token],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Query log:" in done.stdout
    assert "(Art. 25)" in done.stdout
    no_raw_identifiers(done.stdout, sandbox)
