"""AsyncCreditClient: the same steps and policies as the blocking client, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from credit_sdk import (
    AsyncCreditClient,
    AuditError,
    Catalog,
    FailurePolicy,
    InvalidIdentifier,
    MemoryProvider,
    MemoryQueryLog,
    Outcome,
    PlatformUnavailable,
    QueryCompletion,
    QueryContext,
    QueryIntent,
    Scenario,
)
from tests.client.conftest import COMPANY, KEY, OTHER_COMPANY, PERSON, FakeClock
from tests.legal.builders import AS_OF


def make(platform: MemoryProvider, log: Any, catalog: Catalog, **extra: Any) -> AsyncCreditClient:
    return AsyncCreditClient(
        provider=platform,
        audit=log,
        pseudonym_key=KEY,
        catalog=catalog,
        today=lambda: AS_OF,
        feedback_poll_interval=0.05,
        **extra,
    )


def test_async_check_logs_and_decides(
    platform: MemoryProvider, audit: MemoryQueryLog, catalog: Catalog, ctx: QueryContext
) -> None:
    async def main() -> None:
        async with make(platform, audit, catalog) as client:
            decision = await client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, ctx)
            assert decision.outcome is Outcome.RESTRICTED
            again = await client.check(COMPANY, Scenario.GOVERNMENT_PROCUREMENT, ctx)
            assert again.query_id != decision.query_id
            with pytest.raises(InvalidIdentifier):
                await client.check("nope", Scenario.BIDDING, ctx)

    asyncio.run(main())
    assert platform.calls["query_report"] == 1
    assert audit.stats().intents == audit.stats().completions == 2


def test_async_failure_policy(
    platform: MemoryProvider, audit: MemoryQueryLog, catalog: Catalog, ctx: QueryContext
) -> None:
    clock = FakeClock()

    async def main() -> None:
        async with make(
            platform, audit, catalog, clock=clock, failure_policy=FailurePolicy.serve_stale(600)
        ) as client:
            await client.check(COMPANY, Scenario.BIDDING, ctx)
            clock.advance(120)
            platform.fail_next(PlatformUnavailable("down"), times=2)
            stale = await client.check(COMPANY, Scenario.BIDDING, ctx)
            assert "STALE_DATA" in stale.flags
            unknown = await client.check(OTHER_COMPANY, Scenario.BIDDING, ctx)
            assert unknown.outcome is Outcome.INDETERMINATE
        async with make(
            platform,
            audit,
            catalog,
            failure_policy=FailurePolicy.fail_closed(raise_on_unavailable=True),
        ) as c:
            platform.fail_next(PlatformUnavailable("down"))
            with pytest.raises(PlatformUnavailable):
                await c.check(OTHER_COMPANY, Scenario.BIDDING, ctx)

    asyncio.run(main())
    errors = [c.error for r in audit.export() if (c := r.completion()) is not None]
    assert errors.count("PlatformUnavailable") == 3


def test_async_log_failure_fails_closed(
    platform: MemoryProvider, catalog: Catalog, ctx: QueryContext
) -> None:
    class Broken(MemoryQueryLog):
        def append(self, records: Sequence[QueryIntent | QueryCompletion]) -> None:
            raise AuditError("database gone")

    async def main() -> None:
        async with make(platform, Broken(), catalog) as client:
            with pytest.raises(AuditError):
                await client.check(COMPANY, Scenario.BIDDING, ctx)

    asyncio.run(main())
    assert platform.calls["query_report"] == 0


def test_async_check_many_feedback_objection_and_status(
    platform: MemoryProvider, audit: MemoryQueryLog, catalog: Catalog, ctx: QueryContext
) -> None:
    async def main() -> None:
        async with make(platform, audit, catalog, batch_size=1, batch_concurrency=2) as client:
            results = await client.check_many(
                [COMPANY, "bad", OTHER_COMPANY, PERSON], Scenario.BIDDING, ctx
            )
            assert [r.ok for r in results] == [True, False, True, True]
            decision = results[0].unwrap()
            await client.feedback(
                decision,
                applied=list(decision.applied_measure_ids),
                case_id="T-1",
                implementing_department="230100-SCJGJ",
            )
            stats = await client.flush(timeout=5)
            assert stats.pending == 0
            receipt = await client.file_objection(COMPANY, "L1", "listing revoked")
            assert receipt.objection_id
            report = await client.report(COMPANY, ctx)
            assert report.report_id
            status = await client.status()
            assert status.ready
            assert (await client.wait_until_ready(1)).ready

    asyncio.run(main())
    assert platform.calls["query_reports"] == 3
    assert len(platform.feedback) >= 1


def test_async_client_runs_fifty_checks_concurrently(
    platform: MemoryProvider, audit: MemoryQueryLog, catalog: Catalog, ctx: QueryContext
) -> None:
    async def main() -> list[Any]:
        async with make(platform, audit, catalog, cache_ttl=0) as client:
            return await asyncio.gather(
                *(client.check(COMPANY, Scenario.BIDDING, ctx) for _ in range(50))
            )

    decisions = asyncio.run(main())
    assert len({d.query_id for d in decisions}) == 50
    assert audit.stats().incomplete == 0
    assert audit.verify().ok
