"""The query-log records a client writes are the records the public constructors make.

The client builds its intent and completion records without checking again what it made
itself (a fresh query id, UTC times, the pseudonym, the masked display form, the digest); every
record it hands the log must still be equal, field by field and type by type, to the one the
validating constructor builds from the same fields, on the single and the batch path, for
applied measures, flags and failures alike (Art. 25).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from credit_sdk import (
    CreditClient,
    MemoryQueryLog,
    PlatformUnavailable,
    QueryCompletion,
    QueryContext,
    QueryIntent,
    Scenario,
)
from tests.client.conftest import COMPANY, OTHER_COMPANY


class _Capture(MemoryQueryLog):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[QueryIntent | QueryCompletion] = []

    def append(self, records: Sequence[QueryIntent | QueryCompletion]) -> None:
        self.seen.extend(records)
        super().append(records)


def _rebuilt(record: Any) -> Any:
    # replace() with no change runs the constructor and all its checks on every field.
    return dataclasses.replace(record)


def test_records_equal_what_the_constructors_build(
    make_client: Callable[..., CreditClient], ctx: QueryContext
) -> None:
    log = _Capture()
    client = make_client(audit=log)
    client.check(COMPANY, Scenario.BIDDING, ctx)
    client.check_many([COMPANY, OTHER_COMPANY, "not an id"], Scenario.BIDDING, ctx)
    kinds = {type(r) for r in log.seen}
    assert kinds == {QueryIntent, QueryCompletion}
    assert any(isinstance(r, QueryCompletion) and r.applied_measure_ids for r in log.seen)
    for record in log.seen:
        again = _rebuilt(record)
        assert again == record
        assert again.canonical_body() == record.canonical_body()
        if isinstance(record, QueryCompletion):
            assert type(record.lists) is tuple
            assert all(type(s) is type(t) for s, t in zip(record.lists, again.lists, strict=True))
            assert type(record.applied_measure_ids) is tuple
            assert type(record.flags) is tuple


def test_failure_records_equal_what_the_constructors_build(
    make_client: Callable[..., CreditClient], ctx: QueryContext
) -> None:
    class Down:
        def close(self) -> None:
            pass

        def __getattr__(self, name: str) -> Any:
            def fail(*args: Any, **kwargs: Any) -> Any:
                raise PlatformUnavailable("down")

            return fail

    log = _Capture()
    client = make_client(audit=log, provider=Down())
    decision = client.check(COMPANY, Scenario.BIDDING, ctx)
    assert decision.outcome.value == "INDETERMINATE"
    completions = [r for r in log.seen if isinstance(r, QueryCompletion)]
    assert completions
    assert completions[-1].error == "PlatformUnavailable"
    for record in log.seen:
        assert _rebuilt(record) == record
