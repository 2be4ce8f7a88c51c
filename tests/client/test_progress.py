"""``check_many(progress=...)`` and ``screen_tender(progress=...)``: (done, total, failures)
after each round, once that round is logged."""

from __future__ import annotations

import asyncio

import pytest
from credit_sdk.adapters.procurement import ascreen_tender, screen_tender

from credit_sdk import MemoryQueryLog, QueryContext
from credit_sdk.testing import CreditPlatform, fake_uscc

CTX = QueryContext(organ="230100-GGZY", operator="u1", matter_code="ZB", purpose="sample batch")
SUBJECTS = [fake_uscc(1), "not-an-id", fake_uscc(2), fake_uscc(3), fake_uscc(4)]


def _completions(log: MemoryQueryLog) -> int:
    return sum(1 for r in log.export() if r.kind == "completion")


def _platform() -> CreditPlatform:
    platform = CreditPlatform()
    platform.subject(fake_uscc(1)).on_severe_list()
    platform.unavailable_for(fake_uscc(3))
    return platform


def test_progress_after_each_logged_round() -> None:
    log = MemoryQueryLog()
    seen: list[tuple[int, int, int, int]] = []
    with _platform().client(audit=log, batch_size=2, batch_concurrency=1) as client:
        results = client.check_many(
            SUBJECTS,
            "bidding",
            CTX,
            progress=lambda done, total, failed: seen.append(
                (done, total, failed, _completions(log))
            ),
        )
    assert [(d, t, f) for d, t, f, _ in seen] == [(2, 5, 1), (4, 5, 1), (5, 5, 1)]
    # Each call comes after the round is in the log (the invalid identifier never is).
    assert [logged for *_, logged in seen] == [1, 3, 4]
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert results[0].decision is not None
    assert results[0].decision.outcome.value == "RESTRICTED"
    assert results[1].error is not None
    assert results[3].decision is not None
    assert results[3].decision.outcome.value == "INDETERMINATE"  # a decision, not a failure


def test_a_progress_callback_that_raises_stops_after_its_round() -> None:
    log = MemoryQueryLog()

    def stop(done: int, total: int, failed: int) -> None:
        raise KeyboardInterrupt

    with (
        _platform().client(audit=log, batch_size=2, batch_concurrency=1) as client,
        pytest.raises(KeyboardInterrupt),
    ):
        client.check_many(SUBJECTS, "bidding", CTX, progress=stop)
    assert _completions(log) == 1  # the first round, and nothing after it


def test_screen_tender_passes_progress_on() -> None:
    seen: list[tuple[int, int, int]] = []
    with _platform().client(audit=MemoryQueryLog(), batch_size=2, batch_concurrency=2) as client:
        screening = screen_tender(client, "T-1", SUBJECTS, CTX, progress=lambda *a: seen.append(a))
    assert seen == [(4, 5, 1), (5, 5, 1)]
    assert len(screening.bidders) == 5


def test_async_progress() -> None:
    seen: list[tuple[int, int, int]] = []

    async def main() -> None:
        client = _platform().async_client(audit=MemoryQueryLog(), batch_size=3, batch_concurrency=1)
        async with client:
            await ascreen_tender(client, "T-2", SUBJECTS, CTX, progress=lambda *a: seen.append(a))

    asyncio.run(main())
    assert seen == [(3, 5, 1), (5, 5, 1)]
