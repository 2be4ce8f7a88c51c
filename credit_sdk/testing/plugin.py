"""The credit-sdk pytest plugin: fixtures for testing a system that embeds the SDK.

Registered through the ``pytest11`` entry point as ``credit_sdk``, so installing credit-sdk is
enough (``-p no:credit_sdk`` turns it off). Every fixture is function-scoped and starts from a
clean platform and an empty query log:

* ``credit_platform``: a :class:`~credit_sdk.testing.CreditPlatform` (in memory);
* ``credit_query_log``: a :class:`~credit_sdk.MemoryQueryLog` to assert on (Art. 25);
* ``credit_client`` / ``async_credit_client``: clients wired to both, closed after the test;
* ``credit_query_context``: a ready :class:`~credit_sdk.QueryContext` for tests;
* ``credit_platform_http``: a :class:`~credit_sdk.testing.HttpCreditPlatform` serving the same
  platform over mocked HTTP (needs respx).

>>> def test_severe_bidder_is_restricted(credit_platform, credit_client, credit_query_context):
...     company = credit_platform.subject(fake_uscc(1)).on_severe_list(category="bid_rigging")
...     decision = credit_client.check(company.identifier, "bidding", credit_query_context)
...     assert decision.outcome == "RESTRICTED"

This module imports only pytest at import time: pytest loads it in every run of every project
that installs credit-sdk, before any test asks for a fixture.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from credit_sdk import AsyncCreditClient, CreditClient, MemoryQueryLog, QueryContext
    from credit_sdk.testing import CreditPlatform, HttpCreditPlatform


@pytest.fixture
def credit_platform() -> CreditPlatform:
    """An in-memory credit platform: build subjects, inject faults, read what it received."""
    from credit_sdk.testing import CreditPlatform

    return CreditPlatform()


@pytest.fixture
def credit_query_log() -> Iterator[MemoryQueryLog]:
    """The in-memory query log the fixture clients write to (not durable: tests only)."""
    from credit_sdk import MemoryQueryLog

    with MemoryQueryLog() as log:
        yield log


@pytest.fixture
def credit_query_context() -> QueryContext:
    """A query context (Art. 23, 25) naming a test organ, operator, matter and purpose."""
    from credit_sdk import QueryContext

    return QueryContext(
        organ="TEST-ORGAN",
        operator="test-operator",
        matter_code="TEST-MATTER",
        purpose="automated test of a credit check",
    )


@pytest.fixture
def credit_client(
    credit_platform: CreditPlatform, credit_query_log: MemoryQueryLog
) -> Iterator[CreditClient]:
    """A ``CreditClient`` on ``credit_platform``, logging to ``credit_query_log``."""
    client = credit_platform.client(audit=credit_query_log)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def async_credit_client(
    credit_platform: CreditPlatform, credit_query_log: MemoryQueryLog
) -> Iterator[AsyncCreditClient]:
    """An ``AsyncCreditClient`` on ``credit_platform``, logging to ``credit_query_log``.

    Built outside any event loop, so it works with ``asyncio.run`` and with any async test
    plugin. It is closed after the test; a test whose event loop outlives it (a session-scoped
    loop) closes it there: ``async with async_credit_client: ...``.
    """
    client = credit_platform.async_client(audit=credit_query_log)
    yield client
    try:
        asyncio.run(client.aclose())  # idempotent: returns at once if the test closed it
    except RuntimeError as err:
        raise RuntimeError(
            "async_credit_client is still bound to an event loop that outlives the test; close "
            "it in that loop (`async with async_credit_client: ...`)"
        ) from err


@pytest.fixture
def credit_platform_http(
    credit_platform: CreditPlatform, credit_query_log: MemoryQueryLog
) -> Iterator[HttpCreditPlatform]:
    """``credit_platform`` over mocked HTTP at ``.url`` with ``.token``; ``.client()`` builds
    clients that log to ``credit_query_log``. Other hosts are not mocked."""
    from credit_sdk.testing import HttpCreditPlatform

    with HttpCreditPlatform(credit_platform, audit=credit_query_log) as wire:
        yield wire
