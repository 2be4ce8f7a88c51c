"""HMAC request signing of the platform contract (docs/platform-contract.md, "Authentication").

A signed request carries five headers: the application id, a Unix timestamp, a single-use
nonce, the hex SHA-256 of the exact body bytes, and a hex HMAC-SHA256 under the application
secret of the canonical string::

    METHOD \\n PATH_WITH_QUERY \\n TIMESTAMP \\n NONCE \\n CONTENT_SHA256
    \\n HOST \\n IDEMPOTENCY_KEY

``PATH_WITH_QUERY`` is the request target as sent on the wire: the percent-encoded path, then
``?`` and the query string when there is one (with httpx: ``request.url.raw_path``). ``HOST`` is
the ``Host`` header as sent (lower-cased), ``IDEMPOTENCY_KEY`` the ``Idempotency-Key`` header or
the empty string: both change what a request means (where it goes; whether a replay is a new
feedback batch or the same one), so an intermediary that rewrites either breaks the signature.
Signatures without them (the first version of the contract) are not accepted: no platform
implements that version, and it let an intermediary turn one feedback delivery into two.

This module is pure (hashlib and hmac only) so that the HTTP client signs with exactly the
function the sandbox verifies with, and can import it without the server's dependencies.
Replay protection needs state (the nonces seen in the window): the stateless
:func:`verify_signature` checks everything else, and the server keeps the nonce cache.

>>> headers = sign_request("POST", "/v1/reports:query", b"{}", "demo-app", b"0123456789abcdef",
...                        host="platform.example", timestamp=1_700_000_000, nonce="n-1")
>>> sorted(headers)  # doctest: +NORMALIZE_WHITESPACE
['X-Credit-App-Id', 'X-Credit-Content-SHA256', 'X-Credit-Nonce', 'X-Credit-Signature',
 'X-Credit-Timestamp']
>>> verify_signature("POST", "/v1/reports:query", b"{}", {**headers, "Host": "platform.example"},
...                  app_id="demo-app", secret=b"0123456789abcdef", now=1_700_000_010) is None
True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from enum import StrEnum

__all__ = [
    "APP_ID_HEADER",
    "CONTENT_SHA256_HEADER",
    "NONCE_HEADER",
    "REPLAY_WINDOW_SECONDS",
    "SIGNATURE_HEADER",
    "SIGNING_HEADERS",
    "TIMESTAMP_HEADER",
    "SignatureFailure",
    "body_sha256",
    "canonical_string",
    "sign_request",
    "verify_signature",
]

APP_ID_HEADER = "X-Credit-App-Id"
TIMESTAMP_HEADER = "X-Credit-Timestamp"
NONCE_HEADER = "X-Credit-Nonce"
CONTENT_SHA256_HEADER = "X-Credit-Content-SHA256"
SIGNATURE_HEADER = "X-Credit-Signature"
SIGNING_HEADERS = (
    APP_ID_HEADER,
    TIMESTAMP_HEADER,
    NONCE_HEADER,
    CONTENT_SHA256_HEADER,
    SIGNATURE_HEADER,
)

REPLAY_WINDOW_SECONDS = 300
"""A signed request is accepted only while its timestamp is this close to the server's clock;
the server remembers nonces for as long, so a captured request cannot be replayed."""

_MAX_NONCE_LENGTH = 128
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class SignatureFailure(StrEnum):
    """Why :func:`verify_signature` rejected a request (never says more than the category)."""

    MISSING_HEADERS = "missing_headers"
    UNKNOWN_APP = "unknown_app"
    BAD_TIMESTAMP = "bad_timestamp"
    STALE_TIMESTAMP = "stale_timestamp"
    BAD_NONCE = "bad_nonce"
    DIGEST_MISMATCH = "digest_mismatch"
    BAD_SIGNATURE = "bad_signature"


def body_sha256(body: bytes) -> str:
    """Hex SHA-256 of the exact body bytes (of ``b""`` for a request without a body).

    >>> body_sha256(b"")[:12]
    'e3b0c44298fc'
    """
    return _EMPTY_SHA256 if not body else hashlib.sha256(body).hexdigest()


def canonical_string(
    method: str,
    path_with_query: str,
    timestamp: str,
    nonce: str,
    content_sha256: str,
    host: str,
    idempotency_key: str = "",
) -> str:
    """The string that is signed: the seven parts joined by newlines, the method upper-cased,
    the host lower-cased.

    >>> canonical_string("get", "/v1/health", "1700000000", "n", "e3b0", "Platform.Example")
    'GET\\n/v1/health\\n1700000000\\nn\\ne3b0\\nplatform.example\\n'
    """
    return "\n".join(
        (
            method.upper(),
            path_with_query,
            timestamp,
            nonce,
            content_sha256,
            host.strip().lower(),
            idempotency_key.strip(),
        )
    )


def _mac(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_request(
    method: str,
    path_with_query: str,
    body: bytes,
    app_id: str,
    secret: bytes,
    *,
    host: str,
    idempotency_key: str | None = None,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Return the signing headers for one request to ``host`` (the ``Host`` header it will
    carry, with the port when it is not the scheme's default) with its ``Idempotency-Key``.

    ``timestamp`` defaults to now and ``nonce`` to 128 random bits; pass them only to make a
    test deterministic. A nonce must never be reused: the platform refuses a replay.

    >>> h = sign_request("GET", "/v1/measure-lists", b"", "demo-app", b"0123456789abcdef",
    ...                  host="platform.example", timestamp=1_700_000_000, nonce="abc")
    >>> len(h["X-Credit-Signature"])
    64
    """
    if not isinstance(secret, bytes | bytearray):
        raise TypeError("the signing secret must be bytes")
    if not isinstance(host, str) or not host:
        raise TypeError("host must be the request's Host header (a non-empty str)")
    ts = str(int(time.time()) if timestamp is None else int(timestamp))
    nonce = secrets.token_hex(16) if nonce is None else nonce
    digest = body_sha256(body)
    signature = _mac(
        bytes(secret),
        canonical_string(method, path_with_query, ts, nonce, digest, host, idempotency_key or ""),
    )
    return {
        APP_ID_HEADER: app_id,
        TIMESTAMP_HEADER: ts,
        NONCE_HEADER: nonce,
        CONTENT_SHA256_HEADER: digest,
        SIGNATURE_HEADER: signature,
    }


