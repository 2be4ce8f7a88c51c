"""`credit-sdk audit ...`: each subcommand, bad arguments, missing and corrupt databases, and the
documented exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import SQLiteQueryLog
from credit_sdk.cli import (
    EXIT_BROKEN_CHAIN,
    EXIT_DB_CORRUPT,
    EXIT_DB_MISSING,
    EXIT_DB_UNAVAILABLE,
    EXIT_OK,
    EXIT_USAGE,
    main,
)

from .conftest import KEY, Raw, StoreSpec, make_completion, make_intent, resident_id

# The command line works on durable stores only.
pytestmark = pytest.mark.durable_only


@pytest.fixture
def filled(spec: StoreSpec) -> StoreSpec:
    with spec.open() as log:
        for n, raw in enumerate([resident_id(1), resident_id(2), resident_id(1)]):
            intent = make_intent(n, raw_id=raw, organ="230100-SCJGJ" if n < 2 else "230100-FGW")
            log.record_intent(intent)
            log.record_completion(make_completion(intent, "RESTRICTED" if n == 1 else "CLEAR"))
    return spec


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "pseudonym.key"
    path.write_text(KEY.hex() + "\n")
    path.chmod(0o600)
    return path


def test_verify_ok(filled: StoreSpec, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "verify", "--db", filled.db_arg)
    assert code == EXIT_OK
    assert "chain verified: 6 records" in out
    code, out, _ = run(capsys, "audit", "verify", "--db", filled.db_arg, "--json")
    data = json.loads(out)
    assert code == EXIT_OK
    assert data["ok"] is True
    assert data["count"] == 6


def test_verify_broken_names_the_position(
    filled: StoreSpec, capsys: pytest.CaptureFixture[str]
) -> None:
    Raw(filled, None).delete(3)
    code, out, _ = run(capsys, "audit", "verify", "--db", filled.db_arg)
    assert code == EXIT_BROKEN_CHAIN
    assert "chain broken at position 3" in out
    assert "deleted" in out


def test_export_by_subject_jsonl(
    filled: StoreSpec, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "audit", "export", "--db", filled.db_arg,
                         "--subject", resident_id(1), "--key-file", str(key_file))  # fmt: skip
    assert code == EXIT_OK, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [x["kind"] for x in lines] == ["intent", "completion"] * 2
    assert "exported 4 records" in err
    assert resident_id(1) not in out
    assert resident_id(1) not in err


def test_export_by_organ_and_time_csv(
    filled: StoreSpec, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.csv"
    code, _, err = run(capsys, "audit", "export", "--db", filled.db_arg, "--organ", "230100-FGW",
                       "--since", "2000-01-01", "--until", "2999-01-01T00:00:00+08:00",
                       "--format", "csv", "-o", str(target))  # fmt: skip
    assert code == EXIT_OK, err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["kind"] for r in rows] == ["intent", "completion"]
    assert rows[0]["organ"] == "230100-FGW"
    assert rows[1]["outcome"] == "CLEAR"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    code, out, _ = run(capsys, "audit", "export", "--db", filled.db_arg, "--until", "2000-01-01")
    assert code == EXIT_OK
    assert out == ""


def test_export_argument_errors(
    filled: StoreSpec, key_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = filled.db_arg
    code, _, err = run(capsys, "audit", "export", "--db", db, "--subject", resident_id(1))
    assert code == EXIT_USAGE
    assert "--key-file" in err
    bad = resident_id(1)[:-1] + ("0" if resident_id(1)[-1] != "0" else "1")
    code, _, err = run(
        capsys, "audit", "export", "--db", db, "--subject", bad, "--key-file", str(key_file)
    )
    assert code == EXIT_USAGE
    assert "not a valid identifier" in err
    assert bad not in err
    code, _, err = run(capsys, "audit", "export", "--db", db, "--subject", resident_id(1),
                       "--key-file", str(tmp_path / "missing.key"))  # fmt: skip
    assert code == EXIT_USAGE
    assert "key file" in err
    short = tmp_path / "short.key"
    short.write_bytes(b"abc")
    code, _, err = run(capsys, "audit", "export", "--db", db, "--subject", resident_id(1),
                       "--key-file", str(short))  # fmt: skip
    assert code == EXIT_USAGE
    assert "16 bytes" in err
    code, _, err = run(capsys, "audit", "export", "--db", db, "--since", "yesterday")
    assert code == EXIT_USAGE
    assert "--since" in err
    code, _, err = run(capsys, "audit", "export", "--db", db, "--format", "xml")
    assert code == EXIT_USAGE


def test_stats(filled: StoreSpec, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "stats", "--db", filled.db_arg)
    assert code == EXIT_OK
    assert "records      6" in out
    assert "RESTRICTED" in out
    assert "230100-FGW" in out
    assert "dead letters 0" in out
    code, out, _ = run(capsys, "audit", "stats", "--db", filled.db_arg, "--json")
    data = json.loads(out)
    assert data["by_outcome"] == {"CLEAR": 2, "RESTRICTED": 1}
    assert data["outbox"]["dead"] == 0


def test_prune(filled: StoreSpec, capsys: pytest.CaptureFixture[str]) -> None:
    db = filled.db_arg
    code, _, err = run(capsys, "audit", "prune", "--db", db, "--before", "2999-01-01")
    assert code == EXIT_USAGE
    assert "--yes" in err
    code, out, _ = run(capsys, "audit", "prune", "--db", db, "--before", "2000-01-01", "--yes")
    assert code == EXIT_OK
    assert "nothing to prune" in out
    from datetime import UTC, datetime

    now = datetime.now(UTC).isoformat()
    code, out, _ = run(capsys, "audit", "prune", "--db", db, "--before", now, "--dry-run")
    assert code == EXIT_OK
    assert "would prune 6 records" in out
    code, out, _ = run(capsys, "audit", "prune", "--db", db, "--before", now, "--yes")
    assert code == EXIT_OK
    assert "pruned 6 records (1..6)" in out
    code, out, _ = run(capsys, "audit", "verify", "--db", db)
    assert code == EXIT_OK
    assert "6 earlier records pruned" in out
    code, _, err = run(capsys, "audit", "prune", "--db", db, "--before", "2999-01-01", "--yes")
    assert code == EXIT_USAGE
    assert "future" in err


def test_missing_sqlite_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.db"
    for command in ("verify", "stats"):
        code, _, err = run(capsys, "audit", command, "--db", str(missing))
        assert code == EXIT_DB_MISSING
        assert "does not exist" in err
    assert not missing.exists()  # the CLI never creates a log


def test_corrupt_sqlite_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(8192))
    code, _, err = run(capsys, "audit", "verify", "--db", str(garbage))
    assert code == EXIT_DB_CORRUPT
    assert "not a readable SQLite database" in err
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    code, _, err = run(capsys, "audit", "stats", "--db", str(empty))
    assert code == EXIT_DB_CORRUPT
    assert "not a credit-sdk query log" in err
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    code, _, err = run(capsys, "audit", "verify", "--db", str(other))
    assert code == EXIT_DB_CORRUPT
    directory = tmp_path / "dir.db"
    directory.mkdir()
    code, _, err = run(capsys, "audit", "verify", "--db", str(directory))
    assert code == EXIT_DB_CORRUPT


def test_newer_schema_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    path = tmp_path / "a.db"
    SQLiteQueryLog(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    code, _, err = run(capsys, "audit", "verify", "--db", str(path))
    assert code == EXIT_DB_CORRUPT
    assert "upgrade" in err


@pytest.mark.postgres
def test_postgres_missing_database_and_schema(
    pg_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    base = pg_server.url.rsplit("/", 1)[0]
    code, _, err = run(capsys, "audit", "verify", "--db", f"{base}/no_such_db")
    assert code == EXIT_DB_MISSING, err
    code, _, err = run(capsys, "audit", "stats", "--db", f"{pg_server.url}?schema=no_such_schema")
    assert code == EXIT_DB_CORRUPT, err


def test_postgres_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = run(
        capsys, "audit", "verify", "--db", f"postgresql://nobody:secret@127.0.0.1:{port}/x"
    )
    assert code == EXIT_DB_UNAVAILABLE
    assert "secret" not in err


def test_usage_errors(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CREDIT_SDK_AUDIT_DB", raising=False)
    code, _, err = run(capsys, "audit", "verify")
    assert code == EXIT_USAGE
    assert "CREDIT_SDK_AUDIT_DB" in err
    assert run(capsys)[0] == EXIT_USAGE
    assert run(capsys, "audit")[0] == EXIT_USAGE
    assert run(capsys, "audit", "frobnicate")[0] == EXIT_USAGE
    assert run(capsys, "audit", "verify", "--bogus")[0] == EXIT_USAGE
    assert run(capsys, "audit", "prune", "--db", "x.db")[0] == EXIT_USAGE  # --before missing


def test_env_default_and_help(
    filled: StoreSpec, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CREDIT_SDK_AUDIT_DB", filled.db_arg)
    assert run(capsys, "audit", "verify")[0] == EXIT_OK
    code, out, _ = run(capsys, "audit", "verify", "--help")
    assert code == EXIT_OK
    assert "exit codes:" in out
    assert "3  the database does not exist" in out
    code, out, _ = run(capsys, "--version")
    assert code == EXIT_OK
    assert "credit-sdk" in out


def test_console_script_runs(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    SQLiteQueryLog(path).close()
    proc = subprocess.run(
        [sys.executable, "-m", "credit_sdk.cli", "audit", "verify", "--db", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0
    assert "chain verified: 0 records" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "credit_sdk.cli", "audit", "verify", "--db", str(tmp_path / "x.db")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == EXIT_DB_MISSING


def test_index_builds_checks_and_rebuilds_the_subject_index(
    filled: StoreSpec, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "audit", "index", "--db", filled.db_arg)
    assert code == EXIT_OK, err
    if filled.kind == "postgres":
        assert "ordinary index" in out
        return
    assert "indexed 6 records" in out
    code, out, _ = run(capsys, "audit", "index", "--db", filled.db_arg, "--check")
    assert (code, out.strip()) == (EXIT_OK, "the subject index matches the chain")
    # Someone with write access drops an index row.
    Raw(filled, None).sql(
        "DELETE FROM audit_subject_index WHERE seq = (SELECT MIN(seq) FROM audit_subject_index)"
    )
    code, out, _ = run(capsys, "audit", "index", "--db", filled.db_arg, "--check")
    assert code == EXIT_BROKEN_CHAIN
    assert "subject index does not match" in out
    code, out, err = run(capsys, "audit", "export", "--db", filled.db_arg,
                         "--subject", resident_id(1), "--key-file", str(key_file))  # fmt: skip
    assert code == EXIT_BROKEN_CHAIN
    assert "subject index" in err
    assert resident_id(1) not in out + err
    code, out, _ = run(capsys, "audit", "index", "--db", filled.db_arg, "--rebuild")
    assert (code, out.strip()) == (EXIT_OK, "indexed 6 records")
    code, out, _ = run(capsys, "audit", "export", "--db", filled.db_arg,
                       "--subject", resident_id(1), "--key-file", str(key_file))  # fmt: skip
    assert code == EXIT_OK
    assert [json.loads(line)["kind"] for line in out.splitlines()] == ["intent", "completion"] * 2
