"""The sender delivers every registered kind to its own operation, one request per item for
single-item kinds, under keys that stay the same when a delivery is retried."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pytest

from credit_sdk import FeedbackAck, MemoryQueryLog, OutboxItem, PlatformError, PlatformUnavailable
from credit_sdk._feedback import OutboxSender
from credit_sdk._outbox import FEEDBACK, OutboxKind, outbox_kind, register_outbox_kind

from .conftest import make_feedback
from .test_audit_outbox_kinds import push


class Platform:
    """Records what each operation received; ``refuse`` and ``down`` script its answers."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], str]] = []
        self.refuse: set[str] = set()
        self.down = False

    def take(self, op: str, items: Sequence[Any], key: str) -> FeedbackAck:
        keys = [i.idempotency_key for i in items]
        self.calls.append((op, keys, key))
        if self.down:
            raise PlatformUnavailable("platform unavailable (503)")
        if set(keys) & self.refuse:
            raise PlatformError("platform refused the item (422)", status_code=422)
        return FeedbackAck(accepted=len(items), duplicates=0)

    def send_feedback(self, items: Sequence[Any], key: str) -> FeedbackAck:
        return self.take("feedback", items, key)

    def health(self) -> dict[str, str]:
        if self.down:
            raise PlatformUnavailable("platform unavailable (503)")
        return {"status": "ok"}


def _push_kind() -> OutboxKind:
    async def adeliver(p: Any, items: Sequence[OutboxItem], key: str) -> FeedbackAck:
        return p.take("push", items, key)  # type: ignore[no-any-return]

    return OutboxKind(
        "push", lambda p, items, key: p.take("push", items, key), adeliver, key_prefix="pu-"
    )


def _sender(log: MemoryQueryLog) -> OutboxSender:
    return OutboxSender(log, kinds=[FEEDBACK, _push_kind()], rng=lambda: 0.0)


def _key(prefix: str, item_key: str) -> str:
    return prefix + hashlib.sha256(item_key.encode()).hexdigest()[:48]


def test_each_kind_goes_to_its_operation_under_its_own_key() -> None:
    log, platform = MemoryQueryLog(), Platform()
    log.enqueue_feedback([make_feedback(1), make_feedback(2)])
    log.enqueue_outbox([push(1), push(2)])
    stats = _sender(log).flush(platform, timeout=5)  # type: ignore[arg-type]
    assert stats.pending == 0
    assert stats.delivered == 4
    ops = [(op, keys, key) for op, keys, key in platform.calls]
    assert [op for op, _, _ in ops] == ["feedback", "push", "push"]  # feedback: one batch
    assert ops[1][2] == _key("pu-", "push-key-1")
    assert ops[2][2] == _key("pu-", "push-key-2")


def test_a_refused_item_does_not_hold_back_the_others() -> None:
    log, platform = MemoryQueryLog(max_attempts=2), Platform()
    platform.refuse = {"push-key-1"}
    log.enqueue_outbox([push(1), push(2), push(3)])
    sender = _sender(log)
    sender.step(platform)  # type: ignore[arg-type]
    stats = log.outbox_stats().by_kind["push"]
    assert stats.delivered == 2
    assert stats.pending == 1
    assert sender.last_error is None  # the last request of the round went through


def test_an_outage_stops_the_round_and_loses_nothing() -> None:
    log, platform = MemoryQueryLog(), Platform()
    log.enqueue_outbox([push(1), push(2)])
    platform.down = True
    sender = _sender(log)
    assert sender.step(platform) > 0  # type: ignore[arg-type]
    assert len(platform.calls) == 1  # the second item was not sent into the outage
    assert log.outbox_stats().pending == 2
    platform.down = False
    stats = sender.flush(platform, timeout=5)  # type: ignore[arg-type]
    assert stats.delivered == 2
    # The retried item went out under the key of its first attempt.
    first = platform.calls[0][2]
    assert [k for _, _, k in platform.calls].count(first) == 2


def test_a_kind_no_sender_knows_waits_and_does_not_block_a_flush() -> None:
    log, platform = MemoryQueryLog(), Platform()
    log.enqueue_outbox([push(1, kind="checkpoint_v9")])
    log.enqueue_feedback([make_feedback(1)])
    stats = _sender(log).flush(platform, timeout=5)  # type: ignore[arg-type]
    assert stats.by_kind["feedback"].delivered == 1
    assert stats.by_kind["checkpoint_v9"].pending == 1  # kept for an SDK that knows it
    assert stats.by_kind["checkpoint_v9"].in_flight == 0  # never claimed, no attempt burnt


def test_async_sender_delivers_every_kind() -> None:
    import asyncio

    class AsyncPlatform(Platform):
        async def send_feedback(self, items: Sequence[Any], key: str) -> FeedbackAck:  # type: ignore[override]
            return self.take("feedback", items, key)

        async def health(self) -> dict[str, str]:  # type: ignore[override]
            return {"status": "ok"}

    log, platform = MemoryQueryLog(), AsyncPlatform()
    log.enqueue_feedback([make_feedback(1)])
    log.enqueue_outbox([push(1)])
    stats = asyncio.run(_sender(log).aflush(platform, timeout=5))  # type: ignore[arg-type]
    assert stats.delivered == 2
    assert [op for op, _, _ in platform.calls] == ["feedback", "push"]


def test_a_kind_is_registered_once() -> None:
    assert outbox_kind("feedback") is FEEDBACK
    assert register_outbox_kind(FEEDBACK) is FEEDBACK  # the same definition again is fine
    from credit_sdk import ConfigurationError

    with pytest.raises(ConfigurationError):
        register_outbox_kind(OutboxKind("feedback", FEEDBACK.deliver, FEEDBACK.adeliver, "x-"))
    with pytest.raises(ConfigurationError):
        outbox_kind("no-such-kind")
