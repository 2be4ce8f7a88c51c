"""The durable outbox is delivered to the platform in the background (Art. 22, 46, 52).

``client.feedback(...)`` (and ``client.push(...)``, ``client.correct(...)`` ...) only write
items to the outbox of the query log (durable, same store) and return. A
:class:`FeedbackSender` (also known as :class:`OutboxSender`) then claims batches of every
registered kind (a lease, so a crashed sender's items come back), sends each kind to its own
platform operation (see :mod:`credit_sdk._outbox`) with an ``Idempotency-Key`` derived from
the items' own keys, and marks them delivered. Each item also carries its own idempotency key,
so the platform counts a re-sent item as a duplicate: nothing is sent twice in effect, nothing
is lost.

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

from credit_sdk._audit._types import ClaimedFeedback, ClaimedOutboxItem, OutboxStats, QueryLog
from credit_sdk._deadline import DEFAULT_DEADLINE, deadline_scope
from credit_sdk._errors import AuditError, PlatformError, PlatformProtocolError, PlatformUnavailable
from credit_sdk._outbox import OutboxKind, outbox_kinds, request_key
from credit_sdk._providers import AsyncProvider, FeedbackAck, Provider
from credit_sdk._workers import FATAL, WorkerMonitor

__all__ = ["FeedbackSender", "OutboxSender"]

_log = logging.getLogger("credit_sdk.feedback")


def _provider_bug(err: Exception) -> PlatformError:
    """An error a provider should not raise, as a platform error naming only its class."""
    failure = PlatformProtocolError(f"the provider raised {type(err).__name__}")
    failure.__cause__ = err
    return failure


def batch_key(claims: Sequence[ClaimedFeedback | ClaimedOutboxItem]) -> str:
    """The request's idempotency key: a digest of the items' own keys (order-free)."""
    keys = sorted(c.item.idempotency_key for c in claims)
    return "fb-" + hashlib.sha256("\x1f".join(keys).encode()).hexdigest()[:48]


def _requests(
    claims: Sequence[ClaimedOutboxItem], kinds: dict[str, OutboxKind]
) -> list[tuple[OutboxKind, list[ClaimedOutboxItem]]]:
    """The requests that deliver ``claims``: one per batch kind, one per item otherwise, in
    the order the items were queued."""
    groups: dict[str, list[ClaimedOutboxItem]] = {}
    for claim in claims:
        groups.setdefault(claim.item.kind, []).append(claim)
    out: list[tuple[OutboxKind, list[ClaimedOutboxItem]]] = []
    for name, group in groups.items():
        kind = kinds[name]
        out.extend([(kind, group)] if kind.batch else [(kind, [c]) for c in group])
    return out


class FeedbackSender:
    """Delivers the outbox of ``log`` (every registered kind, or ``kinds``) through a provider
    (thread or asyncio task)."""

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
        kinds: Sequence[OutboxKind] | None = None,
        deadline: float = DEFAULT_DEADLINE,
    ) -> None:
        self.log = log
        self._kinds = (
            {k.name: k for k in kinds} if kinds is not None else None
        )  # None: every kind registered at claim time
        self.deadline = deadline  # per delivery round (a probe, or one batch)
        self.monitor = WorkerMonitor("feedback")
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

    def kinds(self) -> dict[str, OutboxKind]:
        """The kinds this sender delivers (the registry's, read afresh, unless given)."""
        return self._kinds if self._kinds is not None else outbox_kinds()

    def _claim(self) -> tuple[list[ClaimedOutboxItem], dict[str, OutboxKind]]:
        kinds = self.kinds()
        return self.log.claim_outbox(self.batch_size, self.lease_seconds, kinds=kinds), kinds

    def _pending(self, stats: OutboxStats) -> int:
        """Pending items this sender can deliver (a kind nobody registered waits for a newer
        SDK, it does not keep a flush busy)."""
        if not stats.by_kind:
            return stats.pending
        kinds = self.kinds()
        return sum(s.pending for name, s in stats.by_kind.items() if name in kinds)

    def _on_delivered(
        self, claims: Sequence[ClaimedOutboxItem | ClaimedFeedback], ack: FeedbackAck
    ) -> None:
        self.log.mark_delivered([c.outbox_id for c in claims])
        self.delivered += len(claims)
        self._outage = 0
        self.last_error = None
        if ack.duplicates:
            _log.info("outbox: %d item(s) were already at the platform", ack.duplicates)

    def _on_failed(
        self, claims: Sequence[ClaimedOutboxItem | ClaimedFeedback], err: PlatformError
    ) -> float:
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
        _log.warning("outbox delivery failed (%d item(s)): %s", len(claims), self.last_error)
        return delay

    def _deliver(
        self,
        provider: Provider,
        claims: list[ClaimedOutboxItem],
        kinds: dict[str, OutboxKind],
    ) -> float:
        """Send ``claims`` request by request; an outage stops the round (the rest wait for
        the platform to come back), a refusal only fails its own request."""
        requests = _requests(claims, kinds)
        for n, (kind, group) in enumerate(requests):
            try:
                ack = kind.deliver(provider, [c.item for c in group], request_key(kind, group))
            except PlatformError as err:
                if isinstance(err, PlatformUnavailable):
                    rest = [c for _, g in requests[n:] for c in g]
                    return self._on_failed(rest, err)
                self._on_failed(group, err)
                continue
            except FATAL:
                raise
            except Exception as err:
                # A provider bug: the claimed items go back with an attempt counted (a lease
                # left to expire would hold them for minutes), and the worker goes on.
                self._on_failed(group, _provider_bug(err))
                continue
            self._on_delivered(group, ack)
        return 0.0

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
                claims, kinds = self._claim()
                if not claims:
                    self._outage = 0
                    return self.poll_interval
                return self._deliver(provider, claims, kinds)
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

    def _guarded_step(self, provider: Provider) -> float:
        """One round that never raises an ordinary error: the worker must outlive anything
        the platform or a store bug throws at it."""
        before = self.last_error
        try:
            with deadline_scope(self.deadline):
                delay = self.step(provider)
        except FATAL:
            raise
        except Exception as err:
            return self._round_crashed(err)
        self._round_done(before)
        return delay

    def _round_crashed(self, err: Exception) -> float:
        self.monitor.failed(err)
        self.last_error = type(err).__name__
        _log.error("feedback sender: %s; backing off", type(err).__name__)
        return self.backoff(self.monitor.failures)

    def _round_done(self, before: str | None) -> None:
        if self.last_error is None:
            self.monitor.succeeded()
        elif self.last_error is not before:  # this round failed (idle rounds change nothing)
            self.monitor.failed(self.last_error.split(":", 1)[0])

    def _run(self, provider: Provider) -> None:
        self.monitor.started()
        try:
            while not self._stop.is_set():
                delay = self._guarded_step(provider)
                if delay > 0:
                    self._wake.wait(delay)
                    self._wake.clear()
        except BaseException as err:
            self.monitor.died(err)
            # Visible in status().workers and in the log (see the list worker).
            _log.critical("feedback sender stopped: %s", type(err).__name__)
            return
        self.monitor.stopped()

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
            if self._pending(stats) == 0 or self._clock() >= deadline:
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
            claimed = await self._call_log(self._claim)
            assert isinstance(claimed, tuple)
            claims, kinds = claimed
            if not claims:
                self._outage = 0
                return self.poll_interval
            requests = _requests(claims, kinds)
            for n, (kind, group) in enumerate(requests):
                try:
                    ack = await kind.adeliver(
                        provider, [c.item for c in group], request_key(kind, group)
                    )
                except PlatformError as err:
                    if isinstance(err, PlatformUnavailable):
                        rest = [c for _, g in requests[n:] for c in g]
                        return float(await self._call_log(self._on_failed, rest, err))  # type: ignore[arg-type]
                    await self._call_log(self._on_failed, group, err)
                    continue
                except FATAL:
                    raise
                except Exception as err:  # a provider bug: see _deliver
                    await self._call_log(self._on_failed, group, _provider_bug(err))
                    continue
                await self._call_log(self._on_delivered, group, ack)
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
        self.monitor.started()
        try:
            while not self._stop.is_set():
                before = self.last_error
                try:
                    with deadline_scope(self.deadline):
                        delay = await self.astep(provider)
                except FATAL:
                    raise
                except Exception as err:
                    delay = self._round_crashed(err)
                else:
                    self._round_done(before)
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), delay)
                    wake.clear()
        except asyncio.CancelledError:
            self.monitor.stopped()
            raise
        except BaseException as err:
            self.monitor.died(err)
            # Visible in status().workers and in the log (see the list worker).
            _log.critical("feedback sender stopped: %s", type(err).__name__)
            return
        self.monitor.stopped()

    async def aflush(self, provider: AsyncProvider, timeout: float = 30.0) -> OutboxStats:
        """Async twin of :meth:`flush`."""
        deadline = self._clock() + timeout
        self._outage = 0
        while True:
            delay = await self.astep(provider)
            stats = await self._call_log(self.log.outbox_stats)
            assert isinstance(stats, OutboxStats)
            if self._pending(stats) == 0 or self._clock() >= deadline:
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


#: The same class under the name that says what it does now: it delivers every kind.
OutboxSender = FeedbackSender
