"""The durable outbox is delivered to the platform in the background (Art. 22, 46, 52).

``client.feedback(...)`` (and ``client.push(...)``, ``client.correct(...)`` ...) only write
items to the outbox of the query log (durable, same store) and return. A
:class:`FeedbackSender` (also known as :class:`OutboxSender`) then claims batches of every
registered kind (a lease, so a crashed sender's items come back), sends each kind to its own
platform operation (see :mod:`credit_sdk._outbox`) with an ``Idempotency-Key`` derived from
the items' own keys, and marks them delivered. Each item also carries its own idempotency key,
so the platform counts a re-sent item as a duplicate: nothing is sent twice in effect, nothing
is lost.

An outage uses up no delivery attempts. An attempt counts only when the platform answered
about the item: a ``4xx`` refusal of the item or its batch (or a provider that cannot send that
kind at all). Everything else (``5xx``, ``408``, ``429``, timeouts, connection failures, the
round's deadline, a broken answer) gives the claim back: the lease is released, the attempt is
not counted, and the sender probes ``health`` before it claims again, at most once per
``probe_interval`` seconds however often new items wake it, backing off exponentially up to
``max_backoff``. When a probe or a delivery succeeds, the next batch is claimed at once until the
outbox is empty. An item becomes a dead letter (``status()`` reports it for a person to look
at) when the platform refused it ``max_attempts`` times (the store's setting), or when it failed
to get through after waiting longer than ``dead_letter_after`` (default seven days): an outage
shorter than that leaves no dead letter, whatever the restarts and flushes.

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
from datetime import UTC, datetime, timedelta

from credit_sdk._audit._types import ClaimedFeedback, ClaimedOutboxItem, OutboxStats, QueryLog
from credit_sdk._deadline import DEFAULT_DEADLINE, deadline_scope
from credit_sdk._errors import AuditError, PlatformError, PlatformProtocolError, PlatformUnavailable
from credit_sdk._outbox import OutboxKind, outbox_kinds, request_key
from credit_sdk._providers import AsyncProvider, FeedbackAck, Provider
from credit_sdk._workers import FATAL, WorkerMonitor

__all__ = ["FeedbackSender", "OutboxSender"]

_log = logging.getLogger("credit_sdk.feedback")

#: How long an item may wait for the platform before it becomes a dead letter (seven days).
DEFAULT_DEAD_LETTER_AFTER = 7 * 86400.0
#: The least time between two health probes while the platform is unavailable.
DEFAULT_PROBE_INTERVAL = 5.0


def refused(err: Exception) -> bool:
    """Whether a failed delivery counts as an attempt: the platform answered about the items
    (a ``4xx`` other than ``408``/``429``), or the provider cannot send them at all. An
    unavailable platform, a timeout or a broken answer does not count."""
    if isinstance(err, PlatformUnavailable) or not isinstance(err, PlatformError):
        return False
    if err.status_code is None:  # no exchange: the provider cannot send these items
        return True
    return 400 <= err.status_code < 500 and err.status_code not in (408, 429)


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
        max_backoff: float = 30.0,
        probe_interval: float = DEFAULT_PROBE_INTERVAL,
        dead_letter_after: float = DEFAULT_DEAD_LETTER_AFTER,
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
        self.probe_interval = probe_interval  # the least time between two health probes
        self.dead_letter_after = dead_letter_after  # seconds an item may wait for the platform
        self._next_probe = 0.0  # clock time before which no health probe is sent
        self.probes = 0  # health probes sent so far
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
        """Record a failed request; return how long to wait before the next round."""
        self.last_error = f"{type(err).__name__}: {err}"
        ids = [c.outbox_id for c in claims]
        if refused(err):
            attempt = max(c.attempt for c in claims)
            self.log.mark_failed(ids, self.last_error, retry_after=self.backoff(attempt))
            _log.warning("outbox delivery refused (%d item(s)): %s", len(claims), self.last_error)
            return 0.0
        # Not an answer about the items: give the claim back without spending an attempt, and
        # probe before claiming again. Only items older than the dead-letter age die.
        cutoff = datetime.now(UTC) - timedelta(seconds=self.dead_letter_after)
        expired = [c.outbox_id for c in claims if c.enqueued_at < cutoff]
        waiting = [i for i in ids if i not in set(expired)]
        self._outage += 1
        delay = self._probe_later()
        if waiting:
            self.log.mark_failed(waiting, self.last_error, attempt=False)
        if expired:
            self.log.mark_failed(expired, self.last_error, attempt=False, dead=True)
            _log.error("outbox: %d item(s) waited past the dead-letter age", len(expired))
        _log.warning("outbox delivery failed (%d item(s)): %s", len(claims), self.last_error)
        return delay

    def _probe_later(self) -> float:
        """Schedule the next health probe after the current outage's backoff (never sooner than
        ``probe_interval``); return the wait."""
        delay = max(self.backoff(self._outage), self.probe_interval)
        self._next_probe = self._clock() + delay
        return delay

    def _probe_wait(self) -> float:
        """Seconds until a probe is allowed (0: probe now)."""
        return max(self._next_probe - self._clock(), 0.0)

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
                if not refused(err):  # no answer about these items: the rest wait too
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
                    wait = self._probe_wait()
                    if wait > 0:
                        return wait  # woken early (new items): the probe rate stays bounded
                    self.probes += 1
                    try:
                        provider.health()
                    except PlatformError as err:
                        self._outage += 1
                        self.last_error = f"{type(err).__name__}: {err}"
                        return self._probe_later()
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
        seconds; return the outbox counts (``pending`` > 0: the platform did not take it all).
        During an outage it probes with its own backoff until ``timeout`` and spends no
        attempt."""
        deadline = time.monotonic() + timeout  # real seconds, whatever the sender's clock
        self._outage = 0  # an explicit flush tries at once
        while True:
            delay = self.step(provider)
            stats = self.log.outbox_stats()
            remaining = deadline - time.monotonic()
            if self._pending(stats) == 0 or remaining <= 0:
                return stats
            if delay > 0:
                wait = self._flush_wait(delay, remaining)
                if self._stop.is_set():
                    time.sleep(wait)  # a stopped sender: its event no longer waits
                else:
                    self._stop.wait(wait)
                self._flush_waited()

    def _flush_wait(self, delay: float, remaining: float) -> float:
        """How long a flush waits before its next try: the outage's backoff (its own probe
        pace, bounded by the flush's timeout), else at most a second."""
        if self._outage:
            return min(self.backoff(self._outage), remaining)
        return min(delay, remaining, 1.0)

    def _flush_waited(self) -> None:
        if self._outage:
            self._next_probe = min(self._next_probe, self._clock())  # the flush paced it

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
                wait = self._probe_wait()
                if wait > 0:
                    return wait  # woken early (new items): the probe rate stays bounded
                self.probes += 1
                try:
                    await provider.health()
                except PlatformError as err:
                    self._outage += 1
                    self.last_error = f"{type(err).__name__}: {err}"
                    return self._probe_later()
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
                    if not refused(err):  # see _deliver
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
        deadline = time.monotonic() + timeout
        self._outage = 0
        while True:
            delay = await self.astep(provider)
            stats = await self._call_log(self.log.outbox_stats)
            assert isinstance(stats, OutboxStats)
            remaining = deadline - time.monotonic()
            if self._pending(stats) == 0 or remaining <= 0:
                return stats
            if delay > 0:
                await asyncio.sleep(self._flush_wait(delay, remaining))
                self._flush_waited()

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
