"""Authentication of the sandbox: bearer token or HMAC signing, replay window, nonce cache."""

from __future__ import annotations

import json
import time

import pytest

from credit_sdk._signing import sign_request
from credit_sdk.sandbox import DEFAULT_APP_ID, DEFAULT_APP_SECRET, DEFAULT_TOKEN, create_app
from credit_sdk.sandbox.auth import Authenticator, Credentials, NonceCache
from tests.sandbox.helpers import AUTH, TestClient, report_query, subject

PATH = "/v1/reports:query"
HOST = "testserver"  # the Host header Starlette's test client sends


def body() -> bytes:
    return json.dumps(report_query(subject("severe_list"))).encode()


def signed_post(
    client: TestClient, payload: bytes, **sign: object
) -> tuple[int, dict[str, object], dict[str, str]]:
    headers = sign_request(
        "POST", PATH, payload, DEFAULT_APP_ID, DEFAULT_APP_SECRET, host=HOST, **sign
    )  # type: ignore[arg-type]
    response = client.post(
        PATH, content=payload, headers={**headers, "Content-Type": "application/json"}
    )
    return response.status_code, response.json(), dict(response.headers)


def assert_problem(response_json: dict[str, object], status: int) -> None:
    assert response_json["status"] == status
    assert {"type", "title", "status", "detail", "request_id"} <= set(response_json)


def test_bearer_token_is_accepted(client: TestClient) -> None:
    assert client.post(PATH, json=report_query(subject("clean")), headers=AUTH).status_code == 200


def test_bearer_scheme_is_case_insensitive(client: TestClient) -> None:
    headers = {"Authorization": f"bearer {DEFAULT_TOKEN}"}
    assert (
        client.post(PATH, json=report_query(subject("clean")), headers=headers).status_code == 200
    )


def test_missing_credentials_are_401_with_a_challenge(client: TestClient) -> None:
    response = client.post(PATH, json=report_query(subject("clean")))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert_problem(response.json(), 401)


@pytest.mark.parametrize("value", [f"Bearer {DEFAULT_TOKEN}x", "Bearer", "Basic dXNlcjpwdw==", ""])
def test_wrong_token_is_401(client: TestClient, value: str) -> None:
    response = client.post(
        PATH, json=report_query(subject("clean")), headers={"Authorization": value}
    )
    assert response.status_code == 401
    assert DEFAULT_TOKEN not in response.text


def test_a_bearer_header_is_judged_alone(client: TestClient) -> None:
    payload = body()
    headers = sign_request("POST", PATH, payload, DEFAULT_APP_ID, DEFAULT_APP_SECRET, host=HOST)
    headers["Authorization"] = "Bearer wrong"
    assert client.post(PATH, content=payload, headers=headers).status_code == 401


def test_signed_request_is_accepted(client: TestClient) -> None:
    status, _, _ = signed_post(client, body())
    assert status == 200


def test_signed_get_with_a_query_string(client: TestClient) -> None:
    target = "/v1/measure-lists?view=full"
    headers = sign_request("GET", target, b"", DEFAULT_APP_ID, DEFAULT_APP_SECRET, host=HOST)
    assert client.get(target, headers=headers).status_code == 200
    # Signing the path without its query string does not verify.
    headers = sign_request(
        "GET", "/v1/measure-lists", b"", DEFAULT_APP_ID, DEFAULT_APP_SECRET, host=HOST
    )
    assert client.get(target, headers=headers).status_code == 403


def test_bad_signature_is_403(client: TestClient) -> None:
    payload = body()
    headers = sign_request(
        "POST", PATH, payload, DEFAULT_APP_ID, b"another-secret-entirely", host=HOST
    )
    response = client.post(PATH, content=payload, headers=headers)
    assert response.status_code == 403
    assert_problem(response.json(), 403)
    assert "signature" in response.json()["detail"]


def test_tampered_body_is_403(client: TestClient) -> None:
    payload = body()
    headers = sign_request("POST", PATH, payload, DEFAULT_APP_ID, DEFAULT_APP_SECRET, host=HOST)
    tampered = payload.replace(b"q-1", b"q-2")
    response = client.post(PATH, content=tampered, headers=headers)
    assert response.status_code == 403
    assert "X-Credit-Content-SHA256" in response.json()["detail"]


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_stale_timestamp_is_403(client: TestClient, skew: int) -> None:
    status, problem, _ = signed_post(client, body(), timestamp=int(time.time()) + skew)
    assert status == 403
    assert "300 s" in str(problem["detail"])


