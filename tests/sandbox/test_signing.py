"""HMAC request signing (credit_sdk._signing): what the client signs is what the platform checks."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from credit_sdk._signing import (
    SIGNING_HEADERS,
    SignatureFailure,
    body_sha256,
    canonical_string,
    sign_request,
    verify_signature,
)

SECRET = b"0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000
HOST = "platform.example:8443"


def signed(body: bytes = b'{"a":1}', **kw: object) -> dict[str, str]:
    options: dict[str, object] = {"host": HOST, "timestamp": NOW, "nonce": "n-1"}
    options.update(kw)
    return sign_request("POST", "/v1/reports:query", body, "app-1", SECRET, **options)  # type: ignore[arg-type]


def verify(headers: dict[str, str], body: bytes = b'{"a":1}', **kw: object) -> object:
    """Verify as the server does: the request's own headers, its Host among them."""
    defaults: dict[str, object] = {"app_id": "app-1", "secret": SECRET, "now": NOW}
    defaults.update(kw)
    request_headers = {"Host": HOST, **headers}
    return verify_signature("POST", "/v1/reports:query", body, request_headers, **defaults)  # type: ignore[arg-type]


def test_signature_is_hmac_sha256_of_the_canonical_string() -> None:
    headers = signed()
    digest = hashlib.sha256(b'{"a":1}').hexdigest()
    message = f"POST\n/v1/reports:query\n{NOW}\nn-1\n{digest}\n{HOST}\n".encode()
    assert headers == {
        "X-Credit-App-Id": "app-1",
        "X-Credit-Timestamp": str(NOW),
        "X-Credit-Nonce": "n-1",
        "X-Credit-Content-SHA256": digest,
        "X-Credit-Signature": hmac.new(SECRET, message, hashlib.sha256).hexdigest(),
    }
    assert (
        canonical_string("post", "/p?q=1", "1", "n", "d", "H.example", "k-1")
        == "POST\n/p?q=1\n1\nn\nd\nh.example\nk-1"
    )


def test_empty_body_digest_is_that_of_the_empty_string() -> None:
    assert body_sha256(b"") == hashlib.sha256(b"").hexdigest()


def test_defaults_are_now_and_a_fresh_nonce() -> None:
    a = sign_request("GET", "/v1/health", b"", "app", SECRET, host=HOST)
    b = sign_request("GET", "/v1/health", b"", "app", SECRET, host=HOST)
    assert a["X-Credit-Nonce"] != b["X-Credit-Nonce"]
    assert len(a["X-Credit-Nonce"]) == 32
    request = {**a, "Host": HOST}
    assert verify_signature("GET", "/v1/health", b"", request, app_id="app", secret=SECRET) is None


def test_secret_must_be_bytes() -> None:
    with pytest.raises(TypeError):
        sign_request("GET", "/", b"", "app", "text-secret", host=HOST)  # type: ignore[arg-type]


def test_a_good_signature_verifies_with_any_header_case() -> None:
    headers = {k.lower(): v for k, v in signed().items()}
    assert verify(headers) is None


@pytest.mark.parametrize("missing", SIGNING_HEADERS)
def test_every_header_is_required(missing: str) -> None:
    headers = signed()
    del headers[missing]
    assert verify(headers) is SignatureFailure.MISSING_HEADERS


@pytest.mark.parametrize(
    ("change", "failure"),
    [
        ({"X-Credit-App-Id": "app-2"}, SignatureFailure.UNKNOWN_APP),
        ({"X-Credit-Timestamp": "soon"}, SignatureFailure.BAD_TIMESTAMP),
        ({"X-Credit-Nonce": ""}, SignatureFailure.BAD_NONCE),
        ({"X-Credit-Nonce": "n" * 129}, SignatureFailure.BAD_NONCE),
        ({"X-Credit-Content-SHA256": "0" * 64}, SignatureFailure.DIGEST_MISMATCH),
        ({"X-Credit-Signature": "0" * 64}, SignatureFailure.BAD_SIGNATURE),
        ({"X-Credit-Nonce": "n-2"}, SignatureFailure.BAD_SIGNATURE),
    ],
)
def test_each_tampering_has_its_reason(change: dict[str, str], failure: SignatureFailure) -> None:
    assert verify({**signed(), **change}) is failure


def test_the_body_is_covered() -> None:
    assert verify(signed(), body=b'{"a":2}') is SignatureFailure.DIGEST_MISMATCH


def test_the_target_and_method_are_covered() -> None:
    headers = {**signed(), "Host": HOST}
    other_path = verify_signature(
        "POST", "/v1/feedback", b'{"a":1}', headers, app_id="app-1", secret=SECRET, now=NOW
    )
    other_method = verify_signature(
        "PUT", "/v1/reports:query", b'{"a":1}', headers, app_id="app-1", secret=SECRET, now=NOW
    )
    assert other_path is other_method is SignatureFailure.BAD_SIGNATURE


def test_another_secret_does_not_verify() -> None:
    assert verify(signed(), secret=b"x" * 32) is SignatureFailure.BAD_SIGNATURE


@pytest.mark.parametrize(("skew", "ok"), [(300, True), (-300, True), (301, False), (-301, False)])
def test_replay_window_is_300_seconds_either_way(skew: int, ok: bool) -> None:
    result = verify(signed(), now=NOW + skew)
    assert (result is None) is ok
    if not ok:
        assert result is SignatureFailure.STALE_TIMESTAMP


def test_any_listed_spelling_of_the_target_verifies() -> None:
    headers = sign_request(
        "GET", "/v1/x/a%20b?q=1", b"", "app-1", SECRET, host=HOST, timestamp=NOW, nonce="n"
    )
    headers["Host"] = HOST
    targets = ("/v1/x/a b?q=1", "/v1/x/a%20b?q=1")
    assert (
        verify_signature("GET", targets, b"", headers, app_id="app-1", secret=SECRET, now=NOW)
        is None
    )


def test_the_host_is_covered() -> None:
    """A request signed for one platform host is refused when sent (or forwarded) to another."""
    assert verify({**signed(), "Host": "evil.example"}) is SignatureFailure.BAD_SIGNATURE
    assert verify({**signed(), "Host": "PLATFORM.example:8443"}) is None  # hosts are caseless


def test_the_idempotency_key_is_covered() -> None:
    """Rewriting the key would turn a replay into a second delivery: it is signed."""
    with_key = signed(idempotency_key="fb-0001")
    assert verify({**with_key, "Idempotency-Key": "fb-0001"}) is None
    assert verify({**with_key, "Idempotency-Key": "fb-0002"}) is SignatureFailure.BAD_SIGNATURE
    assert verify(with_key) is SignatureFailure.BAD_SIGNATURE  # key removed
    assert verify({**signed(), "Idempotency-Key": "fb-0003"}) is SignatureFailure.BAD_SIGNATURE


def test_a_first_version_signature_is_refused() -> None:
    """The five-part string of the first contract version (no host, no key) no longer verifies."""
    headers = signed()
    digest = headers["X-Credit-Content-SHA256"]
    old = hmac.new(
        SECRET, f"POST\n/v1/reports:query\n{NOW}\nn-1\n{digest}".encode(), hashlib.sha256
    ).hexdigest()
    assert verify({**headers, "X-Credit-Signature": old}) is SignatureFailure.BAD_SIGNATURE
