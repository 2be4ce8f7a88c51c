"""HTTP to the credit platform: authentication, limits, error mapping, retries, circuit breaker.

One long-lived httpx client per SDK client (building one costs ~20 ms), a small connection pool
(httpx's async pool degrades with many connections), explicit timeouts, a response size limit
enforced while streaming, and a content-type check. Errors become the SDK's own tree at this
boundary (``raise ... from err``): httpx and tenacity exceptions never reach the caller.

* ``408``, ``429``, ``5xx``, timeouts and connection failures are :class:`PlatformUnavailable`
  and are retried with jittered exponential backoff; ``Retry-After`` is honoured, capped at
  ``retry_after_cap``. Reads (``GET``) are retried; a ``POST`` only when it carries an
  ``Idempotency-Key`` (report queries carry their query id, so they are retried too).
* A body that is cut short, too large, not JSON where JSON was promised, or of the wrong
  content type is :class:`PlatformProtocolError` (not retried: the same server would most likely
  send the same thing again).
* Other ``4xx`` answers are :class:`PlatformError`, carrying the status and the request id.

>>> transport = SyncTransport(TransportConfig("https://credit.example.gov.cn",
...                                           BearerToken("s3cret-token")))  # doctest: +SKIP
>>> transport                                                                 # doctest: +SKIP
SyncTransport('https://credit.example.gov.cn', auth=BearerToken('***'))
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import random
import re
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from credit_sdk._audit._types import redact_identifiers
from credit_sdk._deadline import (
    DEFAULT_DEADLINE,
    DeadlineBackend,
    bounded,
    check_deadline,
    deadline_scope,
    expired,
    remaining,
)
from credit_sdk._errors import (
    ConfigurationError,
    PlatformError,
    PlatformProtocolError,
    PlatformUnavailable,
    safe_token,
)
from credit_sdk._version import __version__

__all__ = [
    "AsyncTransport",
    "BearerToken",
    "CircuitBreaker",
    "Credentials",
    "HmacCredentials",
    "Response",
    "RetryPolicy",
    "SyncTransport",
    "TransportConfig",
]

_log = logging.getLogger("credit_sdk.transport")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504}) | frozenset(range(505, 600))
_JSON_TYPES = ("application/json", "application/problem+json")


class BearerToken:
    """``Authorization: Bearer <token>``. The token never appears in a repr, log or error.

    >>> BearerToken("s3cret")
    BearerToken('***')
    """

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or not token.strip():
            raise ConfigurationError("the platform bearer token is empty")
        if any(c in token for c in "\r\n"):
            raise ConfigurationError("the platform bearer token contains a line break")
        self._token = token.strip()

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def __repr__(self) -> str:
        return "BearerToken('***')"


class HmacCredentials:
    """HMAC request signing (app id, timestamp, nonce, body digest): the secret never leaves
    the process and never appears in a repr, log or error.

    >>> HmacCredentials("demo-app", b"0123456789abcdef")
    HmacCredentials(app_id='demo-app', secret='***')
    """

    __slots__ = ("_secret", "app_id")

    def __init__(self, app_id: str, secret: bytes | str) -> None:
        if not isinstance(app_id, str) or not app_id.strip():
            raise ConfigurationError("the platform app id is empty")
        raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if len(raw) < 16:
            raise ConfigurationError("the platform app secret must be at least 16 bytes")
        self.app_id = app_id.strip()
        self._secret = raw

    def sign(
        self, method: str, target: str, body: bytes, *, host: str, idempotency_key: str | None
    ) -> dict[str, str]:
        from credit_sdk._signing import sign_request

        return sign_request(
            method,
            target,
            body,
            self.app_id,
            self._secret,
            host=host,
            idempotency_key=idempotency_key,
        )

    def __repr__(self) -> str:
        return f"HmacCredentials(app_id={self.app_id!r}, secret='***')"


Credentials = BearerToken | HmacCredentials


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How failed requests are retried (tenacity underneath).

    ``max_attempts`` counts the first try; waits are "full jitter" exponential between 0 and
    ``min(max_backoff, initial_backoff * 2**n)``; a ``Retry-After`` answer waits what it asks,
    at most ``retry_after_cap`` seconds, so a check never blocks the host longer than that.
    """

    max_attempts: int = 3
    initial_backoff: float = 0.1
    max_backoff: float = 2.0
    retry_after_cap: float = 5.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError("max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.retry_after_cap < 0:
            raise ConfigurationError("backoff and Retry-After caps may not be negative")


class CircuitBreaker:
    """Turns a dead platform into fast failures instead of a timeout per check.

    ``closed`` → after ``failure_threshold`` consecutive unavailable answers → ``open``: calls
    fail at once with :class:`PlatformUnavailable` → after ``recovery_time`` seconds →
    ``half_open``: one trial call goes through; success closes, failure opens again.

    Built rather than taken from a library: the breaker must be shared by the sync and the async
    client (pybreaker is sync-only and raises its own exception types; aiobreaker is async-only),
    count only the failures that mean "unavailable" (not a 404 or a 429 from a living platform),
    take an injectable clock so tests need no sleeps, and never hold a lock across I/O. That is
    forty lines; a dependency would cost more than it saves.

    >>> clock = iter(range(100)).__next__
    >>> b = CircuitBreaker(failure_threshold=2, recovery_time=10, clock=lambda: 0.0)
    >>> b.record_failure(); b.record_failure(); b.state
    'open'
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        recovery_time: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or recovery_time < 0:
            raise ConfigurationError("breaker threshold must be >= 1 and recovery time >= 0")
        self.failure_threshold = failure_threshold
        self.recovery_time = recovery_time
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> Literal["closed", "open", "half_open"]:
        with self._lock:
            return self._state()

    def _state(self) -> Literal["closed", "open", "half_open"]:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.recovery_time:
            return "half_open"
        return "open"

    def before_call(self) -> None:
        """Raise :class:`PlatformUnavailable` at once while the breaker is open."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return
            if state == "half_open" and not self._trial_in_flight:
                self._trial_in_flight = True  # this caller is the trial
                return
            assert self._opened_at is not None
            wait = max(0.0, self.recovery_time - (self._clock() - self._opened_at))
        raise PlatformUnavailable(
            f"circuit breaker open after {self.failure_threshold} consecutive failures; "
            f"next trial in {wait:.1f} s"
        )

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_in_flight or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
            self._trial_in_flight = False

    def release_trial(self) -> None:
        """A trial call ended with an answer that says nothing about availability."""
        with self._lock:
            self._trial_in_flight = False

    def __repr__(self) -> str:
        return f"CircuitBreaker(state={self.state!r}, threshold={self.failure_threshold})"


@dataclass(frozen=True, slots=True)
class TransportConfig:
    """Connection settings. Timeouts are seconds; ``max_response_bytes`` bounds any answer."""

    base_url: str
    credentials: Credentials
    connect_timeout: float = 2.0
    read_timeout: float = 10.0
    write_timeout: float = 10.0
    pool_timeout: float = 5.0
    max_connections: int = 10
    max_keepalive: int = 10
    max_response_bytes: int = 8 * 1024 * 1024
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    user_agent: str = f"credit-sdk/{__version__}"
    #: ``True`` (the system's trust store), a CA bundle file or directory for a platform behind
    #: a private CA, or an ``ssl.SSLContext``. ``False`` turns verification off (logged).
    verify: bool | str | os.PathLike[str] | ssl.SSLContext = True
    deadline: float = DEFAULT_DEADLINE
    #: ``http://`` to anything but loopback sends the token, reports and list digests in clear:
    #: refused unless this is set (and then logged as a warning).
    allow_insecure_http: bool = False

    def __post_init__(self) -> None:
        check_deadline(self.deadline)
        if not isinstance(self.base_url, str):
            raise TypeError(f"base_url must be str, not {type(self.base_url).__name__}")
        try:
            url = httpx.URL(self.base_url)
        except (httpx.InvalidURL, ValueError, TypeError):
            raise ConfigurationError("the platform base URL is not a valid URL") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ConfigurationError("the platform base URL must be an absolute http(s) URL")
        if url.userinfo:
            raise ConfigurationError("put credentials in token/app_secret, not in the URL")
        if url.scheme == "http" and not is_loopback(url.host):
            if not self.allow_insecure_http:
                raise ConfigurationError(
                    "the platform base URL uses http:// to a host that is not loopback: the "
                    "token, the reports and the list digests would travel in clear; use "
                    "https:// (verify= takes a private CA bundle) or pass "
                    "allow_insecure_http=True"
                )
            _log.warning(
                "insecure platform URL accepted (allow_insecure_http=True): credentials and "
                "reports travel unencrypted to %s",
                url.host,
            )
        if self.verify is False:
            _log.warning("TLS certificate verification is off for the platform connection")
        elif not isinstance(self.verify, bool | ssl.SSLContext):
            ssl_context(self.verify)  # a bad path fails here, at construction
        for name in ("connect_timeout", "read_timeout", "write_timeout", "pool_timeout"):
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"{name} must be positive")
        if self.max_connections < 1 or self.max_response_bytes < 1024:
            raise ConfigurationError("max_connections >= 1 and max_response_bytes >= 1024")

    def __repr__(self) -> str:
        return f"TransportConfig({self.base_url!r}, credentials={self.credentials!r})"


