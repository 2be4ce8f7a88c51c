"""examples/bidding_platform: the tender screening runs against the sandbox and reads right."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn", reason="the example runs against the sandbox ('sandbox' extra)")

from examples.bidding_platform import run_demo

ROOT = Path(__file__).resolve().parents[2]
RAW_ID = re.compile(r"\b(?:\d{17}[\dXx]|[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10})\b")


@pytest.fixture
def sandbox(sandbox_server: Any) -> Any:
    sandbox_server.admin.reset()
    yield sandbox_server
    sandbox_server.admin.clear_faults()


def test_run_demo_screens_the_tender(sandbox: Any) -> None:
    masked = {s.state: s.identifier.masked for s in sandbox.seeded}
    before = len(sandbox.admin.feedback())
    text = run_demo(sandbox)
    assert "HLJ-ZB-2026-0318" in text
    assert "5（排除 1，待复核 1，无法判定 0，准入 3）" in text
    excluded = text.split("1. 投标人A", 1)[1].split("\n\n", 1)[0]
    assert masked["severe_list"] in excluded
    assert "排除 excluded" in excluded
    assert "设定依据" in excluded
    assert "实施主体" in excluded
    assert "HLJ-SUP-42.3-02" in excluded
    assert "+2 (加分 bonus)" in text
    assert "-3 (减分 deduction)" in text
    assert "待复核 under review" in text
    assert "4 applied measure(s) reported" in text
    assert len(sandbox.admin.feedback()) - before == 4
    assert sandbox.admin.requests().get("reports:batchQuery") == 1
    assert not RAW_ID.search(text)


def test_runs_alone_against_a_running_sandbox(sandbox: Any) -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", "examples.bidding_platform.screen",
         "--url", sandbox.url, "--token", sandbox.token],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "招标投标信用核查汇总" in done.stdout
    assert "排除 1" in done.stdout
