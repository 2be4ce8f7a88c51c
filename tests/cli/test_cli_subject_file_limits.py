"""`credit-sdk check --file` (docs/errors.md: exit 2 for an unreadable file): a subjects file the
csv module cannot read, such as a cell beyond its field size limit, is a usage error naming the
line, exit 2, never a traceback with exit 1 (which the one exit-code table reserves for a
query log whose chain does not verify)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from credit_sdk.cli import main


def test_a_cell_beyond_the_csv_field_limit_is_a_usage_error(tmp_path: Path) -> None:
    subjects = tmp_path / "bidders.csv"
    subjects.write_text("subject\n" + "9" * 200_000 + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([
            "check", "--file", str(subjects), "--scenario", "bidding", "--organ", "230100-GGZY",
            "--operator", "u1024", "--purpose", "tender 2026-17",
            "--sandbox", "http://127.0.0.1:9",
        ])  # fmt: skip
    assert code == 2
    assert "line 2" in err.getvalue()
    assert "Traceback" not in err.getvalue() + out.getvalue()
    assert "9" * 20 not in err.getvalue() + out.getvalue()
