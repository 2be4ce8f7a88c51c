"""Fixtures for the sandbox's own tests: a fresh app per test behind Starlette's TestClient."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from credit_sdk.sandbox import create_app
from tests.sandbox.helpers import TestClient


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A TestClient over a freshly seeded in-memory sandbox (lifespan run: the store closes)."""
    with TestClient(create_app()) as http:
        yield http


@pytest.fixture
def empty_client() -> Iterator[TestClient]:
    """A TestClient over an unseeded sandbox: no subjects, no measure lists."""
    with TestClient(create_app(seed=False)) as http:
        yield http