@dataclass(frozen=True, slots=True)
class Response:
    """What the provider reads from a successful exchange."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    request_id: str | None


def is_loopback(host: str) -> bool:
    """True for ``localhost`` (and names under it, RFC 6761) and loopback addresses
    (127.0.0.0/8, ::1)."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def ssl_context(verify: str | os.PathLike[str]) -> ssl.SSLContext:
    """A verifying TLS context that trusts the CA bundle at ``verify`` (a PEM file, or a
    directory of hashed certificates), for a platform behind a private CA."""
    path = os.fspath(verify)
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as err:
        raise ConfigurationError(
            f"verify: cannot load the CA bundle ({type(err).__name__}); give a PEM file or a "
            "directory of CA certificates"
        ) from None


class _AttemptFailed(Exception):
    """Internal: one attempt failed; carries the SDK error and whether a retry may help."""

    def __init__(self, error: PlatformError, *, retryable: bool, retry_after: float | None = None):
        super().__init__(str(error))
        self.error = error
        self.retryable = retryable
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    >>> parse_retry_after("3"), parse_retry_after(None), parse_retry_after("soon")
    (3.0, None, None)
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    import email.utils  # only for the rare HTTP-date form

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass(frozen=True, slots=True)
class Problem:
    """What an ``application/problem+json`` answer says. ``title`` and ``detail`` are foreign
    free text (possibly personal): they go on the exception object, never into its message.
    ``code`` is the problem's ``type`` or ``code`` when it is a plain token, fit to print."""

    title: str | None = None
    detail: str | None = None
    code: str | None = None


