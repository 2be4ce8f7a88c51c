"""An outbox that outages cannot wear out, through ``AsyncCreditClient`` against the real
sandbox on loopback (its fault injection: ``503`` answers, an answer lost after the platform
stored the items).

The same promises as for the blocking client: during an outage no delivery attempt is spent,
whatever the restarts and flushes, so a store that allows only two refusals keeps every item;
a partial outage (health answers, the feedback endpoint fails) spends none either; once the
platform is back the background sender drains the outbox by itself, even when the platform's
first answer is lost after it stored the items. Nothing is lost, nothing
is applied twice, and an outage shorter than the dead-letter age leaves no dead letter.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

from credit_sdk import (
    AsyncCreditClient,
    Decision,
    OutboxStats,
    QueryContext,
    RetryPolicy,
    Scenario,
    SQLiteQueryLog,
)
from tests.client.conftest import KEY
from tests.legal.builders import AS_OF

MAX_ATTEMPTS = 2  # two refusals kill an item: any attempt an outage spent would show
CHECKS = 3
CTX = QueryContext(
    organ="230100-SCJGJ", operator="u1024", matter_code="BID-9", purpose="tender 2026-9"
)


def _client(sandbox: Any, db: Path, lists: Path) -> AsyncCreditClient:
    client = AsyncCreditClient(
        sandbox.url,
        token=sandbox.token,
        audit=SQLiteQueryLog(db, max_attempts=MAX_ATTEMPTS),
        pseudonym_key=KEY,
        lists_dir=lists,
        list_sync_interval=None,
        today=lambda: AS_OF,
        cache_ttl=0,
        retry=RetryPolicy(
            max_attempts=2, initial_backoff=0.01, max_backoff=0.02, retry_after_cap=0.02
        ),
        feedback_poll_interval=0.05,
        outbox_probe_interval=0.05,
    )
    client._sender.initial_backoff = 0.05  # the outage's backoff, short for the test
    client._sender.max_backoff = 0.2
    return client


async def _close(client: AsyncCreditClient) -> None:
    await client.aclose()
    client._audit.close()


async def _flushes(client: AsyncCreditClient, n: int) -> OutboxStats:
    """``credit-sdk feedback flush`` run ``n`` times during the outage (each one bounded)."""
    stats = None
    for _ in range(n):
        stats = await client.flush(timeout=0.3)
    assert stats is not None
    return stats


def _kept(stats: OutboxStats, expected: int) -> None:
    assert (stats.pending, stats.dead, stats.delivered) == (expected, 0, 0)


def test_async_outage_restarts_flushes_and_partial_outage(sandbox: Any, tmp_path: Path) -> None:
    db, lists = tmp_path / "audit.db", tmp_path / "lists"
    subject = next(s for s in sandbox.seeded if s.state == "severe_list").identifier

    async def main() -> int:
        # Before the outage: decisions to give feedback on.
        first = _client(sandbox, db, lists)
        decisions: list[Decision] = [
            await first.check(subject, Scenario.BIDDING, CTX) for _ in range(CHECKS)
        ]
        measures = list(decisions[0].applied_measure_ids)
        assert measures
        expected = len(measures) * CHECKS

        # A full outage: health and feedback answer 503 until cleared.
        sandbox.admin.inject_fault("health", status=503)
        sandbox.admin.inject_fault("feedback", status=503)
        for n, decision in enumerate(decisions):
            await first.feedback(
                decision, applied=measures, case_id=f"C-{n}", implementing_department="D"
            )
        _kept(await _flushes(first, 3), expected)
        await _close(first)
        for _restart in range(2):  # restarts during the outage, each with flushes
            again = _client(sandbox, db, lists)
            _kept(await _flushes(again, 2), expected)
            await _close(again)

        # A partial outage: health answers, the feedback endpoint fails.
        sandbox.admin.clear_faults("health")
        partial = _client(sandbox, db, lists)
        _kept(await _flushes(partial, 3), expected)
        await _close(partial)
        assert sandbox.admin.feedback() == []

        # The platform is back, but its first answer is lost after it stored the items: a
        # restarted client drains the outbox without a flush, and sends them again.
        sandbox.admin.clear_faults()
        sandbox.admin.inject_fault("feedback", mode="truncate", times=1)
        sandbox.admin.reset_requests()
        last = _client(sandbox, db, lists)
        await last.check(subject, Scenario.BIDDING, CTX)  # starts the background sender
        end = time.monotonic() + 30.0  # a bound, not a timing
        while (await last.status()).outbox.pending and time.monotonic() < end:  # type: ignore[union-attr]
            await asyncio.sleep(0.05)
        assert sandbox.admin.requests()["feedback"] >= 2  # the lost answer's items went again
        stats = (await last.status()).outbox
        assert stats is not None
        assert (stats.pending, stats.dead, stats.delivered) == (0, 0, expected)
        await _close(last)
        return expected

    expected = asyncio.run(main())
    received = sandbox.admin.feedback()
    keys = Counter(item["idempotency_key"] for item in received)
    assert len(keys) == expected  # nothing lost
    assert set(keys.values()) == {1}  # nothing applied twice
