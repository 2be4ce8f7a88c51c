"""An outbox that outages cannot wear out (every store).

A delivery attempt counts only when the platform answered about the items (a 4xx refusal);
an unavailable platform, a timeout or a failing feedback endpoint gives the claim back without
spending one. Restarts and flushes during an outage, and a partial outage (the feedback route
fails while health answers), leave every item pending, none dead, none sent twice; health is
probed at a bounded rate; the outbox drains once the platform is back.

The sender runs on a hand-driven clock here: nothing waits on real time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from credit_sdk import FeedbackItem
from credit_sdk._feedback import FeedbackSender
from credit_sdk.testing import CreditPlatform

from .conftest import StoreSpec, make_feedback

ITEMS = 6
MAX_ATTEMPTS = 3  # small on purpose: today's outages would exhaust it in three rounds


class CountingPlatform(CreditPlatform):
    """The in-memory platform, counting every feedback item it receives per idempotency key
    (the platform itself applies an item once; the count shows what was sent)."""

    def __init__(self) -> None:
        super().__init__()
        self.received: Counter[str] = Counter()

    def _receive_feedback(self, items: Sequence[FeedbackItem]) -> Any:
        ack = super()._receive_feedback(items)
        self.received.update(i.idempotency_key for i in items)
        return ack


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sender(log: Any, clock: Clock, **options: Any) -> FeedbackSender:
    return FeedbackSender(log, clock=clock, rng=lambda: 1.0, **options)


def attempts(log: Any) -> list[int]:
    """The attempt counts of the pending items (claimed and given back untouched)."""
    claims = log.claim_outbox(100, 30.0)
    log.mark_failed([c.outbox_id for c in claims], "inspected", attempt=False)
    return sorted(c.attempt - 1 for c in claims)


def check_recovered(log: Any, platform: CountingPlatform) -> None:
    stats = log.outbox_stats()
    assert (stats.pending, stats.dead, stats.delivered) == (0, 0, ITEMS)
    keys = {make_feedback(n).idempotency_key for n in range(ITEMS)}
    assert set(platform.received) == keys  # nothing lost
    assert len(platform.feedback) == ITEMS  # nothing applied twice
    assert {i.idempotency_key for i in platform.feedback} == keys


def test_restarts_and_flushes_during_an_outage_spend_no_attempt(spec: StoreSpec) -> None:
    platform = CountingPlatform()
    first = spec.open(max_attempts=MAX_ATTEMPTS)
    first.enqueue_feedback([make_feedback(n) for n in range(ITEMS)])
    platform.down()  # every route: connection refused, 503, timeouts alike
    clock = Clock()
    for restart in range(4 * MAX_ATTEMPTS):
        log = spec.open(max_attempts=MAX_ATTEMPTS)  # a new process on the same store
        s = sender(log, clock)
        if restart % 2:
            stats = s.flush(platform, timeout=0.0)  # `credit-sdk feedback flush` by cron
        else:
            s.step(platform)  # a process started: its sender's first round
            stats = log.outbox_stats()
        assert (stats.pending, stats.dead, stats.in_flight) == (ITEMS, 0, 0)
    assert platform.calls["send_feedback"] >= 4 * MAX_ATTEMPTS  # it did try, every time
    assert attempts(log) == [0] * ITEMS  # and unavailability counted no attempt
    platform.up()
    stats = sender(spec.open(max_attempts=MAX_ATTEMPTS), clock).flush(platform, timeout=5.0)
    check_recovered(log, platform)
    assert stats.pending == 0


def test_a_partial_outage_kills_nothing(spec: StoreSpec) -> None:
    """Only the feedback endpoint fails (503) while health answers: the sender keeps probing
    and claiming, and still no item dies."""
    platform = CountingPlatform()
    log = spec.open(max_attempts=MAX_ATTEMPTS)
    log.enqueue_feedback([make_feedback(n) for n in range(ITEMS)])
    platform.down(route="feedback")
    clock = Clock()
    s = sender(log, clock, probe_interval=1.0, max_backoff=8.0)
    for _ in range(10 * MAX_ATTEMPTS):
        delay = s.step(platform)
        assert 0 < delay <= 8.0
        clock.now += delay
    assert platform.calls["health"] >= 5 * MAX_ATTEMPTS  # health kept answering
    assert platform.calls["send_feedback"] >= 5 * MAX_ATTEMPTS
    stats = log.outbox_stats()
    assert (stats.pending, stats.dead) == (ITEMS, 0)
    assert attempts(log) == [0] * ITEMS
    assert s.last_error is not None
    assert "PlatformUnavailable" in s.last_error
    # The platform comes back: one round (probe, then batch after batch) empties the outbox.
    platform.up()
    clock.now += 8.0
    s.batch_size = 2
    rounds = 0
    while log.outbox_stats().pending and rounds < 10:
        assert s.step(platform) == 0  # each success continues at once
        rounds += 1
    check_recovered(log, platform)
    assert s.last_error is None


def test_health_is_probed_at_a_bounded_rate(spec: StoreSpec) -> None:
    """New items wake the sender; during an outage that wakes no probe before its time."""
    platform = CountingPlatform()
    log = spec.open()
    log.enqueue_feedback([make_feedback(0)])
    platform.down()
    clock = Clock()
    s = sender(log, clock, probe_interval=30.0)
    assert s.step(platform) >= 30.0  # the delivery failed: the next probe in 30 s at least
    for n in range(1, 50):  # fifty feedback() calls within the same second
        log.enqueue_feedback([make_feedback(n)])
        s.wake()
        assert s.step(platform) > 0
    assert platform.calls["health"] == 0
    assert platform.calls["send_feedback"] == 1
    clock.now += 30.0
    s.step(platform)
    assert platform.calls["health"] == 1
    assert log.outbox_stats().dead == 0


def test_refusals_count_and_age_kills_what_never_got_through(spec: StoreSpec) -> None:
    platform = CountingPlatform()
    log = spec.open(max_attempts=MAX_ATTEMPTS)
    log.enqueue_feedback([make_feedback(0)])
    clock = Clock()
    s = sender(log, clock, initial_backoff=0.0)
    platform.refusing(422, route="feedback")  # the platform answered about the item
    for _ in range(MAX_ATTEMPTS):
        s.step(platform)
    assert log.outbox_stats().dead == 1
    # Past the dead-letter age, an item the platform never answered about is a dead letter.
    platform.up()
    platform.down(route="feedback")
    log.enqueue_feedback([make_feedback(1), make_feedback(2)])
    young = sender(log, clock)
    young.step(platform)
    assert (log.outbox_stats().pending, log.outbox_stats().dead) == (2, 1)
    old = sender(log, clock, dead_letter_after=0.0)
    clock.now += 3600.0
    old.step(platform)
    stats = log.outbox_stats()
    assert (stats.pending, stats.dead) == (0, 3)
    assert attempts(log) == []
