"""A body nested deeper than any JSON decoder recurses (docs/platform-contract.md: malformed
requests are `4xx` problems) is refused like any malformed body, on every route that takes
one, and never answered `500` (an unhandled `RecursionError`)."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import AUTH, TestClient

DEEP = b"[" * 50_000 + b"]" * 50_000
ROUTES = [
    ("POST", "/v1/reports:query"),
    ("POST", "/v1/reports:batchQuery"),
    ("POST", "/v1/feedback"),
    ("POST", "/v1/objections"),
    ("POST", "/v1/information:push"),
    ("POST", "/v1/information:correct"),
    ("POST", "/v1/information:updateBasis"),
    ("POST", "/v1/checkpoints"),
    ("PUT", "/_sandbox/subjects"),
    ("PUT", "/_sandbox/measure-lists"),
    ("POST", "/_sandbox/faults"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[p for _, p in ROUTES])
def test_a_body_nested_too_deeply_is_a_client_error(
    client: TestClient, method: str, path: str
) -> None:
    headers = {**AUTH, "Content-Type": "application/json", "Idempotency-Key": "deep-1"}
    answer = client.request(method, path, content=DEEP, headers=headers)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:200])
    assert answer.headers["content-type"].startswith("application/problem+json")
