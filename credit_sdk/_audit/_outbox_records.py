"""The bodies of the records that state the outbox in the chain (see ``_outbox_chain``): their
kinds and the shape each must have. Kept apart so that the chain's verifier can check them
without depending on the reconciliation built on it.

>>> body_problem("outbox_state", '{"ids":[3],"state":"delivered"}')
False
>>> body_problem("outbox_state", '{"ids":[],"state":"gone"}')
True
"""

from __future__ import annotations

import json

__all__ = ["ADOPTED", "ENQUEUED", "OUTBOX_RECORD_KINDS", "STATED", "STATES", "body_problem"]

ENQUEUED = "outbox"
STATED = "outbox_state"
ADOPTED = "outbox_adopted"
OUTBOX_RECORD_KINDS = (ENQUEUED, STATED, ADOPTED)
#: The states an outbox record may name.
STATES = frozenset({"pending", "delivered", "dead"})
_ENTRY_KEYS = frozenset(
    {"id", "kind", "key_sha256", "payload_sha256", "pseudonym", "due_on", "enqueued_at"}
)


def _valid_entry(item: object, *, with_state: bool) -> bool:
    if not isinstance(item, dict):
        return False
    keys = set(item)
    if keys != (_ENTRY_KEYS | {"state"} if with_state else _ENTRY_KEYS):
        return False
    if with_state and item["state"] not in STATES:
        return False
    return (
        type(item["id"]) is int
        and isinstance(item["kind"], str)
        and isinstance(item["key_sha256"], str)
        and isinstance(item["payload_sha256"], str)
        and isinstance(item["enqueued_at"], str)
        and (item["pseudonym"] is None or isinstance(item["pseudonym"], str))
        and (item["due_on"] is None or isinstance(item["due_on"], str))
    )


def body_problem(kind: str, body: str) -> bool:
    """True when ``body`` is not a well-formed body of an outbox record of ``kind``."""
    try:
        data = json.loads(body)
    except ValueError:
        return True
    if not isinstance(data, dict):
        return True
    if kind == STATED:
        ids = data.get("ids")
        return not (
            set(data) == {"ids", "state"}
            and data["state"] in STATES
            and isinstance(ids, list)
            and ids
            and all(type(i) is int for i in ids)
        )
    items = data.get("items")
    if not isinstance(items, list) or not items:
        return True
    if kind == ENQUEUED:
        return set(data) != {"items"} or not all(_valid_entry(i, with_state=False) for i in items)
    if kind == ADOPTED:
        return (
            set(data) != {"items", "reason"}
            or not isinstance(data["reason"], str)
            or not all(_valid_entry(i, with_state=True) for i in items)
        )
    return True