def read_problem(headers: Mapping[str, str], content: bytes) -> Problem:
    """The problem document of an error answer, decoded within bounds (never raises)."""
    ctype = headers.get("content-type", "")
    if not any(t in ctype for t in _JSON_TYPES) or not content or len(content) > 65536:
        return Problem()
    from credit_sdk._bounded import loads

    try:
        data = loads(content, what="problem", error=ValueError)
    except ValueError:
        return Problem()
    return problem_from(data)


def problem_from(data: object) -> Problem:
    if not isinstance(data, dict):
        return Problem()

    def text(key: str) -> str | None:
        value = data.get(key)
        return redact_identifiers(value)[:2000] if isinstance(value, str) and value else None

    code = None
    for key in ("code", "type"):
        value = data.get(key)
        if isinstance(value, str) and value != "about:blank":
            # A type URI's last segment ("https://.../problems/quota-exceeded") is the code.
            code = safe_token(value.rstrip("/").rsplit("/", 1)[-1])
            if code:
                break
    return Problem(text("title"), text("detail"), code)


def _request_id(headers: Mapping[str, str]) -> str | None:
    """The answer's request id when it is a plain token (it is quoted in messages)."""
    value = headers.get("x-request-id")
    if value is None:
        return None
    return value if _REQUEST_ID.fullmatch(value) else None


