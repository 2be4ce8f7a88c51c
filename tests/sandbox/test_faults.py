"""Every fault mode on every contract route, observed by a real client over loopback.

Runs against its own :class:`SandboxServer` (faults are set and cleared around each test), with
httpx as the client because the SDK's client is httpx: these are the exceptions and bodies that
client will have to turn into ``PlatformUnavailable`` / ``PlatformProtocolError``.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from credit_sdk import CreditReport
from credit_sdk.sandbox import CONTRACT_ROUTES, SandboxServer, create_app
from tests.sandbox.helpers import (
    AUTH,
    CONTEXT,
    TestClient,
    duty_request,
    feedback_item,
    report_query,
    subject,
)

_keys = itertools.count()


def request_for(route: str) -> tuple[str, str, dict[str, Any] | None, dict[str, str]]:
    """A valid request of ``route``: method, path, JSON body, extra headers."""
    key = {"Idempotency-Key": f"fault-test-{next(_keys)}"}
    if route == "reports:query":
        return "POST", "/v1/reports:query", report_query(subject("severe_list")), {}
    if route == "reports:batchQuery":
        queries = [{"query_id": "b-1", "subject": subject("red_list")}]
        return "POST", "/v1/reports:batchQuery", {**CONTEXT, "queries": queries}, {}
    if route == "measure-lists":
        return "GET", "/v1/measure-lists", None, {}
    if route == "feedback":
        return "POST", "/v1/feedback", {"items": [feedback_item(key["Idempotency-Key"])]}, key
    if route == "objections":
        body = {
            "subject": subject("expired"),
            "item_id": "REC-SAMPLE-0401",
            "reason": "r",
            "needs_assistance": False,
        }
        return "POST", "/v1/objections", body, key
    if route.startswith("information:"):
        path, body = duty_request(route, record_id=f"REC-{key['Idempotency-Key']}")
        return "POST", path, body, key
    if route == "checkpoints":
        checkpoint = {
            "v": 1, "seq": next(_keys) + 1, "hash": "a" * 64,
            "at": "2026-03-01T08:00:00.000000Z", "key": "b" * 16, "signature": "c" * 128,
        }  # fmt: skip
        return "POST", "/v1/checkpoints", {"checkpoint": checkpoint}, key
    assert route == "health"
    return "GET", "/v1/health", None, {}


NORMAL_STATUS = {
    "reports:query": 200,
    "reports:batchQuery": 200,
    "measure-lists": 200,
    "feedback": 202,
    "objections": 201,
    "information:push": 201,
    "information:correct": 201,
    "information:updateBasis": 201,
    "checkpoints": 202,
    "health": 200,
}


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as sandbox:
        yield sandbox


@pytest.fixture
def http(server: SandboxServer) -> Iterator[httpx.Client]:
    server.admin.clear_faults()
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=10) as client:
        yield client
    server.admin.clear_faults()


def call(http: httpx.Client, route: str) -> httpx.Response:
    method, path, body, headers = request_for(route)
    return http.request(method, path, json=body, headers=headers)


def assert_normal(http: httpx.Client, route: str) -> None:
    response = call(http, route)
    assert response.status_code == NORMAL_STATUS[route]
    response.json()


routes = pytest.mark.parametrize("route", CONTRACT_ROUTES)


@routes
@pytest.mark.parametrize(("status", "retry_after"), [(503, 7), (429, 1), (500, None), (408, None)])
def test_status_fault(
    server: SandboxServer, http: httpx.Client, route: str, status: int, retry_after: int | None
) -> None:
    server.admin.inject_fault(route, status=status, retry_after=retry_after, times=1)
    response = call(http, route)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status
    assert response.headers.get("retry-after") == (
        None if retry_after is None else str(retry_after)
    )
    assert response.headers["x-request-id"] == response.json()["request_id"]
    assert_normal(http, route)  # times=1: cleared


@routes
def test_latency(server: SandboxServer, http: httpx.Client, route: str) -> None:
    server.admin.inject_fault(route, latency_ms=200, times=1)
    started = time.perf_counter()
    response = call(http, route)
    assert time.perf_counter() - started >= 0.2
    assert response.status_code == NORMAL_STATUS[route]


def test_latency_beyond_the_client_timeout_is_a_read_timeout(
    server: SandboxServer, http: httpx.Client
) -> None:
    server.admin.inject_fault("reports:query", latency_ms=1500, times=1)
    method, path, body, _ = request_for("reports:query")
    with pytest.raises(httpx.ReadTimeout):
        http.request(method, path, json=body, timeout=httpx.Timeout(5, read=0.2))


@routes
def test_reset_drops_the_connection_unanswered(
    server: SandboxServer, http: httpx.Client, route: str
) -> None:
    server.admin.inject_fault(route, mode="reset", times=1)
    with pytest.raises(httpx.ReadError, match="reset by peer"):
        call(http, route)
    assert_normal(http, route)


@routes
def test_truncate_sends_half_the_declared_body(
    server: SandboxServer, http: httpx.Client, route: str
) -> None:
    server.admin.inject_fault(route, mode="truncate", times=1)
    with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|complete message body"):
        call(http, route)
    assert_normal(http, route)


@routes
def test_malformed_json(server: SandboxServer, http: httpx.Client, route: str) -> None:
    server.admin.inject_fault(route, mode="malformed", times=1)
    response = call(http, route)
    assert response.status_code == NORMAL_STATUS[route]
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


@routes
def test_wrong_schema(server: SandboxServer, http: httpx.Client, route: str) -> None:
    server.admin.inject_fault(route, mode="wrong_schema", times=1)
    response = call(http, route)
    data = response.json()  # valid JSON ...
    assert response.headers["content-type"] == "application/json"
    # ... but no field a client reads has the right type.
    assert not isinstance(data.get("results"), list)
    assert not isinstance(data.get("lists"), list)
    assert not isinstance(data.get("accepted"), int)
    assert data.get("status") != "ok"
    with pytest.raises(ValueError, match="report"):
        CreditReport.parse(response.content)


@routes
def test_wrong_content_type(server: SandboxServer, http: httpx.Client, route: str) -> None:
    server.admin.inject_fault(route, mode="wrong_content_type", times=1)
    response = call(http, route)
    assert response.headers["content-type"].startswith("text/html")
    response.json()  # the real body, mislabelled


@routes
def test_oversized(server: SandboxServer, http: httpx.Client, route: str) -> None:
    size = 1024 * 1024
    server.admin.inject_fault(route, mode="oversized", size_bytes=size, times=1)
    response = call(http, route)
    assert int(response.headers["content-length"]) == size
    assert len(response.content) == size
    assert response.json()["sandbox_fault"] == "oversized"


def test_oversized_defaults_to_20_mib_and_a_client_can_stop_reading(
    server: SandboxServer, http: httpx.Client
) -> None:
    server.admin.inject_fault("reports:query", mode="oversized", times=2)
    method, path, body, _ = request_for("reports:query")
    with http.stream(method, path, json=body) as response:
        assert int(response.headers["content-length"]) == 20 * 1024 * 1024
        received = 0
        for chunk in response.iter_bytes():
            received += len(chunk)
            if received > 256 * 1024:  # what a client with a size limit does
                break
    whole = http.request(method, path, json=body)
    assert len(whole.content) == 20 * 1024 * 1024
    assert_normal(http, "reports:query")


def test_status_and_mode_combine(server: SandboxServer, http: httpx.Client) -> None:
    server.admin.inject_fault("health", status=502, retry_after=2, mode="malformed", times=1)
    response = call(http, "health")
    assert response.status_code == 502
    assert response.headers["retry-after"] == "2"
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_times_counts_down(server: SandboxServer, http: httpx.Client) -> None:
    server.admin.inject_fault("measure-lists", status=503, times=3)
    seen = []
    for _ in range(4):
        seen.append(call(http, "measure-lists").status_code)
        remaining = [f.get("remaining") for f in server.admin.faults()]
        seen.append(remaining[0] if remaining else None)
    assert seen == [503, 2, 503, 1, 503, None, 200, None]


def test_without_times_a_fault_stays_until_cleared(
    server: SandboxServer, http: httpx.Client
) -> None:
    server.admin.inject_fault("health", status=503)
    assert [call(http, "health").status_code for _ in range(5)] == [503] * 5
    assert server.admin.clear_faults("health") == 1
    assert call(http, "health").status_code == 200


def test_a_new_fault_replaces_the_routes_old_one(server: SandboxServer, http: httpx.Client) -> None:
    server.admin.inject_fault("health", status=503)
    server.admin.inject_fault("health", status=500, times=1)
    assert [call(http, "health").status_code for _ in range(2)] == [500, 200]


def test_star_faults_every_contract_route_but_not_admin(
    server: SandboxServer, http: httpx.Client
) -> None:
    server.admin.inject_fault("*", status=503)
    for route in CONTRACT_ROUTES:
        assert call(http, route).status_code == 503, route
    assert server.admin.faults()[0]["route"] == "*"  # admin still answers
    server.admin.inject_fault("health", status=500, times=1)  # the route's own fault wins
    assert call(http, "health").status_code == 500
    assert call(http, "health").status_code == 503


def test_status_and_reset_faults_do_not_process_the_request(
    server: SandboxServer, http: httpx.Client
) -> None:
    before = len(server.admin.feedback())
    server.admin.inject_fault("feedback", status=503, times=1)
    assert call(http, "feedback").status_code == 503
    server.admin.inject_fault("feedback", mode="reset", times=1)
    with pytest.raises(httpx.ReadError):
        call(http, "feedback")
    assert len(server.admin.feedback()) == before


def test_a_lost_answer_is_recovered_by_retrying_with_the_same_key(
    server: SandboxServer, http: httpx.Client
) -> None:
    # The request is processed, the answer lost on the way back: the case idempotency is for.
    method, path, body, headers = request_for("feedback")
    server.admin.inject_fault("feedback", mode="truncate", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        http.request(method, path, json=body, headers=headers)
    retry = http.request(method, path, json=body, headers=headers)
    assert retry.status_code == 202
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == {"accepted": 1, "duplicates": 0}
    stored = [
        i
        for i in server.admin.feedback()
        if i["request_idempotency_key"] == headers["Idempotency-Key"]
    ]
    assert len(stored) == 1


def test_faulted_requests_are_counted(server: SandboxServer, http: httpx.Client) -> None:
    server.admin.reset_requests()
    server.admin.inject_fault("reports:batchQuery", status=503, times=2)
    for _ in range(3):
        call(http, "reports:batchQuery")
    assert server.admin.requests() == {"reports:batchQuery": 3}


def test_faults_come_before_authentication(server: SandboxServer) -> None:
    # An unreachable platform answers the same to everyone, like a proxy in front of it.
    server.admin.inject_fault("measure-lists", status=503, times=1)
    with httpx.Client(base_url=server.url) as anonymous:
        assert anonymous.get("/v1/measure-lists").status_code == 503
        assert anonymous.get("/v1/measure-lists").status_code == 401


def test_reset_under_an_in_process_test_client_raises() -> None:
    # Starlette's TestClient has no connection to drop: the sandbox raises instead.
    with TestClient(create_app()) as client:
        client.post("/_sandbox/faults", json={"route": "health", "mode": "reset"}, headers=AUTH)
        with pytest.raises(ConnectionResetError):
            client.get("/v1/health")
