"""Authentication of the sandbox platform: a bearer token, or HMAC request signing.

A request authenticates with ``Authorization: Bearer <token>``, or with the signing headers of
:mod:`credit_sdk._signing` (the same function the client signs with). A request with an
``Authorization`` header is judged on it alone. The answers:

* ``401`` no credentials, a wrong token, an unknown application id (bad credentials);
* ``403`` a signature that does not verify, a timestamp outside the replay window, a body
  whose digest differs from ``X-Credit-Content-SHA256``, or a nonce already used within the
  window (replay).

Secrets are compared in constant time and never appear in reprs, logs or problem details.

>>> auth = Authenticator(Credentials(token="t" * 24, app_id="demo", app_secret=b"s" * 32))
>>> auth.check("GET", ("/v1/measure-lists",), b"", {"authorization": "Bearer " + "t" * 24})
>>> auth.check("GET", ("/v1/measure-lists",), b"", {}).status
401
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from credit_sdk._signing import (
    APP_ID_HEADER,
    NONCE_HEADER,
    REPLAY_WINDOW_SECONDS,
    SignatureFailure,
    verify_signature,
)

__all__ = ["AuthFailure", "Authenticator", "Credentials", "NonceCache"]


@dataclass(frozen=True, slots=True)
class Credentials:
    """The sandbox's credentials. ``repr`` shows the application id only.

    >>> Credentials(token="secret-token", app_id="demo", app_secret=b"k" * 16)
    Credentials(app_id='demo', token=<hidden>, app_secret=<hidden>)
    """

    token: str = field(repr=False)
    app_id: str
    app_secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.token or not self.app_id or not self.app_secret:
            raise ValueError("the sandbox needs a token, an application id and a secret")

    def __repr__(self) -> str:
        return f"Credentials(app_id={self.app_id!r}, token=<hidden>, app_secret=<hidden>)"


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why a request was refused: the HTTP status and a detail that reveals no secret."""

    status: int
    title: str
    detail: str
    kind: str


_MISSING = AuthFailure(
    401,
    "Unauthorized",
    "send 'Authorization: Bearer <token>' or the X-Credit-* signing headers",
    "unauthorized",
)
_BAD_TOKEN = AuthFailure(401, "Unauthorized", "the bearer token is not valid", "unauthorized")
_SIGNATURE_DETAIL = {
    SignatureFailure.MISSING_HEADERS: (401, "a signed request needs all five X-Credit-* headers"),
    SignatureFailure.UNKNOWN_APP: (401, "unknown application id"),
    SignatureFailure.BAD_TIMESTAMP: (403, "X-Credit-Timestamp must be Unix seconds"),
    SignatureFailure.STALE_TIMESTAMP: (
        403,
        f"X-Credit-Timestamp is more than {REPLAY_WINDOW_SECONDS} s from the platform's clock",
    ),
    SignatureFailure.BAD_NONCE: (403, "X-Credit-Nonce must be 1-128 ASCII characters"),
    SignatureFailure.DIGEST_MISMATCH: (403, "X-Credit-Content-SHA256 does not match the body"),
    SignatureFailure.BAD_SIGNATURE: (403, "the request signature does not verify"),
}
_REPLAY = AuthFailure(
    403, "Forbidden", "this nonce was already used (replayed request)", "replayed-request"
)


class NonceCache:
    """Nonces seen within the replay window, bounded in size.

    A nonce is remembered for ``window_seconds`` *past its timestamp's window*, which is as
    long as a request carrying it could be accepted; older entries are pruned on insert.
    """

    def __init__(self, window_seconds: int = REPLAY_WINDOW_SECONDS, max_entries: int = 200_000):
        self._window = window_seconds
        self._max = max_entries
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def first_use(self, app_id: str, nonce: str, now: float) -> bool:
        """Remember the nonce; ``False`` when it was already seen (a replay)."""
        with self._lock:
            horizon = now - 2 * self._window
            while self._seen:
                oldest_key, seen_at = next(iter(self._seen.items()))
                if seen_at >= horizon and len(self._seen) < self._max:
                    break
                del self._seen[oldest_key]
            key = (app_id, nonce)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True

    def __len__(self) -> int:
        return len(self._seen)


class Authenticator:
    """Checks one request's credentials; see the module docstring for the answers."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        window_seconds: int = REPLAY_WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self._window = window_seconds
        self._clock = clock
        self._nonces = NonceCache(window_seconds)
        self._token = credentials.token.encode()

    def __repr__(self) -> str:
        return f"<Authenticator app_id={self.credentials.app_id!r}>"

    def check(
        self,
        method: str,
        targets: tuple[str, ...],
        body: bytes,
        headers: Mapping[str, str],
    ) -> AuthFailure | None:
        """``None`` when the request authenticates, else the failure to answer.

        ``targets`` are the spellings of the request target the client may have signed (the
        raw one as sent, and the decoded one); ``headers`` must have lower-case names
        (Starlette's ``Headers`` do).
        """
        authorization = headers.get("authorization")
        if authorization is not None:
            scheme, _, token = authorization.strip().partition(" ")
            # The scheme is case-insensitive (RFC 9110 §11.1); the token is not.
            if scheme.lower() == "bearer" and hmac.compare_digest(
                token.strip().encode(), self._token
            ):
                return None
            return _BAD_TOKEN
        if headers.get(APP_ID_HEADER.lower()) is None:
            return _MISSING
        now = self._clock()
        failure = verify_signature(
            method,
            targets,
            body,
            headers,
            app_id=self.credentials.app_id,
            secret=self.credentials.app_secret,
            now=now,
            window_seconds=self._window,
        )
        if failure is not None:
            status, detail = _SIGNATURE_DETAIL[failure]
            title = "Unauthorized" if status == 401 else "Forbidden"
            kind = "unauthorized" if status == 401 else "invalid-signature"
            return AuthFailure(status, title, detail, kind)
        # Only a request that verified may spend its nonce: otherwise anyone could burn a
        # client's future nonces with forged requests.
        if not self._nonces.first_use(self.credentials.app_id, headers[NONCE_HEADER.lower()], now):
            return _REPLAY
        return None