def test_timestamp_within_the_window_is_accepted(client: TestClient) -> None:
    status, _, _ = signed_post(client, body(), timestamp=int(time.time()) - 250)
    assert status == 200


def test_replayed_nonce_is_403(client: TestClient) -> None:
    payload = body()
    headers = sign_request("POST", PATH, payload, DEFAULT_APP_ID, DEFAULT_APP_SECRET, host=HOST)
    first = client.post(PATH, content=payload, headers=headers)
    replay = client.post(PATH, content=payload, headers=headers)
    assert first.status_code == 200
    assert replay.status_code == 403
    assert "replay" in replay.json()["detail"]


def test_a_forged_request_does_not_burn_the_nonce(client: TestClient) -> None:
    payload = body()
    good = sign_request(
        "POST", PATH, payload, DEFAULT_APP_ID, DEFAULT_APP_SECRET, host=HOST, nonce="n-42"
    )
    forged = {**good, "X-Credit-Signature": "0" * 64}
    assert client.post(PATH, content=payload, headers=forged).status_code == 403
    assert client.post(PATH, content=payload, headers=good).status_code == 200


def test_unknown_application_is_401(client: TestClient) -> None:
    payload = body()
    headers = sign_request("POST", PATH, payload, "someone-else", DEFAULT_APP_SECRET, host=HOST)
    assert client.post(PATH, content=payload, headers=headers).status_code == 401


def test_incomplete_signing_headers_are_401(client: TestClient) -> None:
    payload = body()
    headers = sign_request("POST", PATH, payload, DEFAULT_APP_ID, DEFAULT_APP_SECRET, host=HOST)
    del headers["X-Credit-Nonce"]
    assert client.post(PATH, content=payload, headers=headers).status_code == 401


def test_health_needs_no_credentials(client: TestClient) -> None:
    assert client.get("/v1/health").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/measure-lists"),
        ("GET", "/v1/measure-lists/x/versions/1"),
        ("POST", "/v1/reports:batchQuery"),
        ("POST", "/v1/feedback"),
        ("POST", "/v1/objections"),
        ("GET", "/_sandbox/subjects"),
        ("PUT", "/_sandbox/subjects"),
        ("POST", "/_sandbox/faults"),
        ("DELETE", "/_sandbox/faults"),
        ("GET", "/_sandbox/feedback"),
        ("GET", "/_sandbox/requests"),
        ("POST", "/_sandbox/reset"),
        ("PUT", "/_sandbox/measure-lists"),
    ],
)
def test_everything_else_needs_credentials(client: TestClient, method: str, path: str) -> None:
    assert client.request(method, path).status_code == 401


def test_custom_credentials() -> None:
    app = create_app(token="custom-token-123", app_id="custom-app", app_secret="custom-secret")
    with TestClient(app) as http:
        ok = {"Authorization": "Bearer custom-token-123"}
        assert http.get("/v1/measure-lists", headers=ok).status_code == 200
        assert http.get("/v1/measure-lists", headers=AUTH).status_code == 401
        signed = sign_request(
            "GET", "/v1/measure-lists", b"", "custom-app", b"custom-secret", host=HOST
        )
        assert http.get("/v1/measure-lists", headers=signed).status_code == 200


def test_secrets_stay_out_of_reprs() -> None:
    credentials = Credentials(token="tok-SECRET", app_id="app", app_secret=b"sec-SECRET")
    for text in (repr(credentials), str(credentials), repr(Authenticator(credentials))):
        assert "SECRET" not in text
    state = create_app(token="tok-SECRET").state.sandbox
    assert "SECRET" not in repr(state.auth)
    state.store.close()


def test_credentials_must_not_be_empty() -> None:
    with pytest.raises(ValueError, match="token"):
        Credentials(token="", app_id="a", app_secret=b"s")


def test_nonce_cache_forgets_after_the_window_and_stays_bounded() -> None:
    cache = NonceCache(window_seconds=10, max_entries=3)
    assert cache.first_use("a", "n1", now=100)
    assert not cache.first_use("a", "n1", now=105)
    assert cache.first_use("b", "n1", now=105)  # nonces are per application
    assert cache.first_use("a", "n1", now=200)  # long past the window: forgotten
    for i in range(10):
        cache.first_use("a", f"m{i}", now=300)
    assert len(cache) <= 3
