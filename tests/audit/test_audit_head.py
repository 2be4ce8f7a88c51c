"""The chain head row (Art. 25): a missing, duplicated, malformed or rewound head row is a broken
chain everywhere. ``verify`` fails naming it, ``stats`` reports it instead of crashing, and
every write (a check through ``CreditClient`` included) raises ``AuditError``, never
``TypeError``, and writes nothing."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from credit_sdk import AuditError, AuditIntegrityError, Scenario
from credit_sdk.testing import CreditPlatform, fake_uscc

from .conftest import Raw, StoreSpec, make_completion, make_intent

pytestmark = pytest.mark.durable_only


@pytest.fixture
def six(store: Any) -> list[Any]:
    for n in range(3):
        intent = make_intent(n)
        store.record_intent(intent)
        store.record_completion(make_completion(intent))
    return list(store.export())


def _delete_head(raw: Raw) -> None:
    raw.sql("DELETE FROM {s}.audit_chain_head")


def _duplicate_head(raw: Raw, spec: StoreSpec) -> None:
    if spec.kind == "sqlite":
        # The table's CHECK (id = 1) can be switched off by anyone who can write the file.
        conn = sqlite3.connect(spec.target, isolation_level=None)
        try:
            conn.executescript(
                "PRAGMA ignore_check_constraints = ON;"
                "INSERT INTO audit_chain_head (id, seq, hash) "
                "SELECT 2, seq, hash FROM audit_chain_head WHERE id = 1;"
            )
        finally:
            conn.close()
    else:
        raw.sql("ALTER TABLE {s}.audit_chain_head DROP CONSTRAINT audit_chain_head_pkey")
        raw.sql("INSERT INTO {s}.audit_chain_head SELECT * FROM {s}.audit_chain_head")


def _write_fails_closed(store: Any, spec: StoreSpec, raw: Raw) -> None:
    before = len(raw.rows())
    for log in (store, spec.open(group_commit=False)):
        with pytest.raises(AuditIntegrityError, match="chain head"):
            log.record_intent(make_intent(40))
    assert len(raw.rows()) == before


def test_deleted_head_row_breaks_the_chain(
    store: Any, spec: StoreSpec, raw: Raw, six: list[Any]
) -> None:
    _delete_head(raw)
    result = store.verify()
    assert not result.ok
    assert (result.break_kind, result.position, result.record_id) == ("head", 6, None)
    assert result.count == 6
    assert "chain head row" in str(result)
    assert "missing" in str(result)
    stats = store.stats()
    assert "missing" in (stats.head_problem or "")
    assert (stats.head_seq, stats.head_hash) == (6, six[-1].hash)
    assert stats.records == 6
    _write_fails_closed(store, spec, raw)
    with pytest.raises(AuditIntegrityError):
        store.prune(six[-1].recorded_at)


def test_deleted_head_row_of_an_empty_log_breaks_it(store: Any, raw: Raw) -> None:
    _delete_head(raw)
    result = store.verify()
    assert (result.ok, result.break_kind) == (False, "head")
    assert store.stats().head_problem is not None


def test_duplicated_head_row_breaks_the_chain(
    store: Any, spec: StoreSpec, raw: Raw, six: list[Any]
) -> None:
    _duplicate_head(raw, spec)
    result = store.verify()
    assert (result.ok, result.break_kind, result.position) == (False, "head", 6)
    assert "2 rows" in str(result)
    assert "2 rows" in (store.stats().head_problem or "")
    if spec.kind == "sqlite":
        _write_fails_closed(store, spec, raw)


def test_malformed_head_row_breaks_the_chain(
    store: Any, spec: StoreSpec, raw: Raw, six: list[Any]
) -> None:
    raw.sql("UPDATE {s}.audit_chain_head SET hash = 'not a hash'")
    result = store.verify()
    assert (result.ok, result.break_kind) == (False, "head")
    assert "malformed" in (store.stats().head_problem or "")
    _write_fails_closed(store, spec, raw)


def test_rewound_head_row_is_found(store: Any, raw: Raw, six: list[Any]) -> None:
    # The head moved back to record 4, as if records 5 and 6 had never been acknowledged.
    raw.sql("UPDATE {s}.audit_chain_head SET seq = 4, hash = %s", (six[3].hash,))
    result = store.verify()
    assert (result.ok, result.break_kind, result.position) == (False, "inserted", 5)
    assert result.record_id == six[4].record_id


def test_a_check_raises_audit_error_when_the_head_row_is_gone(
    spec: StoreSpec, store: Any, raw: Raw, six: list[Any]
) -> None:
    platform = CreditPlatform()
    company = fake_uscc(7)
    platform.subject(company).on_red_list()
    for log in (store, spec.open(group_commit=False)):
        with platform.client(audit=log) as client:
            client.check(company, Scenario.ADMIN_LICENSING, _ctx())
            _delete_head(raw)
            try:
                with pytest.raises(AuditError) as caught:
                    client.check(company, Scenario.ADMIN_LICENSING, _ctx())
                assert not isinstance(caught.value, TypeError)
                assert "chain head" in str(caught.value)
            finally:
                raw.sql(
                    "INSERT INTO {s}.audit_chain_head (id, seq, hash) VALUES (1, %s, %s)",
                    (raw.rows()[-1].seq, raw.rows()[-1].hash),
                )
    assert store.verify().ok


def _ctx() -> Any:
    from credit_sdk import QueryContext

    return QueryContext(
        organ="230100-SCJGJ", operator="u1024", matter_code="LIC-1", purpose="licence 2026-118"
    )


def test_the_command_line_reports_a_deleted_head_row(
    spec: StoreSpec, store: Any, raw: Raw, six: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from credit_sdk.cli import EXIT_BROKEN_CHAIN, main

    _delete_head(raw)
    assert main(["audit", "verify", "--db", spec.db_arg]) == EXIT_BROKEN_CHAIN
    out = capsys.readouterr().out
    assert "chain broken at position 6" in out
    assert "chain head row" in out
    assert main(["audit", "stats", "--db", spec.db_arg]) == EXIT_BROKEN_CHAIN
    out = capsys.readouterr().out
    assert "CHAIN BROKEN" in out
    assert "records      6" in out
    assert main(["audit", "stats", "--json", "--db", spec.db_arg]) == EXIT_BROKEN_CHAIN
    assert "missing" in json.loads(capsys.readouterr().out)["head_problem"]
