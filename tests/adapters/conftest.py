"""Fixtures for the adapter tests: one platform API, two platforms behind it.

Every framework test runs against both the in-memory platform (``MemoryProvider`` with the
shipped sample reports, ``MemoryQueryLog``) and the real sandbox server on loopback (the session
``sandbox_server``), through the :class:`Backend` fixture. Clients are built per test and always
closed; the sandbox is reset to its seed and its faults cleared around each test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import (
    AsyncCreditClient,
    Catalog,
    CreditClient,
    MemoryProvider,
    MemoryQueryLog,
    PlatformUnavailable,
    RetryPolicy,
    sample_report_path,
)
from credit_sdk.sandbox import SEEDED
from tests.adapters.support import AS_OF

KEY = b"adapter-test-pseudonym-key-0123456789"


@dataclass
class Backend:
    """A platform for one test: build clients over it, make it fail, count its queries."""

    name: str
    options: dict[str, Any]
    _down: Callable[[], None]
    _queries: Callable[[], int]
    logs: list[MemoryQueryLog] = field(default_factory=list)
    clients: list[CreditClient] = field(default_factory=list)

    def client(self, **overrides: Any) -> CreditClient:
        """A blocking client (closed after the test)."""
        log = MemoryQueryLog()
        self.logs.append(log)
        client = CreditClient(**{**self.options, "audit": log, **overrides})
        if self.name == "sandbox":
            client.sync_lists()
        self.clients.append(client)
        return client

    def async_client(self, **overrides: Any) -> AsyncCreditClient:
        """An async client, not yet started: create it in the app's lifespan and close it there
        (it belongs to the event loop that first uses it)."""
        log = MemoryQueryLog()
        self.logs.append(log)
        return AsyncCreditClient(**{**self.options, "audit": log, **overrides})

    def down(self) -> None:
        """The platform stops answering report queries."""
        self._down()

    @property
    def queries(self) -> int:
        return self._queries()

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for log in self.logs:
            log.close()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.default()


def _memory_platform() -> MemoryProvider:
    reports = {}
    for subject in SEEDED:
        data = json.loads(sample_report_path(subject.state).read_text(encoding="utf-8"))
        reports[subject.identifier] = data
    return MemoryProvider(reports)


@pytest.fixture
def memory_backend(catalog: Catalog) -> Iterator[Backend]:
    platform = _memory_platform()
    backend = Backend(
        name="memory",
        options={
            "provider": platform,
            "pseudonym_key": KEY,
            "catalog": catalog,
            "today": lambda: AS_OF,
            "cache_ttl": 0,
            "feedback_poll_interval": 0.05,
        },
        _down=lambda: platform.fail_next(PlatformUnavailable("platform down"), times=50),
        _queries=lambda: platform.calls["query_report"],
    )
    yield backend
    backend.close()


@pytest.fixture
def sandbox_backend(sandbox_server: Any, tmp_path: Path) -> Iterator[Backend]:
    sandbox_server.admin.reset()
    admin = sandbox_server.admin

    def queries() -> int:
        return int(admin.requests().get("reports:query", 0))

    backend = Backend(
        name="sandbox",
        options={
            "base_url": sandbox_server.url,
            "token": sandbox_server.token,
            "pseudonym_key": KEY,
            "lists_dir": tmp_path / "lists",
            "list_sync_interval": None,
            "today": lambda: AS_OF,
            "cache_ttl": 0,
            # One attempt: a test of "platform down" need not wait for backoff.
            "retry": RetryPolicy(max_attempts=1),
            "feedback_poll_interval": 0.05,
        },
        _down=lambda: admin.inject_fault("reports:query", status=503, times=50),
        _queries=queries,
    )
    yield backend
    backend.close()
    admin.clear_faults()


@pytest.fixture(params=["memory", "sandbox"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each test that uses it runs twice: in-memory platform, then the sandbox server."""
    value: Backend = request.getfixturevalue(f"{request.param}_backend")
    return value
