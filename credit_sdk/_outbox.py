"""The kinds of items the durable outbox carries, and how each reaches the platform.

The outbox of the query log (see :class:`~credit_sdk.OutboxItem`) holds items of several
*kinds*: Art. 46 result feedback, Art. 22 pushes, Art. 52 corrections and basis-change
requests. A store keeps every kind alike (a kind name, an idempotency key unique within the
kind, a JSON payload); the sender looks each kind up here to learn which platform operation
takes it. A new kind is one :func:`register_outbox_kind` call, no copy of the sender:

>>> kind = outbox_kind("feedback")
>>> kind.batch, kind.key_prefix
(True, 'fb-')

Kinds that send one item per request use the item's own idempotency key (prefixed) as the
request's ``Idempotency-Key``: a retried delivery carries the same key, and the platform applies
it once. Batch kinds (feedback) use a digest of the batch's keys, and every item still carries
its own key inside the body.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from credit_sdk._audit._types import (
    FEEDBACK_KIND,
    ClaimedOutboxItem,
    OutboxItem,
    feedback_from_outbox,
)
from credit_sdk._errors import ConfigurationError, PlatformError
from credit_sdk._providers import AsyncProvider, FeedbackAck, Provider

__all__ = [
    "OutboxKind",
    "outbox_kind",
    "outbox_kinds",
    "register_outbox_kind",
    "request_key",
]

#: Sends a group of items of one kind; answers how many the platform took and how many it
#: already had (a :class:`FeedbackAck`, whatever the kind).
Deliver = Callable[[Provider, Sequence[OutboxItem], str], FeedbackAck]
AsyncDeliver = Callable[[AsyncProvider, Sequence[OutboxItem], str], Awaitable[FeedbackAck]]


@dataclass(frozen=True, slots=True)
class OutboxKind:
    """One kind of outbox item: its name, the provider call that delivers it, whether several
    items go in one request (``batch``), and the prefix of its request idempotency keys."""

    name: str
    deliver: Deliver
    adeliver: AsyncDeliver
    key_prefix: str
    batch: bool = False


_KINDS: dict[str, OutboxKind] = {}
_LOCK = threading.Lock()


def register_outbox_kind(kind: OutboxKind) -> OutboxKind:
    """Register ``kind`` for every sender; registering the same name twice is refused unless it
    is the very same definition (modules may be imported again)."""
    if not isinstance(kind, OutboxKind):
        raise TypeError("register_outbox_kind() takes an OutboxKind")
    with _LOCK:
        known = _KINDS.get(kind.name)
        if known is not None and known != kind:
            raise ConfigurationError(f"outbox kind {kind.name!r} is registered already")
        _KINDS[kind.name] = kind
    return kind


def outbox_kind(name: str) -> OutboxKind:
    """The registered kind ``name``; :class:`~credit_sdk.ConfigurationError` if unknown."""
    try:
        return _KINDS[name]
    except KeyError:
        raise ConfigurationError("unknown outbox kind: no sender is registered for it") from None


def outbox_kinds() -> dict[str, OutboxKind]:
    """Every registered kind by name (a copy)."""
    with _LOCK:
        return dict(_KINDS)


def request_key(kind: OutboxKind, claims: Sequence[ClaimedOutboxItem]) -> str:
    """The request's ``Idempotency-Key``: the item's own key for single-item kinds, a digest
    of the items' keys (order-free) for batches."""
    if not kind.batch and len(claims) == 1:
        digest = hashlib.sha256(claims[0].item.idempotency_key.encode()).hexdigest()[:48]
        return kind.key_prefix + digest
    keys = sorted(c.item.idempotency_key for c in claims)
    return kind.key_prefix + hashlib.sha256("\x1f".join(keys).encode()).hexdigest()[:48]


def _send_feedback(provider: Provider, items: Sequence[OutboxItem], key: str) -> FeedbackAck:
    return provider.send_feedback([feedback_from_outbox(i) for i in items], key)


async def _asend_feedback(
    provider: AsyncProvider, items: Sequence[OutboxItem], key: str
) -> FeedbackAck:
    return await provider.send_feedback([feedback_from_outbox(i) for i in items], key)


#: Art. 46 result feedback, many items per ``POST /v1/feedback``.
FEEDBACK = register_outbox_kind(
    OutboxKind(FEEDBACK_KIND, _send_feedback, _asend_feedback, key_prefix="fb-", batch=True)
)


#: The ``kind`` of the signed checkpoints of the query log, delivered to the platform as a witness.
CHECKPOINT_KIND = "checkpoint"


def _checkpoint_of(item: OutboxItem) -> dict[str, object]:
    data: dict[str, object] = json.loads(item.payload)
    return data


def _send_checkpoint(provider: Provider, items: Sequence[OutboxItem], key: str) -> FeedbackAck:
    send = getattr(provider, "send_checkpoint", None)
    if send is None:
        raise PlatformError("this provider does not take checkpoints (POST /v1/checkpoints)")
    (item,) = items
    ack: FeedbackAck = send(_checkpoint_of(item), key)
    return ack


async def _asend_checkpoint(
    provider: AsyncProvider, items: Sequence[OutboxItem], key: str
) -> FeedbackAck:
    send = getattr(provider, "send_checkpoint", None)
    if send is None:
        raise PlatformError("this provider does not take checkpoints (POST /v1/checkpoints)")
    (item,) = items
    ack: FeedbackAck = await send(_checkpoint_of(item), key)
    return ack


#: Signed checkpoints of the query log, one per ``POST /v1/checkpoints`` (the platform witnesses
#: them; see docs/audit.md).
CHECKPOINT = register_outbox_kind(
    OutboxKind(CHECKPOINT_KIND, _send_checkpoint, _asend_checkpoint, key_prefix="cp-")
)