def classify(method: str, path: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
    """Raise ``_AttemptFailed`` for an answer that is not a success (pure, shared)."""
    request_id = _request_id(headers)
    if 200 <= status < 300 or status == 304:
        if body and status != 204:
            ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if ctype not in _JSON_TYPES:
                raise _AttemptFailed(
                    PlatformProtocolError(
                        f"{method} {path}: expected application/json, got {ctype or 'no type'!r}",
                        status_code=status,
                        request_id=request_id,
                    ),
                    retryable=False,
                )
        return
    problem = read_problem(headers, body)
    message = f"{method} {path}: HTTP {status}" + (f" ({problem.code})" if problem.code else "")
    if request_id:
        message += f" (request id {request_id})"
    extra = {"title": problem.title, "detail": problem.detail, "problem_type": problem.code}
    if status in _RETRY_STATUSES:
        raise _AttemptFailed(
            PlatformUnavailable(message, status_code=status, request_id=request_id, **extra),
            retryable=True,
            retry_after=parse_retry_after(headers.get("retry-after")),
        )
    raise _AttemptFailed(
        PlatformError(message, status_code=status, request_id=request_id, **extra),
        retryable=False,
    )


class _DeadlinePassed(Exception):
    """Internal: the next retry would start after the overall deadline."""


def _past_deadline(method: str, path: str, last: _AttemptFailed | None) -> PlatformUnavailable:
    cause = f" (last failure: {type(last.error).__name__})" if last is not None else ""
    return PlatformUnavailable(
        f"{method} {path}: the overall deadline passed before the platform answered{cause}",
        status_code=last.error.status_code if last is not None else None,
    )


def _unavailable(method: str, path: str, err: httpx.HTTPError) -> _AttemptFailed:
    if expired():
        what = "did not answer within the overall deadline"
    elif isinstance(err, httpx.TimeoutException):
        what = f"timed out ({type(err).__name__})"
    else:
        what = f"could not be reached ({type(err).__name__})"
    failure = PlatformUnavailable(f"{method} {path}: the platform {what}")
    failure.__cause__ = err
    return _AttemptFailed(failure, retryable=True)


def _interrupted(method: str, path: str, err: httpx.HTTPError, status: int) -> _AttemptFailed:
    if isinstance(err, httpx.TimeoutException) or expired():
        failure: PlatformError = PlatformUnavailable(
            f"{method} {path}: "
            + ("the overall deadline passed" if expired() else "timed out")
            + " reading the answer",
            status_code=status,
        )
        retryable = True
    else:
        failure = PlatformProtocolError(
            f"{method} {path}: the answer was cut short ({type(err).__name__})",
            status_code=status,
        )
        retryable = False
    failure.__cause__ = err
    return _AttemptFailed(failure, retryable=retryable)


def _oversized(method: str, path: str, limit: int, status: int) -> _AttemptFailed:
    return _AttemptFailed(
        PlatformProtocolError(
            f"{method} {path}: the answer exceeds the {limit}-byte limit", status_code=status
        ),
        retryable=False,
    )


class _TransportBase:
    """Everything both transports share: configuration, headers, retry plan, breaker."""

    def __init__(
        self,
        config: TransportConfig,
        *,
        breaker: CircuitBreaker | None = None,
        transport: Any = None,
    ) -> None:
        self.config = config
        self.breaker = breaker if breaker is not None else CircuitBreaker()
        self._mock_transport = transport  # an httpx transport for tests (respx, MockTransport)
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._closed = False
        self.last_error: str | None = None
        self._urls: dict[str, httpx.URL] = {}

    def _verify(self) -> bool | ssl.SSLContext:
        verify = self.config.verify
        if isinstance(verify, bool | ssl.SSLContext):
            return verify
        return ssl_context(verify)

    def _client_kwargs(self) -> dict[str, Any]:
        c = self.config
        kwargs: dict[str, Any] = {
            "base_url": c.base_url,
            "timeout": httpx.Timeout(
                connect=c.connect_timeout,
                read=c.read_timeout,
                write=c.write_timeout,
                pool=c.pool_timeout,
            ),
            "limits": httpx.Limits(
                max_connections=c.max_connections, max_keepalive_connections=c.max_keepalive
            ),
            "headers": {
                "User-Agent": c.user_agent,
                "Accept": "application/json",
                # Only what _Body can inflate under the size limit.
                "Accept-Encoding": "gzip",
            },
            "follow_redirects": False,  # a redirect would re-send a signed body elsewhere
            "verify": self._verify(),
            "trust_env": False,  # no proxy picked up from the environment for personal data
        }
        if self._mock_transport is not None:
            kwargs["transport"] = self._mock_transport
        return kwargs

    def _async_transport(self) -> httpx.AsyncBaseTransport:
        c = self.config
        return httpx.AsyncHTTPTransport(
            verify=self._verify(),
            limits=httpx.Limits(
                max_connections=c.max_connections, max_keepalive_connections=c.max_keepalive
            ),
            trust_env=False,
        )

    def _sync_transport(self) -> httpx.BaseTransport:
        """httpx's own transport, with a network backend that bounds every socket operation by
        the overall deadline (httpx's timeouts are per read: a drip would never end)."""
        import httpcore

        c = self.config
        transport = httpx.HTTPTransport(
            verify=self._verify(),
            limits=httpx.Limits(
                max_connections=c.max_connections, max_keepalive_connections=c.max_keepalive
            ),
            trust_env=False,
        )
        pool = getattr(transport, "_pool", None)
        if isinstance(pool, httpcore.ConnectionPool):
            pool._network_backend = DeadlineBackend(pool._network_backend)  # type: ignore[assignment]
        return transport

    def _url(self, base: httpx.URL, path: str) -> httpx.URL:
        """``path`` (and its query) under the client's base URL, merged as httpx's client merges
        a relative URL, once per path: the contract's paths are few and fixed."""
        url = self._urls.get(path)
        if url is None:
            url = base.copy_with(raw_path=base.raw_path + httpx.URL(path).raw_path.lstrip(b"/"))
            if len(self._urls) < 64:  # paths with a query (a list edition, a cursor) vary
                self._urls[path] = url
        return url

    def _headers(
        self, idempotency_key: str | None, extra: Mapping[str, str] | None
    ) -> dict[str, str]:
        headers: dict[str, str] = {}
        if isinstance(self.config.credentials, BearerToken):
            headers.update(self.config.credentials.headers())
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        for k, v in (extra or {}).items():
            headers[k] = v
        return headers

    def _sign(self, request: httpx.Request, body: bytes) -> None:
        creds = self.config.credentials
        if isinstance(creds, HmacCredentials):
            target = request.url.raw_path.decode("ascii")
            # Host and Idempotency-Key are signed: rewriting either changes what the request
            # means (where it goes; whether it is a new delivery or a replay).
            request.headers.update(
                creds.sign(
                    request.method,
                    target,
                    body,
                    host=request.headers["host"],
                    idempotency_key=request.headers.get("idempotency-key"),
                )
            )

    def _retryer_args(self) -> dict[str, Any]:
        import tenacity  # imported on first request, not at `import credit_sdk`

        policy = self.config.retry
        # Attempt numbers restart at 1 inside the loop, which begins at the second attempt.
        jitter = tenacity.wait_random_exponential(
            multiplier=policy.initial_backoff * 2, max=policy.max_backoff
        )

        def wait(state: tenacity.RetryCallState) -> float:
            outcome = state.outcome
            err = outcome.exception() if outcome is not None else None
            if isinstance(err, _AttemptFailed) and err.retry_after is not None:
                return min(err.retry_after, policy.retry_after_cap)
            return float(jitter(state))

        def before_sleep(state: tenacity.RetryCallState) -> None:
            outcome = state.outcome
            err = outcome.exception() if outcome is not None else None
            _log.info(
                "platform request failed (attempt %d), retrying: %s",
                state.attempt_number,
                err.error if isinstance(err, _AttemptFailed) else type(err).__name__,
            )

        return {
            "stop": tenacity.stop_after_attempt(policy.max_attempts - 1),
            "wait": wait,
            "retry": tenacity.retry_if_exception(
                lambda e: isinstance(e, _AttemptFailed) and e.retryable
            ),
            "reraise": True,  # never tenacity.RetryError: the last _AttemptFailed, unwrapped below
            "before_sleep": before_sleep,
        }

    def _should_retry(
        self, failed: _AttemptFailed, method: str, idempotency_key: str | None
    ) -> bool:
        safe = method in ("GET", "HEAD") or idempotency_key is not None
        return safe and failed.retryable and self.config.retry.max_attempts > 1

    def _first_wait(self, failed: _AttemptFailed) -> float:
        """The wait before the second attempt (later ones are tenacity's)."""
        policy = self.config.retry
        if failed.retry_after is not None:
            return min(failed.retry_after, policy.retry_after_cap)
        return random.uniform(0.0, min(policy.max_backoff, policy.initial_backoff))  # noqa: S311

    def _pause_for(self, seconds: float) -> float:
        """The retry wait, or :class:`_DeadlinePassed` when the retry would start too late."""
        left = remaining()
        if left is not None and seconds >= left:
            raise _DeadlinePassed
        return seconds

    def _settle(self, failed: _AttemptFailed) -> PlatformError:
        """Count a final failure in the breaker and return the error to raise."""
        err = failed.error
        self.last_error = f"{type(err).__name__}: {err}"
        if isinstance(err, PlatformUnavailable) and err.status_code != 429:
            self.breaker.record_failure()
        else:
            # A living platform answered (badly, or asking us to slow down): not unavailability.
            self.breaker.release_trial()
        return err

    def _check_pid(self) -> bool:
        """True when this process is not the one that built the pool (we were forked)."""
        return os.getpid() != self._pid

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config.base_url!r}, auth={self.config.credentials!r})"


