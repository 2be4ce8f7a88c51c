"""Health of the client's background workers (list sync, feedback sender).

A worker never dies of an ordinary error: it records the error's *class* (never its message,
which may quote the platform's text), backs off and goes on. What it records is what
``status().workers`` shows, so an operator can see a worker that keeps failing, one that is
backing off, and one that stopped for good (``dead``: a fatal error such as ``MemoryError``, which
the worker re-raises after recording it rather than running on in an unknown state).

>>> w = WorkerMonitor("lists")
>>> w.failed(ValueError("a platform text with 110101199003077777"))
>>> w.health().state, w.health().last_error
('backing_off', 'ValueError')
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Literal

__all__ = ["WorkerHealth", "WorkerMonitor"]

WorkerState = Literal["not_started", "running", "backing_off", "stopped", "dead"]

#: Errors a worker must not swallow: the process is in trouble, not the platform.
FATAL = (MemoryError, SystemError)


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    """One background worker as :meth:`CreditClient.status` reports it.

    ``state``: ``not_started``, ``running``, ``backing_off`` (its last round failed; it will try
    again), ``stopped`` (the client was closed) or ``dead`` (a fatal error ended it: restart the
    process). ``last_error`` is the error's class name only (``PlatformUnavailable``,
    ``RecursionError``...), never a message: the platform's text may be personal.
    ``consecutive_failures`` counts failed rounds since the last good one.
    """

    name: str
    state: WorkerState
    last_error: str | None = None
    last_error_at: dt.datetime | None = None
    consecutive_failures: int = 0
    rounds: int = 0


class WorkerMonitor:
    """Thread-safe bookkeeping for one worker."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._state: WorkerState = "not_started"
        self._last_error: str | None = None
        self._last_error_at: dt.datetime | None = None
        self._failures = 0
        self._rounds = 0

    def started(self) -> None:
        with self._lock:
            self._state = "running"

    def succeeded(self) -> None:
        with self._lock:
            self._rounds += 1
            self._failures = 0
            if self._state != "stopped":
                self._state = "running"

    def failed(self, err: BaseException | str) -> None:
        """A round failed (the worker goes on). ``err``: the exception or a short error code."""
        with self._lock:
            self._rounds += 1
            self._failures += 1
            self._last_error = err if isinstance(err, str) else type(err).__name__
            self._last_error_at = dt.datetime.now(dt.UTC)
            if self._state not in ("stopped", "dead"):
                self._state = "backing_off"

    def died(self, err: BaseException) -> None:
        with self._lock:
            self._state = "dead"
            self._last_error = type(err).__name__
            self._last_error_at = dt.datetime.now(dt.UTC)

    def stopped(self) -> None:
        with self._lock:
            if self._state != "dead":
                self._state = "stopped"

    @property
    def failures(self) -> int:
        return self._failures

    def health(self) -> WorkerHealth:
        with self._lock:
            return WorkerHealth(
                self.name,
                self._state,
                self._last_error,
                self._last_error_at,
                self._failures,
                self._rounds,
            )
