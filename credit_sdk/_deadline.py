"""Overall deadlines for platform work: one bound for everything a check (or a batch, a
feedback delivery, a list sync) does on the network, not a timeout per read.

A per-read timeout lets a platform that sends one byte a second hold a check for as long as it
likes; an overall deadline does not. The deadline is a point on the monotonic clock kept in a
context variable, so that every platform call made on behalf of one check shares it (the list
sync a check triggers, the report query, their retries) and nested scopes can only shorten it.

The blocking transport reads it below httpx, in the network stream, so that every single
``recv`` and ``send`` waits at most what is left; the asyncio transport wraps the exchange in
:func:`asyncio.timeout`. Both close the connection when the deadline passes.

>>> with deadline_scope(5.0):
...     0 < remaining() <= 5.0
True
>>> remaining() is None
True
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import time
from collections.abc import Iterator
from typing import Any

from credit_sdk._errors import ConfigurationError

__all__ = [
    "DEFAULT_DEADLINE",
    "MAX_DEADLINE",
    "check_deadline",
    "deadline_scope",
    "remaining",
]

#: Seconds a check (or a batch, a feedback delivery, a list sync) may spend on the platform.
DEFAULT_DEADLINE = 5.0
#: The largest deadline accepted: a bound that is never reached bounds nothing.
MAX_DEADLINE = 600.0

_AT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "credit_sdk_deadline", default=None
)


def check_deadline(value: object, name: str = "deadline") -> float:
    """Validate a deadline in seconds: a real number in (0, 600].

    >>> check_deadline(2)
    2.0
    >>> check_deadline(0)
    Traceback (most recent call last):
    ...
    credit_sdk.ConfigurationError: deadline must be a number of seconds in (0, 600]
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    seconds = float(value)
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_DEADLINE:
        raise ConfigurationError(f"{name} must be a number of seconds in (0, {MAX_DEADLINE:g}]")
    return seconds


#: The longest wait a caller may ask for (``flush``, ``wait_until_ready``): bounded, like every
#: duration the SDK accepts.
MAX_WAIT = 365 * 24 * 3600.0


def check_wait(value: object, name: str = "timeout") -> float:
    """Validate how long a call may wait, in seconds: a finite real number from 0 to one year.
    ``nan`` and ``inf`` are refused: a loop bounded by them never ends.

    >>> check_wait(30)
    30.0
    >>> check_wait(float("nan"))
    Traceback (most recent call last):
    ...
    credit_sdk.ConfigurationError: timeout must be a finite number of seconds from 0 to one year
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    seconds = float(value)
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_WAIT:
        raise ConfigurationError(f"{name} must be a finite number of seconds from 0 to one year")
    return seconds


def remaining() -> float | None:
    """Seconds left before the current deadline (negative once passed); ``None`` without one."""
    at = _AT.get()
    return None if at is None else at - time.monotonic()


def expired() -> bool:
    left = remaining()
    return left is not None and left <= 0


@contextlib.contextmanager
def deadline_scope(seconds: float | None) -> Iterator[None]:
    """Run the block under a deadline ``seconds`` from now, or the enclosing one if sooner."""
    if seconds is None:
        yield
        return
    at = time.monotonic() + seconds
    outer = _AT.get()
    token = _AT.set(at if outer is None else min(outer, at))
    try:
        yield
    finally:
        _AT.reset(token)


def bounded(timeout: float | None) -> float | None:
    """``timeout`` shortened to what is left of the deadline (never below zero)."""
    left = remaining()
    if left is None:
        return timeout
    left = max(left, 0.0)
    return left if timeout is None else min(timeout, left)


# --- below httpx: every socket operation of the blocking transport waits at most what is left --


def _timeout_error(kind: str) -> Exception:
    import httpcore

    if kind == "write":
        return httpcore.WriteTimeout("the overall deadline has passed")
    if kind == "connect":
        return httpcore.ConnectTimeout("the overall deadline has passed")
    return httpcore.ReadTimeout("the overall deadline has passed")


class _DeadlineStream:
    """A network stream whose reads and writes never outlast the caller's deadline."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if expired():
            raise _timeout_error("read")
        data: bytes = self._inner.read(max_bytes, bounded(timeout))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if expired():
            raise _timeout_error("write")
        self._inner.write(buffer, bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> _DeadlineStream:
        if expired():
            raise _timeout_error("connect")
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, bounded(timeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend:
    """httpcore's blocking network backend, with every operation bounded by the deadline."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> _DeadlineStream:
        if expired():
            raise _timeout_error("connect")
        stream = self._inner.connect_tcp(
            host, port, bounded(timeout), local_address=local_address, socket_options=socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> _DeadlineStream:
        if expired():
            raise _timeout_error("connect")
        stream = self._inner.connect_unix_socket(
            path, bounded(timeout), socket_options=socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
