"""Group commit: one writer thread, many waiting callers, one transaction (one fsync) per batch.

Callers hand an operation to :meth:`GroupCommitWriter.submit` and block until the transaction
that contains it has committed, or raise :class:`~credit_sdk.AuditError` if it could not. While
one transaction is being made durable, new operations queue up; the writer takes all of them
for the next transaction. Under concurrency that is what shares one fsync between many checks
without ever acknowledging a record that is not yet on disk.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from credit_sdk._errors import AuditError

__all__ = ["GroupCommitWriter", "Op"]

_log = logging.getLogger("credit_sdk.audit")


class Op:
    """One caller's operation: a kind, a payload and how many rows it adds (for batch size)."""

    __slots__ = ("_done", "alone", "error", "kind", "payload", "size")

    def __init__(self, kind: str, payload: Any, size: int, *, alone: bool = False) -> None:
        self.kind = kind
        self.payload = payload
        self.size = size
        # A transaction of its own (a streamed append: its records arrive while it runs).
        self.alone = alone
        # Set by the batch runner for an operation that failed on its own (e.g. a duplicate),
        # or by the writer for every operation of a batch that failed as a whole.
        self.error: AuditError | None = None

    def arm(self) -> None:
        """Prepare the wake-up signal (only operations handed to a writer thread need one):
        a plain lock, taken now and released by the writer once the operation is settled,
        the cheapest one-shot signal between two threads (an Event is a Condition, a lock and
        a waiter list)."""
        self._done = threading.Lock()
        self._done.acquire()

    def settle(self) -> None:
        """Wake the caller (once, after the operation committed or failed)."""
        self._done.release()

    def wait(self, timeout: float) -> bool:
        """Block until :meth:`settle`; ``False`` if ``timeout`` seconds passed first."""
        return self._done.acquire(timeout=timeout)


_STOP = Op("stop", None, 0)


class GroupCommitWriter:
    """Runs ``run_batch(ops)`` on a dedicated thread, one call per transaction.

    ``run_batch`` must commit all of ``ops`` atomically or raise (after rolling back); it may
    set ``op.error`` on single operations it rejects. ``on_failure`` is called after a failed
    batch so the store can drop a connection that may be broken; the next batch starts clean.

    ``gather`` bounds how long the writer waits, before starting a transaction, for callers of
    the previous transaction that have not come back yet (only while fewer operations are
    queued than that transaction held; a lone caller never waits). Woken together, several
    callers return one after another; without the wait the first one back would pay an fsync
    alone and the others the next, halving the records per fsync.
    """

    def __init__(
        self,
        name: str,
        run_batch: Callable[[list[Op]], None],
        *,
        on_failure: Callable[[BaseException], None] | None = None,
        max_batch_rows: int = 4096,
        timeout: float = 30.0,
        gather: float = 0.0005,
    ) -> None:
        self._name = name
        self._gather = gather
        self._run_batch = run_batch
        self._on_failure = on_failure
        self._max_rows = max_batch_rows
        self._timeout = timeout
        self._lock = threading.Lock()
        self._closed = False
        self._pid = os.getpid()
        self._queue: queue.SimpleQueue[Op] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def submit(self, op: Op) -> None:
        """Queue ``op`` and wait until it is durable; raise AuditError if it is not."""
        self.start(op)
        self.finish(op)

    def start(self, op: Op) -> None:
        """Queue ``op`` without waiting (then :meth:`finish` it)."""
        op.arm()
        with self._lock:
            if self._closed:
                raise AuditError("the query log is closed")
            if self._pid != os.getpid():
                # After fork() the writer thread does not exist in the child: start afresh.
                self._pid = os.getpid()
                self._queue = queue.SimpleQueue()
                self._thread = None
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, args=(self._queue,), name=self._name, daemon=True
                )
                self._thread.start()
            self._queue.put(op)

    def finish(self, op: Op) -> None:
        """Wait until ``op`` is durable; raise AuditError if it is not."""
        if not op.wait(self._timeout):
            raise AuditError(
                f"the query log did not confirm the write within {self._timeout:g} s; "
                "treat the check as failed"
            )
        if op.error is not None:
            # A fresh exception per caller (several share one batch's error), of the same
            # class: a broken chain stays an AuditIntegrityError.
            raise type(op.error)(str(op.error)) from op.error.__cause__ or op.error

    def close(self, timeout: float | None = None) -> None:
        """Commit everything already queued, then stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread if self._pid == os.getpid() else None
            if thread is not None:
                self._queue.put(_STOP)
        if thread is not None:
            thread.join(timeout if timeout is not None else self._timeout)

    def _loop(self, q: queue.SimpleQueue[Op]) -> None:
        stop = False
        callers = 0  # operations in the previous transaction
        carried: Op | None = None  # taken from the queue, for the next transaction
        while not stop:
            op, carried = (carried, None) if carried is not None else (q.get(), None)
            if op is _STOP:
                break
            batch = [op]
            rows = op.size
            deadline = 0.0
            while rows < self._max_rows and not op.alone:
                try:
                    nxt = q.get_nowait()
                except queue.Empty:
                    # The callers of the previous transaction were woken together but come back
                    # one by one: while fewer are here than were in it, give the others a
                    # moment (bounded by ``gather``) to join this transaction instead of paying
                    # an fsync of their own. A single caller never waits.
                    if len(batch) >= callers:
                        break
                    now = time.monotonic()
                    if not deadline:
                        deadline = now + self._gather
                    if now >= deadline:
                        break
                    try:
                        nxt = q.get(timeout=deadline - now)
                    except queue.Empty:
                        break
                if nxt is _STOP:
                    stop = True
                    break
                if nxt.alone:
                    carried = nxt
                    break
                batch.append(nxt)
                rows += nxt.size
            callers = len(batch)
            try:
                self._run_batch(batch)
            except BaseException as err:  # every waiter must hear about it, whatever it is
                failure = (
                    err
                    if isinstance(err, AuditError)
                    else AuditError(f"the query log write failed: {type(err).__name__}: {err}")
                )
                if failure is not err:
                    failure.__cause__ = err
                for o in batch:
                    if o.error is None:
                        o.error = failure
                if self._on_failure is not None:
                    try:
                        self._on_failure(err)
                    except Exception:  # never let cleanup kill the writer
                        _log.exception("query log: cleanup after a failed batch failed")
            finally:
                for o in batch:
                    o.settle()
