"""Art. 46 feedback: the durable outbox is delivered to the platform in the background.

``client.feedback(...)`` only writes the items to the outbox of the query log (durable, same
store) and returns. A :class:`FeedbackSender` then claims batches (a lease, so a crashed sender's
items come back), posts them with an ``Idempotency-Key`` derived from the items' own keys, and
marks them delivered. Each item also carries its own idempotency key, so the platform counts a
re-sent item as a duplicate: nothing is sent twice in effect, nothing is lost.

While the platform is down the sender does not burn delivery attempts: after an
"unavailable" answer it only probes ``health`` with exponential backoff (capped, default five
minutes) and claims again once the platform answers, so an outage of hours leaves every item
pending, not dead. Answers that are the platform's *refusal* of an item (``4xx``, a broken
answer) count as attempts; past the store's ``max_attempts`` an item becomes a dead letter that
``status()`` reports for a person to look at.

>>> sender = FeedbackSender(log)            # doctest: +SKIP
>>> sender.flush(provider, timeout=10.0)    # doctest: +SKIP
OutboxStats(pending=0, ...)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence

from credit_sdk._audit._types import ClaimedFeedback, OutboxStats, QueryLog
from credit_sdk._errors import AuditError, PlatformError, PlatformUnavailable
from credit_sdk._providers import AsyncProvider, FeedbackAck, Provider

__all__ = ["FeedbackSender"]

_log = logging.getLogger("credit_sdk.feedback")


def batch_key(claims: Sequence[ClaimedFeedback]) -> str:
    """The request's idempotency key: a digest of the items' own keys (order-free)."""
    keys = sorted(c.item.idempotency_key for c in claims)
    return "fb-" + hashlib.sha256("\x1f".join(keys).encode()).hexdigest()[:48]


class FeedbackSender:
    """Delivers the feedback outbox of ``log`` through a provider (thread or asyncio task)."""

    def __init__(
        self,
        log: QueryLog,
        *,
        batch_size: int = 100,
        lease_seconds: float = 60.0,
        poll_interval: float = 2.0,
        initial_backoff: float = 1.0,
        max_backoff: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        blocking_log: bool = True,
    ) -> None:
        self.log = log
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self._clock = clock
        self._rng = rng
        self._blocking_log = blocking_log
        self._outage = 0  # consecutive "unavailable" answers; > 0 means probe before claiming
        self._step_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None
        self._async_wake: asyncio.Event | None = None
        self.delivered = 0
        self.last_error: str | None = None

    # -- shared decisions ----------------------------------------------------------------------

    def backoff(self, failures: int) -> float:
        """Full-jitter exponential delay after ``failures`` consecutive failures."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2 ** max(failures - 1, 0))
        return float(ceiling * (0.5 + 0.5 * self._rng()))

    def _on_delivered(self, claims: Sequence[ClaimedFeedback], ack: FeedbackAck) -> None:
        self.log.mark_delivered([c.outbox_id for c in claims])
        self.delivered += len(claims)
        self._outage = 0
        self.last_error = None
        if ack.duplicates:
            _log.info("feedback: %d item(s) were already at the platform", ack.duplicates)

    def _on_failed(self, claims: Sequence[ClaimedFeedback], err: PlatformError) -> float:
        self.last_error = f"{type(err).__name__}: {err}"
        attempt = max(c.attempt for c in claims)
        if isinstance(err, PlatformUnavailable):
            self._outage += 1
            delay = self.backoff(self._outage)
            retry_after = 0.0  # the outage is handled by probing, not by the items' schedule
        else:
            delay = 0.0
            retry_after = self.backoff(attempt)
        self.log.mark_failed(
            [c.outbox_id for c in claims], self.last_error, retry_after=retry_after
        )
        _log.warning("feedback delivery failed (%d item(s)): %s", len(claims), self.last_error)
        return delay

    # -- blocking ------------------------------------------------------------------------------

    def step(self, provider: Provider) -> float:
        """Deliver one batch; return how long to wait before the next step."""
        with self._step_lock:
            try:
                if self._outage:
                    try:
                        provider.health()
                    except PlatformError as err:
                        self._outage += 1
                        self.last_error = f"{type(err).__name__}: {err}"
                        return self.backoff(self._outage)
                claims = self.log.claim_feedback(self.batch_size, self.lease_seconds)
                if not claims:
                    self._outage = 0
                    return self.poll_interval
                try:
                    ack = provider.send_feedback([c.item for c in claims], batch_key(claims))
                except PlatformError as err:
                    return self._on_failed(claims, err)
                self._on_delivered(claims, ack)
                return 0.0
            except AuditError as err:
                self.last_error = f"AuditError: {err}"
                _log.error("feedback outbox unavailable: %s", err)
                return self.backoff(1)

    def start(self, provider: Provider) -> None:
        """Start the background thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(provider,), name="credit-sdk-feedback", daemon=True
        )
        self._thread.start()

    def _run(self, provider: Provider) -> None:
        while not self._stop.is_set():
            delay = self.step(provider)
            if delay > 0:
                self._wake.wait(delay)
                self._wake.clear()

    def wake(self) -> None:
        """New items were queued: deliver without waiting for the poll interval."""
        self._wake.set()
        if self._async_wake is not None:
            self._async_wake.set()

    def flush(self, provider: Provider, timeout: float = 30.0) -> OutboxStats:
        """Deliver everything deliverable now, in the calling thread, for up to ``timeout``
        seconds; return the outbox counts (``pending`` > 0: the platform did not take it all)."""
        deadline = self._clock() + timeout
        self._outage = 0  # an explicit flush tries at once
        while True:
            delay = self.step(provider)
            stats = self.log.outbox_stats()
            if stats.pending == 0 or self._clock() >= deadline:
                return stats
            if delay > 0:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return stats
                self._stop.wait(
                    min(delay, remaining, 1.0 if delay == self.poll_interval else delay)
                )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread or task (items stay in the outbox for the next start)."""
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        if self._async_wake is not None:
            self._async_wake.set()

    # -- async ---------------------------------------------------------------------------------

    async def _call_log(self, fn: Callable[..., object], *args: object) -> object:
        if self._blocking_log:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    async def astep(self, provider: AsyncProvider) -> float:
        """Async twin of :meth:`step`."""
        try:
            if self._outage:
                try:
                    await provider.health()
                except PlatformError as err:
                    self._outage += 1
                    self.last_error = f"{type(err).__name__}: {err}"
                    return self.backoff(self._outage)
            claims = await self._call_log(
                self.log.claim_feedback, self.batch_size, self.lease_seconds
            )
            assert isinstance(claims, list)
            if not claims:
                self._outage = 0
                return self.poll_interval
            try:
                ack = await provider.send_feedback([c.item for c in claims], batch_key(claims))
            except PlatformError as err:
                return float(await self._call_log(self._on_failed, claims, err))  # type: ignore[arg-type]
            await self._call_log(self._on_delivered, claims, ack)
            return 0.0
        except AuditError as err:
            self.last_error = f"AuditError: {err}"
            _log.error("feedback outbox unavailable: %s", err)
            return self.backoff(1)

    def start_task(self, provider: AsyncProvider) -> None:
        """Start the background task on the running loop (idempotent)."""
        if self._task is not None and not self._task.done():
            return
        self._stop.clear()
        self._async_wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(
            self._arun(provider), name="credit-sdk-feedback"
        )

    async def _arun(self, provider: AsyncProvider) -> None:
        wake = self._async_wake
        assert wake is not None
        while not self._stop.is_set():
            delay = await self.astep(provider)
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), delay)
                wake.clear()

    async def aflush(self, provider: AsyncProvider, timeout: float = 30.0) -> OutboxStats:
        """Async twin of :meth:`flush`."""
        deadline = self._clock() + timeout
        self._outage = 0
        while True:
            delay = await self.astep(provider)
            stats = await self._call_log(self.log.outbox_stats)
            assert isinstance(stats, OutboxStats)
            if stats.pending == 0 or self._clock() >= deadline:
                return stats
            if delay > 0:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return stats
                await asyncio.sleep(min(delay, remaining, 1.0))

    async def astop(self) -> None:
        self._stop.set()
        task, self._task = self._task, None
        if self._async_wake is not None:
            self._async_wake.set()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
