"""`make demo` end to end: the script the Makefile runs, as a subprocess of this environment's
Python, and once in-process with its query log kept for `credit-sdk audit`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="the demo runs the sandbox ('sandbox' extra)")

from credit_sdk.cli import main as credit_sdk_cli
from credit_sdk.sandbox import seeded_subjects

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo.py"


@pytest.fixture(scope="module")
def demo_output() -> str:
    done = subprocess.run(
        [sys.executable, str(DEMO)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_every_scripted_check_gives_its_outcome(demo_output: str) -> None:
    assert "UNEXPECTED" not in demo_output
    assert "all good" in demo_output
    for heading in (
        "1. Licensing window",
        "2. Tender",
        "3. Personnel review",
        "4. The platform is down",
        "6. Result feedback",
        "6b. The organ's own duties",
        "7. A log outsiders can check",
        "8. For the desk",
        "9. The query log",
    ):
        assert heading in demo_output
    permit = demo_output.split("1. Licensing window")[1].split("2. Tender")[0]
    for outcome in ("INCENTIVES", "RESTRICTED", "CLEAR"):
        line = next(x for x in permit.splitlines() if f"[{outcome}]" in x)
        assert line.strip().startswith("核查结论 Outcome")  # Chinese first
    tender = demo_output.split("2. Tender")[1].split("3. Personnel")[0]
    for outcome in ("RESTRICTED", "INCENTIVES", "CLEAR", "REVIEW"):
        assert outcome in tender
    assert "-3" in tender  # the Art. 42(3) deduction
    personnel = demo_output.split("3. Personnel review")[1].split("4. The platform")[0]
    assert personnel.count("限制 restricted [RESTRICTED]") == 2
    outage = demo_output.split("4. The platform is down")[1].split("5. The integration")[0]
    assert "INDETERMINATE" in outage
    assert "CLEAR" not in outage


def test_decisions_carry_their_legal_basis(demo_output: str) -> None:
    assert demo_output.count("设定依据") >= 8
    assert "实施主体" in demo_output
    assert "Art. 42(3)" in demo_output
    assert "Commitment route (Art. 28)" in demo_output


def test_feedback_delivered_and_chain_verified(demo_output: str) -> None:
    feedback = demo_output.split("6. Result feedback")[1].split("6b. The organ's own duties")[0]
    assert "pending 0, dead letters 0" in feedback
    assert "[ok]" in feedback
    assert "chain verified:" in demo_output
    assert " 0 incomplete" in demo_output


def test_a_push_and_a_correction_are_delivered(demo_output: str) -> None:
    duties = demo_output.split("6b. The organ's own duties")[1].split("7. A log outsiders")[0]
    assert "Art. 22" in duties
    assert "Art. 52 ¶1" in duties
    assert "the platform received: correction, push   [ok]" in duties
    assert "due 20" in duties  # each with its due date


def test_examples_section_runs(demo_output: str) -> None:
    examples = demo_output.split("5. The integration examples")[1].split("6. Result")[0]
    assert "FAILED" not in examples
    for name in ("permit_approval", "bidding_platform", "personnel_review", "decorators"):
        assert f"examples/{name}" in examples
        if (ROOT / "examples" / name).exists():
            section = examples.split(f"examples/{name}")[1].split("\n--- ")[0]
            assert "[ok, " in section, section


def test_no_raw_identifier_in_the_output(demo_output: str) -> None:
    for seeded in seeded_subjects():
        assert seeded.identifier.reveal() not in demo_output


def test_kept_query_log_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from examples import demo

    assert demo.main(["--keep", str(tmp_path), "--skip-examples"]) == 0
    out = capsys.readouterr().out
    assert "all good" in out
    db = tmp_path / "query-log.db"
    assert credit_sdk_cli(["audit", "verify", "--db", str(db)]) == 0
    assert "chain verified: " in capsys.readouterr().out


def test_a_checkpoint_is_witnessed_and_a_decision_replayed(demo_output: str) -> None:
    part = demo_output.split("7. A log outsiders can check")[1].split("8. For the desk")[0]
    assert "the sandbox platform keeps it (POST /v1/checkpoints)   [ok]" in part
    assert "proven against witnessed checkpoints up to record" in part
    assert "replayed the same: RESTRICTED" in part
    assert "UNEXPECTED" not in part


def test_the_desk_gets_a_sheet_and_a_csv(demo_output: str) -> None:
    desk = demo_output.split("8. For the desk")[1].split("9. The query log")[0]
    assert "招标投标信用核查汇总 Tender credit screening" in desk
    sheet = ROOT / ".demo" / "核查单-HLJ-2026-017.html"
    table = ROOT / ".demo" / "核查结果-HLJ-2026-017.csv"
    assert str(sheet) in desk
    assert str(table) in desk
    html = sheet.read_text(encoding="utf-8")
    assert "联合奖惩核查单" in html
    assert "设定依据" in html
    assert table.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "投标人 Bidder" in table.read_text(encoding="utf-8-sig")
    for seeded in seeded_subjects():
        assert seeded.identifier.reveal() not in html
