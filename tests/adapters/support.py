"""Helpers for the adapter tests: the Starlette test client import, subjects, assertions."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its TestClient and warns once, at import,
    # when it falls back to httpx; the client behaves the same. A pyproject filter cannot do
    # this: `pytest -W error` on the command line takes precedence over ini filters.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from credit_sdk import QueryContext
from credit_sdk.sandbox import seeded_subject

__all__ = [
    "AS_OF",
    "CONTEXT",
    "CONTEXT_FIELDS",
    "TestClient",
    "assert_masked_only",
    "assert_problem",
    "assert_restricted",
    "configure_django",
    "corrupted",
    "masked",
    "raw",
]

#: The synthetic sample data's date: decisions stay the same whatever day the suite runs.
AS_OF = dt.date(2026, 11, 29)

CONTEXT = QueryContext(
    organ="230100-SCJGJ",
    operator="u1024",
    matter_code="LIC-FOOD",
    purpose="food business licence application 2026-118",
)
#: The same context as request fields (for routes that read it by name).
CONTEXT_FIELDS = {
    "organ": CONTEXT.organ,
    "operator": CONTEXT.operator,
    "matter_code": CONTEXT.matter_code,
    "purpose": CONTEXT.purpose,
}


def configure_django() -> None:
    """Configure Django once per process for the adapter tests (no database, no apps); the
    URLconf is tests/adapters/test_django.py, and tests override settings as they need."""
    from django.conf import settings

    if settings.configured:
        return
    import django

    settings.configure(
        DEBUG=False,
        SECRET_KEY="adapter-tests-not-a-secret",
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF="tests.adapters.test_django",
        INSTALLED_APPS=[],
        DATABASES={},
        MIDDLEWARE=["credit_sdk.adapters.django.CreditCheckMiddleware"],
        USE_TZ=True,
    )
    django.setup()


def raw(state: str) -> str:
    """The raw (synthetic) identifier of the seeded subject in ``state``: what a form sends."""
    return seeded_subject(state).identifier.reveal()


def corrupted(state: str) -> str:
    """The seeded identifier with a wrong check character (rule ``check_character``)."""
    value = raw(state)
    return value[:-1] + ("0" if value[-1] != "0" else "1")


def masked(state: str) -> str:
    return seeded_subject(state).identifier.masked


def assert_masked_only(state: str, body: bytes | str, headers: Mapping[str, str]) -> None:
    """Neither the body nor any header carries the raw identifier."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    identifier = raw(state)
    assert identifier not in text
    assert identifier.lower() not in text.lower()
    for name, value in headers.items():
        assert identifier not in value, name


def assert_problem(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    expected_status: int,
    slug: str,
) -> dict[str, Any]:
    """An RFC 9457 problem document with the expected status and type; returns its body."""
    assert status == expected_status, body
    assert headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = json.loads(body)
    assert problem["status"] == expected_status
    assert problem["type"] == f"urn:credit-sdk:problem:{slug}"
    assert problem["title"]
    assert problem["detail"]
    return problem


def assert_restricted(problem: Mapping[str, Any], state: str) -> None:
    """The restricted problem names each restriction with its legal basis, subject masked."""
    assert problem["outcome"] == "RESTRICTED"
    assert problem["subject"] == masked(state)
    assert problem["restrictions"]
    for measure in problem["restrictions"]:
        assert measure["title"]
        assert measure["legal_basis"]
        assert all("条" in basis for basis in measure["legal_basis"])
    assert problem["query_id"]