def verify_signature(
    method: str,
    path_with_query: str | tuple[str, ...],
    body: bytes,
    headers: Mapping[str, str],
    *,
    app_id: str,
    secret: bytes,
    now: float | None = None,
    window_seconds: int = REPLAY_WINDOW_SECONDS,
) -> SignatureFailure | None:
    """Check a signed request; return ``None`` when it verifies, else why it does not.

    Stateless: the caller must still refuse a nonce it has seen within ``window_seconds``.
    ``headers`` are the request's headers, any mapping (names are matched case-insensitively):
    ``Host`` and ``Idempotency-Key`` are taken from them. ``path_with_query``
    may list equivalent spellings of the target (raw and decoded) when a server cannot know
    which one the client signed; any match verifies. Comparisons are constant-time.

    >>> verify_signature("GET", "/v1/health", b"", {}, app_id="a", secret=b"s" * 16)
    <SignatureFailure.MISSING_HEADERS: 'missing_headers'>
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    values = [lowered.get(name.lower()) for name in SIGNING_HEADERS]
    given_app, ts, nonce, digest, signature = values
    if given_app is None or ts is None or nonce is None or digest is None or signature is None:
        return SignatureFailure.MISSING_HEADERS
    if not hmac.compare_digest(given_app.encode(), app_id.encode()):
        return SignatureFailure.UNKNOWN_APP
    if not (ts.isascii() and ts.isdigit() and len(ts) <= 12):
        return SignatureFailure.BAD_TIMESTAMP
    current = time.time() if now is None else now
    if abs(current - int(ts)) > window_seconds:
        return SignatureFailure.STALE_TIMESTAMP
    if not nonce or len(nonce) > _MAX_NONCE_LENGTH or not nonce.isascii():
        return SignatureFailure.BAD_NONCE
    if not hmac.compare_digest(digest.lower().encode(), body_sha256(body).encode()):
        return SignatureFailure.DIGEST_MISMATCH
    targets = (path_with_query,) if isinstance(path_with_query, str) else path_with_query
    given = signature.lower().encode()
    host = lowered.get("host") or ""
    idempotency_key = lowered.get("idempotency-key") or ""
    for target in targets:
        expected = _mac(
            secret,
            canonical_string(method, target, ts, nonce, digest.lower(), host, idempotency_key),
        )
        if hmac.compare_digest(given, expected.encode()):
            return None
    return SignatureFailure.BAD_SIGNATURE
