"""`credit-sdk feedback flush`: delivers the outbox of a durable query log; counts and exit
codes for delivered, still pending (platform refusing) and dead letters. `credit-sdk feedback
requeue`: puts dead letters back to pending."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from credit_sdk import (
    CreditClient,
    FeedbackItem,
    OutboxStats,
    QueryContext,
    Scenario,
    SQLiteQueryLog,
)
from credit_sdk.cli import (
    EXIT_DB_MISSING,
    EXIT_DEAD_LETTERS,
    EXIT_OK,
    EXIT_PLATFORM,
    EXIT_USAGE,
)
from credit_sdk.sandbox import seeded_subject

from .conftest import KEY_HEX, Run

if TYPE_CHECKING:
    from credit_sdk.sandbox import SandboxServer

CTX = QueryContext(
    organ="230100-CZJ", operator="u1024", matter_code="BID-17", purpose="tender 2026-17"
)


def pending_feedback(sandbox: SandboxServer, db: Path, lists: Path) -> None:
    """Check a subject and record feedback while the platform refuses feedback, so that the
    item stays in the outbox after the client closes."""
    sandbox.admin.inject_fault("feedback", status=503)
    with (
        SQLiteQueryLog(db) as log,
        CreditClient.sandbox(
            sandbox.url,
            token=sandbox.token,
            audit=log,
            pseudonym_key=bytes.fromhex(KEY_HEX),
            lists_dir=lists,
        ) as client,
    ):
        decision = client.check(seeded_subject("severe_list").identifier, Scenario.BIDDING, CTX)
        client.feedback(
            decision,
            applied=[decision.restrictions[0].measure_id],
            case_id="BID-17",
            implementing_department="230100-CZJ",
        )
    with SQLiteQueryLog(db, create=False) as log:
        assert log.outbox_stats().pending == 1


def test_flush_delivers(run: Run, sandbox: SandboxServer, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    pending_feedback(sandbox, db, tmp_path / "lists")
    sandbox.admin.clear_faults()
    before = len(sandbox.admin.feedback())
    result = run("feedback", "flush", "--sandbox", sandbox.url, "--db", str(db))
    assert result.code == EXIT_OK, result.err
    assert "delivered 1 now; pending 0 (in flight 0), dead letters 0" in result.out
    assert len(sandbox.admin.feedback()) == before + 1
    again = run("feedback", "flush", "--sandbox", sandbox.url, "--db", str(db), "--json")
    assert again.code == EXIT_OK
    data = json.loads(again.out)
    assert (data["delivered_now"], data["pending"], data["delivered"]) == (0, 0, 1)


def test_flush_leaves_pending_when_the_platform_refuses(
    run: Run, sandbox: SandboxServer, tmp_path: Path
) -> None:
    db = tmp_path / "audit.db"
    pending_feedback(sandbox, db, tmp_path / "lists")  # the fault stays on
    result = run("feedback", "flush", "--sandbox", sandbox.url, "--db", str(db), "--timeout", "0.5")
    assert result.code == EXIT_PLATFORM
    assert "pending 1" in result.out
    assert "last error" in result.out


def test_flush_from_the_environment(
    run: Run, env_client: Path, sandbox: SandboxServer, tmp_path: Path
) -> None:
    pending_feedback(sandbox, env_client, tmp_path / "lists")
    sandbox.admin.clear_faults()
    result = run("feedback", "flush")
    assert result.code == EXIT_OK
    assert "delivered 1 now" in result.out


def test_dead_letters(
    run: Run, sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "audit.db"
    SQLiteQueryLog(db).close()
    dead = OutboxStats(pending=0, in_flight=0, delivered=4, dead=2, oldest_pending_at=None)
    # Dead letters take the store's max_attempts refusals; their exit code is what is tested.
    monkeypatch.setattr(CreditClient, "flush", lambda self, timeout=30.0: dead)
    result = run("feedback", "flush", "--sandbox", sandbox.url, "--db", str(db))
    assert result.code == EXIT_DEAD_LETTERS
    assert "dead letters 2" in result.out
    assert "audit stats" in result.out


def test_flush_errors(run: Run, sandbox: SandboxServer, tmp_path: Path) -> None:
    result = run("feedback", "flush", "--sandbox", sandbox.url)
    assert result.code == EXIT_USAGE
    assert "--db" in result.err
    # A missing log is not created: an empty new log would claim nothing is pending.
    result = run("feedback", "flush", "--sandbox", sandbox.url, "--db", str(tmp_path / "no.db"))
    assert result.code == EXIT_DB_MISSING
    assert not (tmp_path / "no.db").exists()
    assert run("feedback").code == EXIT_USAGE
    assert run("feedback", "flush", "--timeout", "soon").code == EXIT_USAGE


def test_requeue_dead_letters(run: Run, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    with SQLiteQueryLog(db, max_attempts=1) as log:
        log.enqueue_feedback(
            [
                FeedbackItem(
                    query_id=f"q{n:06d}",
                    measure_id="N-41-3",
                    applied=True,
                    case_id=f"BID-{n}",
                    implementing_department="230100-CZJ",
                    occurred_at=datetime.now(UTC),
                )
                for n in range(3)
            ]
        )
        dead = [c.outbox_id for c in log.claim_feedback(3, 30)]
        log.mark_failed(dead, "HTTP 422 from platform")
        assert log.outbox_stats().dead == 3
    result = run("feedback", "requeue", "--db", str(db), "--id", str(dead[0]), "--id", "999")
    assert result.code == EXIT_OK, result.err
    assert "requeued 1 dead letters; pending 1 (in flight 0), dead letters 2" in result.out
    again = run("feedback", "requeue", "--db", str(db), "--json")
    assert again.code == EXIT_OK, again.err
    data = json.loads(again.out)
    assert (data["requeued"], data["pending"], data["dead"]) == (2, 3, 0)
    with SQLiteQueryLog(db, create=False, max_attempts=1) as log:
        claimed = log.claim_feedback(10, 30)
        assert sorted(c.outbox_id for c in claimed) == sorted(dead)
        assert all(c.attempt == 1 for c in claimed)
    # Like the audit commands, a missing log is not created.
    missing = run("feedback", "requeue", "--db", str(tmp_path / "no.db"))
    assert missing.code == EXIT_DB_MISSING
    assert not (tmp_path / "no.db").exists()
    assert run("feedback", "requeue", "--db", str(db), "--id", "x").code == EXIT_USAGE
    assert run("feedback", "requeue").code == EXIT_USAGE


def test_requeue_and_stats_cover_every_kind(run: Run, tmp_path: Path) -> None:
    from credit_sdk import OutboxItem

    db = tmp_path / "audit.db"
    with SQLiteQueryLog(db, max_attempts=1) as log:
        log.enqueue_outbox(
            [
                OutboxItem(kind="push", idempotency_key="p-1", payload='{"category":"x"}'),
                OutboxItem(kind="correction", idempotency_key="c-1", payload='{"category":"x"}'),
            ]
        )
        log.enqueue_feedback(
            [
                FeedbackItem(
                    query_id="q000001",
                    measure_id="N-41-3",
                    applied=True,
                    case_id="BID-1",
                    implementing_department="230100-CZJ",
                    occurred_at=datetime.now(UTC),
                )
            ]
        )
        dead = [c.outbox_id for c in log.claim_outbox(2, 30, kinds=["push", "correction"])]
        log.mark_failed(dead, "HTTP 422 from platform")
    stats = run("audit", "stats", "--db", str(db))
    assert stats.code == EXIT_OK, stats.err
    lines = stats.out.splitlines()
    assert any(line.split()[:3] == ["push", "pending", "0"] and "dead letters 1" in line
               for line in lines)  # fmt: skip
    assert any(line.split()[:3] == ["feedback", "pending", "1"] for line in lines)
    result = run("feedback", "requeue", "--db", str(db), "--json")
    assert result.code == EXIT_OK, result.err
    data = json.loads(result.out)
    assert data["requeued"] == 2
    assert {k: v["pending"] for k, v in data["by_kind"].items()} == {
        "correction": 1,
        "feedback": 1,
        "push": 1,
    }


def test_flushes_during_an_outage_spend_no_attempt(
    run: Run, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """The documented cron job (`feedback flush` every few minutes) during a partial outage:
    the feedback endpoint answers 503 while health answers. Every run exits 7 and spends no
    attempt; after recovery one run delivers the item, once."""
    db = tmp_path / "audit.db"
    pending_feedback(sandbox, db, tmp_path / "lists")  # the fault stays on
    before = len(sandbox.admin.feedback())
    for _ in range(12):  # more runs than the store's ten attempts
        result = run(
            "feedback", "flush", "--sandbox", sandbox.url, "--db", str(db), "--timeout", "0.2"
        )
        assert result.code == EXIT_PLATFORM, result.err
        assert "pending 1" in result.out
        assert "dead letters 0" in result.out
    with SQLiteQueryLog(db, create=False) as log:
        (claim,) = log.claim_outbox(10, 30.0)
        assert claim.attempt == 1  # no earlier attempt was counted
        log.mark_failed([claim.outbox_id], "inspected", attempt=False)
    sandbox.admin.clear_faults()
    result = run("feedback", "flush", "--sandbox", sandbox.url, "--db", str(db))
    assert result.code == EXIT_OK, result.err
    assert "delivered 1 now; pending 0 (in flight 0), dead letters 0" in result.out
    received = sandbox.admin.feedback()
    assert len(received) == before + 1
