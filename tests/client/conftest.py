"""Fixtures for the client suite: a memory platform, clients that are always closed, a sandbox.

Unit tests use :class:`~credit_sdk.MemoryProvider` or respx; integration tests use the real
sandbox server on loopback (the session ``sandbox_server`` fixture when the suite provides one,
else one started here), reset before each test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from credit_sdk import (
    Authorization,
    Catalog,
    CreditClient,
    MemoryProvider,
    MemoryQueryLog,
    QueryContext,
)
from tests.legal.builders import AS_OF, membership, record, resident_id, uscc

KEY = b"client-test-pseudonym-key-0123456789"
COMPANY = uscc()
PERSON = resident_id()
OTHER_COMPANY = uscc("91230100MA1C2X3Y5")


class FakeClock:
    """A monotonic clock the tests move by hand (no real sleeps)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def ctx() -> QueryContext:
    return QueryContext(
        organ="230100-SCJGJ",
        operator="u1024",
        matter_code="LIC-FOOD",
        purpose="food business licence application 2026-118",
    )


@pytest.fixture
def grant() -> Authorization:
    return Authorization(
        subject=PERSON,
        grant_id="G-2026-0042",
        scope=("personnel",),
        purpose="2026 civil service recruitment",
        granted_on=dt.date(2026, 11, 1),
        expires_on=dt.date(2027, 2, 1),
    )


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.default()


def report_dict(
    subject: str,
    *,
    person: bool = False,
    records: tuple[dict[str, Any], ...] = (),
    memberships: tuple[dict[str, Any], ...] = (),
    report_id: str = "client-test",
) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "generated_at": "2026-11-29T09:00:00+08:00",
        "subject": {
            "kind": "natural_person" if person else "legal_person",
            "identifier": subject,
        },
        "records": list(records),
        "list_memberships": list(memberships),
    }


def severe_company_report(subject: str = COMPANY) -> dict[str, Any]:
    return report_dict(subject, memberships=(membership(),))


def dishonest_person_report() -> dict[str, Any]:
    return report_dict(PERSON, person=True, records=(record(),))


@pytest.fixture
def platform() -> MemoryProvider:
    return MemoryProvider({COMPANY: severe_company_report()}, today=lambda: AS_OF)


@pytest.fixture
def audit() -> Iterator[MemoryQueryLog]:
    with MemoryQueryLog() as log:
        yield log


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(
    platform: MemoryProvider, audit: MemoryQueryLog, catalog: Catalog, clock: FakeClock
) -> Iterator[Callable[..., CreditClient]]:
    """Build clients over the memory platform; every one is closed after the test."""
    made: list[CreditClient] = []

    def build(**overrides: Any) -> CreditClient:
        options: dict[str, Any] = {
            "provider": platform,
            "audit": audit,
            "pseudonym_key": KEY,
            "catalog": catalog,
            "clock": clock,
            "today": lambda: AS_OF,
            "feedback_poll_interval": 0.05,
        }
        options.update(overrides)
        client = CreditClient(**options)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., CreditClient]) -> CreditClient:
    return make_client()


# --- the real sandbox ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox_platform(request: pytest.FixtureRequest) -> Iterator[Any]:
    try:
        yield request.getfixturevalue("sandbox_server")
        return
    except pytest.FixtureLookupError:
        pass
    server_module = pytest.importorskip("credit_sdk.sandbox.server")
    with server_module.SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_platform: Any) -> Iterator[Any]:
    """The sandbox, back in its seeded state with no faults, for one test."""
    sandbox_platform.admin.reset()
    yield sandbox_platform
    sandbox_platform.admin.clear_faults()
