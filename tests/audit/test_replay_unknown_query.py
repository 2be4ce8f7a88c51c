"""Replaying a query the log does not hold (docs/audit.md, `replay` and `credit-sdk audit
replay QUERY_ID`): an `AuditError` that quotes the query id only in the form the SDK hands
out; whatever else was typed (an ID number pasted by mistake) is not echoed (Art. 24)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import AuditError, MemoryQueryLog, new_query_id, open_query_log, replay
from credit_sdk.cli import main

PASTED = ("110101199003077778", "91230100MA1EXA017F", "13912345678", "张三丰")


@pytest.mark.parametrize("typed", PASTED)
def test_an_unknown_query_is_refused_without_echoing_what_was_typed(typed: str) -> None:
    with pytest.raises(AuditError, match="holds no completed query") as caught:
        replay(MemoryQueryLog(), typed)
    assert typed not in f"{caught.value} {caught.value!r}"


def test_an_unknown_query_id_of_the_sdks_form_is_named() -> None:
    query_id = new_query_id()
    with pytest.raises(AuditError, match=query_id):
        replay(MemoryQueryLog(), query_id)


@pytest.mark.parametrize("query_id", [None, 5, [new_query_id()]], ids=repr)
def test_a_query_id_that_is_not_text_is_a_type_error_naming_it(query_id: Any) -> None:
    with pytest.raises(TypeError, match=r"^query_id must be str"):
        replay(MemoryQueryLog(), query_id)


@pytest.mark.parametrize("typed", PASTED)
def test_the_command_line_does_not_echo_it_either(typed: str, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    open_query_log(db).close()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["audit", "replay", typed, "--db", str(db)])
    assert code != 0
    assert typed not in out.getvalue() + err.getvalue()
