"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from credit_sdk.sandbox import SandboxServer

# No test is timed (speed is checked by `make bench`, never by the suite): Hypothesis's default
# deadline of 200 ms per example is such a timing, and fails on a loaded machine. Health checks
# about slow data generation stay on.
settings.register_profile("credit-sdk", deadline=None)
settings.load_profile("credit-sdk")


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """A seeded sandbox platform on a free loopback port, shared by the whole session.

    Tests that change its state (faults, subjects, published lists) undo what they did, or call
    ``sandbox_server.admin.reset()`` when they finish: other layers reuse the same server.
    ``sandbox_server.url``, ``.token``, ``.app_id``, ``.app_secret``, ``.auth_headers()`` and
    ``.admin`` give everything a client needs.
    """
    pytest.importorskip("uvicorn", reason="the sandbox needs the 'sandbox' extra")
    from credit_sdk.sandbox import SandboxServer

    with SandboxServer() as server:
        yield server
