"""docs/integration-workflows.md: every guide's snippet runs as written against a sandbox."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import pytest

from tests.workflows.conftest import assert_no_raw_identifiers

DOC = Path(__file__).resolve().parents[2] / "docs" / "integration-workflows.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
EXPECTED = {
    "licensing": ["行政许可信用核查", "HLJ-INC-40.1-01", "verify the commitment by", " True\n"],
    "procurement": ["招标投标信用核查汇总", "投标人A", "HLJ-SUP-42.3-04", "投标人B admitted 2.0"],
    "personnel": ["restricted", "法定代表人 9123**********017F severe_dishonesty"],
    "async": ["('投标人1', 'excluded')", "True"],
}


def _kind(block: str) -> str:
    for kind, module in (("async", "acheck_applicant"), ("licensing", "adapters.licensing"),
                         ("procurement", "adapters.procurement"),
                         ("personnel", "adapters.personnel")):  # fmt: skip
        if module in block:
            return kind
    raise AssertionError("a snippet without a helper")


def test_every_guide_has_a_snippet() -> None:
    assert sorted(_kind(b) for b in BLOCKS) == sorted(EXPECTED)


@pytest.mark.parametrize("block", BLOCKS, ids=[_kind(b) for b in BLOCKS])
def test_snippet_runs_against_the_sandbox(
    block: str, sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert 'SANDBOX_URL = "http://127.0.0.1:8765"' in block
    code = block.replace("http://127.0.0.1:8765", sandbox.url).replace(
        "sandbox-token-not-a-secret", sandbox.token
    )
    monkeypatch.chdir(tmp_path)  # the snippets write their query log or file where they run
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"{DOC.name}:{_kind(block)}", "exec"), {"__name__": "snippet"})
    printed = out.getvalue()
    for expected in EXPECTED[_kind(block)]:
        assert expected in printed, (expected, printed)
    assert_no_raw_identifiers(printed)
