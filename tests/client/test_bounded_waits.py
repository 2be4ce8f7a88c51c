"""Waits the caller chooses are bounded (docs/client.md: `flush()` "delivers now", waiting up to
its timeout; `wait_until_ready(timeout=30)`): ``nan`` and ``inf`` are refused, because a wait
loop measured against them never ends while the platform is down. The command line's
``--flush S`` and ``--timeout S`` refuse them as usage errors (exit 2)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
from typing import Any

import pytest

from credit_sdk import (
    AsyncCreditClient,
    ConfigurationError,
    CreditClient,
    MemoryProvider,
    MemoryQueryLog,
)
from credit_sdk.cli import main

ENDLESS = [math.nan, math.inf, -math.inf, -1.0, 1e300]


def _client() -> CreditClient:
    return CreditClient(provider=MemoryProvider({}), audit=MemoryQueryLog(),
                        pseudonym_key=b"k" * 32, list_sync_interval=None)  # fmt: skip


@pytest.mark.parametrize("timeout", ENDLESS, ids=repr)
def test_a_wait_without_a_finite_bound_is_refused(timeout: float) -> None:
    with _client() as client:
        with pytest.raises(ConfigurationError, match="finite number of seconds"):
            client.flush(timeout=timeout)
        with pytest.raises(ConfigurationError, match="finite number of seconds"):
            client.wait_until_ready(timeout=timeout)


@pytest.mark.parametrize("timeout", ["30", None, True], ids=repr)
def test_a_wait_that_is_not_a_number_is_a_type_error(timeout: Any) -> None:
    with _client() as client, pytest.raises(TypeError, match=r"^timeout must be"):
        client.flush(timeout=timeout)


def test_the_async_client_refuses_them_too() -> None:
    async def run() -> None:
        async with AsyncCreditClient(provider=MemoryProvider({}).as_async(),
                                     audit=MemoryQueryLog(), pseudonym_key=b"k" * 32,
                                     list_sync_interval=None) as client:  # fmt: skip
            with pytest.raises(ConfigurationError):
                await client.flush(timeout=math.nan)
            with pytest.raises(ConfigurationError):
                await client.wait_until_ready(timeout=math.inf)

    asyncio.run(run())


def test_a_finite_wait_still_works() -> None:
    with _client() as client:
        assert client.flush(timeout=0).pending == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["feedback", "flush", "--timeout", "nan"],
        ["feedback", "flush", "--timeout", "inf"],
        ["lists", "show", "--timeout", "nan"],
        ["push", "91230100MA1EXA017F", "--record-id", "P-1", "--category", "food_safety",
         "--summary", "s", "--produced-on", "2026-11-30", "--organ", "230100-SCJGJ",
         "--document-number", "n-1", "--document-issuer", "i", "--document-issued-on",
         "2026-11-30", "--flush", "nan"],
    ],
    ids=["feedback-flush-nan", "feedback-flush-inf", "lists-show-nan", "push-flush-nan"],
)  # fmt: skip
def test_the_command_line_refuses_an_endless_wait(argv: list[str]) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    assert code == 2
    assert "seconds" in err.getvalue()
