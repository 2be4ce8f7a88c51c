"""Fixtures for the article-by-article legal tests (builders live in ``builders.py``)."""

from __future__ import annotations

import pytest

from credit_sdk import Catalog, PolicyProfile


@pytest.fixture
def catalog() -> Catalog:
    return Catalog.default()


@pytest.fixture
def draft() -> PolicyProfile:
    return PolicyProfile.default()
