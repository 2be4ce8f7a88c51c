"""The feedback outbox (Art. 46): durable, idempotent, leased, at-least-once, dead letters."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest

from credit_sdk import ConfigurationError

from .conftest import StoreSpec, make_feedback


def test_enqueue_claim_deliver(store: Any) -> None:
    items = [make_feedback(n) for n in range(3)]
    store.enqueue_feedback(items)
    assert store.outbox_stats().pending == 3
    claimed = store.claim_feedback(10, lease_seconds=30)
    assert [c.item for c in claimed] == items
    assert all(c.attempt == 1 for c in claimed)
    assert store.outbox_stats().in_flight == 3
    # Leased items are not handed out twice.
    assert store.claim_feedback(10, lease_seconds=30) == []
    store.mark_delivered([c.outbox_id for c in claimed])
    stats = store.outbox_stats()
    assert (stats.pending, stats.in_flight, stats.delivered, stats.dead) == (0, 0, 3, 0)
    assert stats.oldest_pending_at is None


def test_idempotency_key_deduplicates(store: Any) -> None:
    item = make_feedback(1)
    store.enqueue_feedback([item])
    store.enqueue_feedback([item, make_feedback(1)])  # same query, measure and case
    store.enqueue_feedback([item])
    assert store.outbox_stats().pending == 1
    (claimed,) = store.claim_feedback(5, 30)
    store.mark_delivered([claimed.outbox_id])
    store.enqueue_feedback([item])  # replayed after delivery: still not sent again
    assert store.claim_feedback(5, 30) == []
    assert store.outbox_stats().delivered == 1


def test_items_round_trip_with_amount_and_reason(store: Any) -> None:
    item = make_feedback(7, applied=False)
    from dataclasses import replace

    item = replace(item, amount=Decimal("12345.60"), idempotency_key="")
    store.enqueue_feedback([item])
    (claimed,) = store.claim_feedback(1, 30)
    assert claimed.item == item
    assert claimed.item.amount == Decimal("12345.60")
    assert claimed.item.reason == "licence refused on other grounds"


def test_expired_lease_is_claimed_again(store: Any) -> None:
    store.enqueue_feedback([make_feedback(1)])
    (first,) = store.claim_feedback(1, lease_seconds=0.2)
    assert store.claim_feedback(1, lease_seconds=0.2) == []
    time.sleep(0.3)  # the sender died without reporting: at-least-once means it comes back
    (second,) = store.claim_feedback(1, lease_seconds=30)
    assert second.outbox_id == first.outbox_id
    assert second.attempt == 2


def test_failed_delivery_is_retried_then_dead_lettered(spec: StoreSpec) -> None:
    store = spec.open(max_attempts=3)
    store.enqueue_feedback([make_feedback(1), make_feedback(2)])
    for attempt in (1, 2, 3):
        claimed = store.claim_feedback(1, 30)
        assert [c.attempt for c in claimed] == [attempt]
        store.mark_failed([claimed[0].outbox_id], "HTTP 503 from platform")
    stats = store.outbox_stats()
    assert stats.dead == 1
    assert stats.pending == 1
    remaining = store.claim_feedback(5, 30)
    assert [c.item.query_id for c in remaining] == ["q000002"]
    assert store.stats().outbox.dead == 1


def test_expired_last_lease_becomes_dead_letter(spec: StoreSpec) -> None:
    store = spec.open(max_attempts=1)
    store.enqueue_feedback([make_feedback(1)])
    assert len(store.claim_feedback(1, lease_seconds=0.1)) == 1
    time.sleep(0.2)
    assert store.claim_feedback(1, 30) == []
    assert store.outbox_stats().dead == 1


def test_retry_after_delays_the_next_claim(store: Any) -> None:
    store.enqueue_feedback([make_feedback(1)])
    (c,) = store.claim_feedback(1, 30)
    store.mark_failed([c.outbox_id], "timeout", retry_after=0.3)
    assert store.claim_feedback(1, 30) == []
    time.sleep(0.4)
    assert len(store.claim_feedback(1, 30)) == 1


def test_delivered_items_ignore_late_failures(store: Any) -> None:
    store.enqueue_feedback([make_feedback(1)])
    (c,) = store.claim_feedback(1, 30)
    store.mark_delivered([c.outbox_id])
    store.mark_failed([c.outbox_id], "late timeout from a second sender")
    stats = store.outbox_stats()
    assert (stats.delivered, stats.pending, stats.dead) == (1, 0, 0)


def test_error_text_is_redacted(store: Any) -> None:
    from .conftest import resident_id

    store.enqueue_feedback([make_feedback(1)])
    (c,) = store.claim_feedback(1, 30)
    raw = resident_id(5)
    store.mark_failed([c.outbox_id], f"platform said: subject {raw} unknown")
    # Nothing to read the error back through the protocol; the privacy test scans the bytes.
    assert store.outbox_stats().pending == 1


def test_concurrent_senders_never_share_an_item(store: Any) -> None:
    store.enqueue_feedback([make_feedback(n) for n in range(60)])
    seen: list[int] = []
    lock = threading.Lock()

    def sender() -> None:
        while batch := store.claim_feedback(4, 30):
            with lock:
                seen.extend(c.outbox_id for c in batch)
            store.mark_delivered([c.outbox_id for c in batch])

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 60
    assert len(set(seen)) == 60
    assert store.outbox_stats().delivered == 60


def test_bad_arguments_are_refused(store: Any) -> None:
    with pytest.raises(ConfigurationError):
        store.claim_feedback(0, 30)
    with pytest.raises(ConfigurationError):
        store.claim_feedback(1, 0)
    with pytest.raises(TypeError):
        store.mark_delivered(["1"])
    with pytest.raises(TypeError):
        store.enqueue_feedback([object()])


@pytest.mark.durable_only
def test_outbox_survives_reopening(spec: StoreSpec) -> None:
    with spec.open() as log:
        log.enqueue_feedback([make_feedback(n) for n in range(5)])
        (c,) = log.claim_feedback(1, 30)
        log.mark_delivered([c.outbox_id])
    with spec.open() as log:
        stats = log.outbox_stats()
        assert (stats.pending, stats.delivered) == (4, 1)


def dead_lettered(spec: StoreSpec, n: int) -> tuple[Any, list[int]]:
    """A store (max_attempts=1) whose first ``n`` of ``n + 1`` items are dead letters."""
    store = spec.open(max_attempts=1)
    store.enqueue_feedback([make_feedback(i) for i in range(n + 1)])
    claimed = store.claim_feedback(n, 30)
    store.mark_failed([c.outbox_id for c in claimed], "HTTP 422 from platform")
    stats = store.outbox_stats()
    assert (stats.pending, stats.dead) == (1, n)
    return store, [c.outbox_id for c in claimed]


def test_dead_letters_are_requeued_and_delivered(spec: StoreSpec) -> None:
    store, dead = dead_lettered(spec, 2)
    assert store.requeue_dead_letters() == 2
    stats = store.outbox_stats()
    assert (stats.pending, stats.in_flight, stats.dead, stats.delivered) == (3, 0, 0, 0)
    # Deliverable at once, attempts counted from zero again (max_attempts=1 allows one claim).
    claimed = store.claim_feedback(10, 30)
    assert len(claimed) == 3
    assert set(dead) <= {c.outbox_id for c in claimed}
    assert all(c.attempt == 1 for c in claimed)
    store.mark_delivered([c.outbox_id for c in claimed])
    stats = store.outbox_stats()
    assert (stats.pending, stats.dead, stats.delivered) == (0, 0, 3)
    assert store.requeue_dead_letters() == 0


def test_requeued_items_can_die_again(spec: StoreSpec) -> None:
    store, dead = dead_lettered(spec, 1)
    assert store.requeue_dead_letters(dead) == 1
    (c,) = [c for c in store.claim_feedback(10, 30) if c.outbox_id == dead[0]]
    assert c.attempt == 1
    store.mark_failed([c.outbox_id], "HTTP 422 again")
    assert store.outbox_stats().dead == 1


def test_requeue_by_id_is_selective(spec: StoreSpec) -> None:
    store, dead = dead_lettered(spec, 3)
    (live,) = [c.outbox_id for c in store.claim_feedback(1, 30)]  # pending, leased
    # A live item, an unknown id and a repeated id are ignored; only dead letters move.
    assert store.requeue_dead_letters([dead[0], dead[0], live, 999_999]) == 1
    stats = store.outbox_stats()
    assert (stats.pending, stats.in_flight, stats.dead) == (2, 1, 2)
    assert store.requeue_dead_letters([]) == 0
    assert store.outbox_stats().dead == 2
    # The leased item kept its lease and its attempt.
    assert store.claim_feedback(10, 30)[0].outbox_id == dead[0]
    store.mark_delivered([live])
    assert store.requeue_dead_letters([live]) == 0
    assert store.outbox_stats().delivered == 1
    with pytest.raises(TypeError):
        store.requeue_dead_letters(["1"])


@pytest.mark.durable_only
def test_requeue_is_durable(spec: StoreSpec) -> None:
    store, _ = dead_lettered(spec, 2)
    assert store.requeue_dead_letters() == 2
    store.close()
    with spec.open() as log:
        stats = log.outbox_stats()
        assert (stats.pending, stats.dead) == (3, 0)
