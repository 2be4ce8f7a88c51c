"""The SQLite file's layout: which indexes a record costs, and logs from earlier versions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from credit_sdk import SQLiteQueryLog

from .conftest import make_completion, make_intent, pseudonym, resident_id


def _indexes(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_records'"
            )
        }
    finally:
        conn.close()


def test_records_carry_one_secondary_index(tmp_path: Path) -> None:
    """``seq`` is the rowid (records append) and the record id's UNIQUE index is the only
    other one: a random-key index costs a random page write per record."""
    path = tmp_path / "audit.db"
    SQLiteQueryLog(path).close()
    assert len(_indexes(path)) == 1
    conn = sqlite3.connect(path)
    try:
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'audit_records'"
        ).fetchone()
        assert "seq INTEGER PRIMARY KEY" in sql
        assert "record_id TEXT NOT NULL UNIQUE" in sql
    finally:
        conn.close()


def test_a_writer_drops_the_subject_index_of_an_older_log(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    alice, bob = resident_id(1), resident_id(2)
    with SQLiteQueryLog(path) as log:
        for raw in (alice, bob, alice):
            intent = make_intent(raw_id=raw)
            log.append([intent, make_completion(intent)])
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE INDEX audit_records_subject ON audit_records (subject_pseudonym) "
        "WHERE kind = 'intent'"
    )
    conn.commit()
    conn.close()

    def alices_queries(log: SQLiteQueryLog) -> list[str]:
        return [r.record_id for r in log.export(subject_pseudonym=pseudonym(alice))]

    with SQLiteQueryLog(path, create=False) as reader:  # the CLI's way: changes nothing
        assert "audit_records_subject" in _indexes(path)
        indexed = alices_queries(reader)
    with SQLiteQueryLog(path) as writer:
        assert "audit_records_subject" not in _indexes(path)
        assert alices_queries(writer) == indexed
        assert len(indexed) == 4
        assert writer.verify().ok
