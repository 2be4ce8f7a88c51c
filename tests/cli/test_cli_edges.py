"""Command-line rough edges: --sandbox honours CREDIT_SDK_RAISE_ON_UNAVAILABLE, prune's dry run
refuses a broken chain like the real run, verify leaves a file's mode alone, the sandbox
without its extra, configuration errors naming the variable, and ``lists hash``."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from credit_sdk import SQLiteQueryLog
from credit_sdk._catalog import MeasureList, content_sha256
from credit_sdk.cli import (
    EXIT_BROKEN_CHAIN,
    EXIT_CONFIG,
    EXIT_INDETERMINATE,
    EXIT_INVALID_LIST,
    EXIT_OK,
    EXIT_PLATFORM,
)

from .conftest import CONTEXT, Run

if TYPE_CHECKING:
    from credit_sdk.sandbox import SandboxServer

Raw = Callable[[str], str]
SHIPPED = Path(__file__).resolve().parents[2] / "credit_sdk" / "data" / "lists"


def test_sandbox_option_honours_raise_on_unavailable(
    run: Run, sandbox: SandboxServer, raw: Raw, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.admin.inject_fault("reports:query", status=503)
    argv = ("check", raw("clean"), "--scenario", "bidding", *CONTEXT, "--sandbox", sandbox.url)
    assert run(*argv).code == EXIT_INDETERMINATE
    sandbox.admin.clear_faults()
    sandbox.admin.inject_fault("reports:query", status=503)
    monkeypatch.setenv("CREDIT_SDK_RAISE_ON_UNAVAILABLE", "true")
    monkeypatch.setenv("CREDIT_SDK_MAX_RETRIES", "0")
    result = run(*argv)
    assert result.code == EXIT_PLATFORM, result.err
    monkeypatch.setenv("CREDIT_SDK_RAISE_ON_UNAVAILABLE", "perhaps")
    result = run(*argv)
    assert result.code == EXIT_CONFIG
    assert "CREDIT_SDK_RAISE_ON_UNAVAILABLE must be true or false" in result.err


def _broken_log(path: Path) -> None:
    from tests.audit.conftest import make_completion, make_intent

    with SQLiteQueryLog(path) as log:
        for n in range(1, 4):
            intent = make_intent(n)
            log.record_intent(intent)
            log.record_completion(make_completion(intent))
    with sqlite3.connect(path) as conn:  # an insider edits a record
        conn.execute("UPDATE audit_records SET body = replace(body, 'u', 'v') WHERE seq = 2")


def test_prune_dry_run_refuses_a_broken_chain_like_the_real_run(run: Run, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    _broken_log(db)
    before = datetime.now(UTC).isoformat()
    dry = run("audit", "prune", "--db", str(db), "--before", before, "--dry-run")
    real = run("audit", "prune", "--db", str(db), "--before", before, "--yes")
    assert dry.code == real.code == EXIT_BROKEN_CHAIN
    assert "refusing to prune a chain that does not verify" in dry.err
    assert "would prune" not in dry.out


def test_verify_leaves_the_mode_of_a_file_it_did_not_create(run: Run, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    SQLiteQueryLog(db).close()
    os.chmod(db, 0o640)  # the operator's choice (e.g. an audit group may read)
    assert run("audit", "verify", "--db", str(db)).code == EXIT_OK
    assert stat.S_IMODE(db.stat().st_mode) == 0o640


def test_sandbox_without_its_extra_is_a_configuration_error(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    import credit_sdk.sandbox

    def missing() -> None:
        raise ImportError(
            "the credit-sdk sandbox needs its extra: pip install 'credit-sdk[sandbox]'"
        )

    monkeypatch.setattr(credit_sdk.sandbox, "require_extra", missing)
    result = run("sandbox", "--port", "0")
    assert result.code == EXIT_CONFIG
    assert "pip install 'credit-sdk[sandbox]'" in result.err


def test_configuration_errors_name_the_variable(
    run: Run, sandbox: SandboxServer, raw: Raw, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CREDIT_SDK_BASE_URL", sandbox.url)
    monkeypatch.setenv("CREDIT_SDK_TOKEN", sandbox.token)
    monkeypatch.setenv("CREDIT_SDK_AUDIT_DB", str(tmp_path / "a.db"))
    for bad in ("not-hex-at-all", "abcd"):
        monkeypatch.setenv("CREDIT_SDK_PSEUDONYM_KEY", bad)
        result = run("check", raw("clean"), "--scenario", "bidding", *CONTEXT)
        assert result.code == EXIT_CONFIG
        assert "CREDIT_SDK_PSEUDONYM_KEY must be" in result.err
        assert bad not in result.err


def test_lists_hash_prints_and_seals(run: Run, tmp_path: Path) -> None:
    shipped = sorted(SHIPPED.glob("*.json"))[0]
    raw = json.loads(shipped.read_text(encoding="utf-8"))
    raw.pop("sha256", None)
    raw["version"] = raw["version"] + "-local"
    edition = tmp_path / "edition.json"
    edition.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    digest = content_sha256(raw)
    shown = run("lists", "hash", str(edition))
    assert shown.code == EXIT_OK
    assert shown.out.startswith(f"{digest}  {edition}")
    assert "(declared sha256: none)" in shown.out
    sealed = run("lists", "hash", str(edition), "--write")
    assert sealed.code == EXIT_OK
    assert "written" in sealed.out
    assert MeasureList.load(edition).sha256 == digest
    again = run("lists", "hash", str(edition), "--json")
    assert json.loads(again.out)[0]["declared"] == "matches"
    # A list that breaks a rule is not sealed.
    raw["measures"][0]["legal_basis"] = []
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    before = broken.read_bytes()
    result = run("lists", "hash", str(broken), "--write")
    assert result.code == EXIT_INVALID_LIST
    assert broken.read_bytes() == before