class _Body:
    """Collects a streamed response body under the size limit, then classifies the answer:
    the part of reading a response that is the same for the sync and async transports.

    It takes the *raw* bytes and decompresses them itself, a bounded amount at a time: httpx
    inflates each network chunk whole, so a few kilobytes of gzip could become gigabytes in
    memory before any limit is looked at."""

    __slots__ = ("_chunks", "_inflate", "_limit", "_method", "_path", "_response", "_size")

    def __init__(self, method: str, path: str, response: httpx.Response, limit: int) -> None:
        self._method, self._path, self._response, self._limit = method, path, response, limit
        self._chunks: list[bytes] = []
        self._size = 0
        declared = response.headers.get("content-length", "").strip()
        if declared and (not declared.isdigit() or len(declared) > 18 or int(declared) > limit):
            raise _oversized(method, path, limit, response.status_code)
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if encoding in ("", "identity"):
            self._inflate: Any = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            import zlib

            # wbits 47: gzip or zlib header detected automatically; 15 + 32.
            self._inflate = zlib.decompressobj(47)
        else:
            raise _AttemptFailed(
                PlatformProtocolError(
                    f"{method} {path}: unsupported content encoding",
                    status_code=response.status_code,
                ),
                retryable=False,
            )

    def add(self, chunk: bytes) -> None:
        if self._inflate is None:
            self._keep(chunk)
            return
        import zlib

        data = chunk
        try:
            while data:
                # Never inflate more than what would still fit under the limit, plus one byte.
                out = self._inflate.decompress(data, self._limit - self._size + 1)
                self._keep(out)
                data = self._inflate.unconsumed_tail
        except zlib.error as err:
            raise _AttemptFailed(
                PlatformProtocolError(
                    f"{self._method} {self._path}: the compressed answer is corrupt",
                    status_code=self._response.status_code,
                ),
                retryable=False,
            ) from err

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise _oversized(self._method, self._path, self._limit, self._response.status_code)
        if data:
            self._chunks.append(data)

    def finish(self) -> Response:
        r = self._response
        if self._inflate is not None:
            self._keep(self._inflate.flush())
        content = b"".join(self._chunks)
        classify(self._method, self._path, r.status_code, r.headers, content)
        return Response(r.status_code, r.headers, content, _request_id(r.headers))


