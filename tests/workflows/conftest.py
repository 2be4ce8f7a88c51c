"""Fixtures for the workflow helpers: the in-memory platform (from the credit_sdk pytest
plugin) and the shared sandbox, reset around each test that uses it."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from credit_sdk import (
    Authorization,
    CreditClient,
    MemoryQueryLog,
    QueryContext,
    RetryPolicy,
)
from credit_sdk.testing import PSEUDONYM_KEY

# A subject number anywhere in a rendered or serialised result: results keep masked forms only.
RAW_ID = re.compile(r"\b(?:\d{17}[\dXx]|[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10})\b")


def assert_no_raw_identifiers(*texts: Any) -> None:
    for text in texts:
        rendered = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False)
        assert not RAW_ID.search(rendered), rendered


@pytest.fixture
def ctx() -> QueryContext:
    return QueryContext(
        organ="230100-SCJGJ",
        operator="u1024",
        matter_code="LIC-FOOD",
        purpose="workflow helper test",
    )


def grant_for(today: dt.date, *scope: str, subject: Any) -> Authorization:
    return Authorization(
        subject=subject,
        grant_id="G-2026-0042",
        scope=scope or ("personnel", "qualification", "election"),
        purpose="2026 recruitment and qualification review",
        granted_on=today - dt.timedelta(days=10),
        expires_on=today + dt.timedelta(days=80),
    )


@pytest.fixture
def sandbox(sandbox_server: Any) -> Iterator[Any]:
    """The shared sandbox in its seeded state, faults cleared afterwards."""
    sandbox_server.admin.reset()
    yield sandbox_server
    sandbox_server.admin.clear_faults()


@pytest.fixture
def seeded(sandbox: Any) -> dict[str, Any]:
    """Seeded state name -> identifier (an Identifier: masked when printed)."""
    return {s.state: s.identifier for s in sandbox.seeded}


@pytest.fixture
def sandbox_log() -> Iterator[MemoryQueryLog]:
    with MemoryQueryLog() as log:
        yield log


@pytest.fixture
def sandbox_client(sandbox: Any, sandbox_log: MemoryQueryLog) -> Iterator[CreditClient]:
    client = CreditClient.sandbox(
        sandbox.url,
        token=sandbox.token,
        audit=sandbox_log,
        pseudonym_key=PSEUDONYM_KEY,
        list_sync_interval=None,
        retry=RetryPolicy(max_attempts=1),
        feedback_poll_interval=0.05,
    )
    with client:
        yield client
