"""Query ids: 32 hex characters, unique, and ordered by time so the log's index grows at its end."""

from __future__ import annotations

import re
import time

from credit_sdk import new_query_id


def test_query_ids_are_32_hex_characters_and_unique() -> None:
    ids = [new_query_id() for _ in range(5000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_query_ids_made_later_sort_later() -> None:
    first = new_query_id()
    time.sleep(0.002)
    second = new_query_id()
    assert first < second
    # The leading 48 bits are the creation time in milliseconds.
    assert abs(int(second[:12], 16) - time.time_ns() // 1_000_000) < 5_000