class SyncTransport(_TransportBase):
    """Blocking transport over one long-lived ``httpx.Client``.

    >>> t = SyncTransport(TransportConfig("http://127.0.0.1:8600", BearerToken("t")))
    >>> t.close()
    """

    def __init__(
        self,
        config: TransportConfig,
        *,
        breaker: CircuitBreaker | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(config, breaker=breaker, transport=transport)
        self._sleep = sleep
        self._client: httpx.Client | None = None
        self._wire: httpx.BaseTransport | None = None  # the transport the client was built on
        self._retrying: Any = None

    def _http(self) -> httpx.Client:
        client = self._client
        if client is not None and not self._check_pid():
            return client
        with self._lock:
            if self._closed:
                raise PlatformUnavailable("the SDK client is closed")
            if self._client is None or self._check_pid():
                # After fork() the parent's sockets must not be shared: the child builds its own
                # pool and leaves the inherited one alone (closing it could disturb the parent).
                self._pid = os.getpid()
                kwargs = self._client_kwargs()
                kwargs.setdefault("transport", self._sync_transport())
                self._client = httpx.Client(**kwargs)
                self._wire = kwargs["transport"]
            return self._client

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send one request with retries and the breaker, all within the overall deadline
        (``config.deadline``, or the caller's if sooner); return the successful answer or
        raise a :class:`PlatformError`."""
        with deadline_scope(self.config.deadline):
            self.breaker.before_call()
            try:
                response = self._attempts(method, path, body, idempotency_key, headers)
            except PlatformError:
                raise  # counted by _settle
            except BaseException:
                # Interrupted (KeyboardInterrupt, a signal handler's exception, a bug below us):
                # it says nothing about the platform, but a half-open trial must not stay taken.
                self.breaker.release_trial()
                raise
            self.breaker.record_success()
            return response

    def _attempts(
        self,
        method: str,
        path: str,
        body: bytes | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
    ) -> Response:
        try:
            # The first attempt runs outside tenacity: most requests succeed, and building a
            # retry loop for each would cost more than the rest of the client's own work.
            return self._once(method, path, body, idempotency_key, headers)
        except _AttemptFailed as failed:
            if not self._should_retry(failed, method, idempotency_key):
                raise self._settle(failed) from failed.error.__cause__
            last = failed
        import tenacity

        def pause(seconds: float) -> None:
            self._sleep(self._pause_for(seconds))

        def attempt_once() -> Response:
            nonlocal last
            try:
                return self._once(method, path, body, idempotency_key, headers)
            except _AttemptFailed as failed:
                last = failed
                raise

        try:
            pause(self._first_wait(last))
            for attempt in tenacity.Retrying(sleep=pause, **self._retryer_args()):
                with attempt:
                    response = attempt_once()
        except _AttemptFailed as final:
            raise self._settle(final) from final.error.__cause__
        except _DeadlinePassed:
            raise self._settle(
                _AttemptFailed(_past_deadline(method, path, last), retryable=False)
            ) from None
        return response

    def _once(
        self,
        method: str,
        path: str,
        body: bytes | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
    ) -> Response:
        client = self._http()
        content = body or b""
        request = client.build_request(
            method,
            self._url(client.base_url, path),
            content=body,
            headers=self._headers(idempotency_key, headers),
        )
        self._sign(request, content)
        wire = self._wire
        assert wire is not None  # set with the client
        try:
            # Straight to the transport: the client's send path adds an authentication flow, a
            # redirect loop and a cookie jar that the SDK never uses (redirects are not
            # followed, no cookie is kept) and that cost about a fifth of a check's CPU.
            response = wire.handle_request(request)
        except httpx.HTTPError as err:
            raise _unavailable(method, path, err) from err
        try:
            reader = _Body(method, path, response, self.config.max_response_bytes)
            try:
                for chunk in response.iter_raw():
                    reader.add(chunk)
            except httpx.HTTPError as err:
                raise _interrupted(method, path, err, response.status_code) from err
            return reader.finish()
        finally:
            response.close()

    def close(self) -> None:
        """Close the connection pool (idempotent)."""
        with self._lock:
            self._closed = True
            client, self._client = self._client, None
        if client is not None and not self._check_pid():
            client.close()


class AsyncTransport(_TransportBase):
    """Non-blocking transport over one long-lived ``httpx.AsyncClient``; only the lines that
    await differ from :class:`SyncTransport`."""

    def __init__(
        self,
        config: TransportConfig,
        *,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(config, breaker=breaker, transport=transport)
        self._sleep = sleep
        self._client: httpx.AsyncClient | None = None
        self._wire: httpx.AsyncBaseTransport | None = None  # the client's transport
        self._gate: asyncio.Semaphore | None = None
        self._gate_loop: asyncio.AbstractEventLoop | None = None

    def _admission(self) -> asyncio.Semaphore:
        # Requests beyond the pool size wait here, not in httpcore's pool queue, which rescans
        # every waiting request on each release and slows down as the queue grows.
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate_loop is not loop:
            self._gate = asyncio.Semaphore(self.config.max_connections)
            self._gate_loop = loop
        return self._gate

    def _http(self) -> httpx.AsyncClient:
        client = self._client
        if client is not None and not self._check_pid():
            return client
        with self._lock:
            if self._closed:
                raise PlatformUnavailable("the SDK client is closed")
            if self._client is None or self._check_pid():
                self._pid = os.getpid()
                kwargs = self._client_kwargs()
                kwargs.setdefault("transport", self._async_transport())
                self._client = httpx.AsyncClient(**kwargs)
                self._wire = kwargs["transport"]
            return self._client

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Async twin of :meth:`SyncTransport.request`: the whole exchange, retries included,
        runs under :func:`asyncio.timeout`, which closes the connection when it fires."""
        with deadline_scope(self.config.deadline):
            self.breaker.before_call()
            try:
                async with asyncio.timeout(bounded(self.config.deadline)):
                    response = await self._attempts(method, path, body, idempotency_key, headers)
            except PlatformError:
                raise  # counted by _settle
            except TimeoutError:
                raise self._settle(
                    _AttemptFailed(_past_deadline(method, path, None), retryable=False)
                ) from None
            except BaseException:
                # Cancelled (asyncio.wait_for, a client that went away, task.cancel()) or
                # interrupted: a half-open trial must not stay taken, or the breaker would
                # refuse every request until a restart.
                self.breaker.release_trial()
                raise
            self.breaker.record_success()
            return response

    async def _attempts(
        self,
        method: str,
        path: str,
        body: bytes | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
    ) -> Response:
        try:
            return await self._once(method, path, body, idempotency_key, headers)
        except _AttemptFailed as failed:
            if not self._should_retry(failed, method, idempotency_key):
                raise self._settle(failed) from failed.error.__cause__
            last = failed
        import tenacity

        async def pause(seconds: float) -> None:
            await self._sleep(self._pause_for(seconds))

        async def attempt_once() -> Response:
            nonlocal last
            try:
                return await self._once(method, path, body, idempotency_key, headers)
            except _AttemptFailed as failed:
                last = failed
                raise

        try:
            await pause(self._first_wait(last))
            async for attempt in tenacity.AsyncRetrying(sleep=pause, **self._retryer_args()):
                with attempt:
                    response = await attempt_once()
        except _AttemptFailed as final:
            raise self._settle(final) from final.error.__cause__
        except _DeadlinePassed:
            raise self._settle(
                _AttemptFailed(_past_deadline(method, path, last), retryable=False)
            ) from None
        return response

    async def _once(
        self,
        method: str,
        path: str,
        body: bytes | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
    ) -> Response:
        async with self._admission():
            return await self._exchange(method, path, body, idempotency_key, headers)

    async def _exchange(
        self,
        method: str,
        path: str,
        body: bytes | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
    ) -> Response:
        client = self._http()
        content = body or b""
        request = client.build_request(
            method,
            self._url(client.base_url, path),
            content=body,
            headers=self._headers(idempotency_key, headers),
        )
        self._sign(request, content)
        wire = self._wire
        assert wire is not None  # set with the client
        try:
            response = await wire.handle_async_request(request)  # as in SyncTransport._once
        except httpx.HTTPError as err:
            raise _unavailable(method, path, err) from err
        try:
            reader = _Body(method, path, response, self.config.max_response_bytes)
            try:
                async for chunk in response.aiter_raw():
                    reader.add(chunk)
            except httpx.HTTPError as err:
                raise _interrupted(method, path, err, response.status_code) from err
            return reader.finish()
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (idempotent)."""
        with self._lock:
            self._closed = True
            client, self._client = self._client, None
        if client is not None and not self._check_pid():
            await client.aclose()
