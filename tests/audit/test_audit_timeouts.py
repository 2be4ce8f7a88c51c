"""Timeouts everywhere: with the write lock really held by another connection or process (SQLite's
``BEGIN IMMEDIATE``, PostgreSQL's row lock on the chain head), every write of the store, in
per-row and group-commit mode, gives up after the store's ``timeout`` with ``AuditError`` (the
check fails closed) instead of waiting for minutes; once the lock is gone, it works again."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from credit_sdk import AuditError

from .conftest import StoreSpec, make_intent

pytestmark = pytest.mark.durable_only

# The threads below are joined with this bound so that a regression fails instead of hanging;
# no assertion is made on how long anything took.
_BOUND = 60.0


@contextmanager
def _lock_held(spec: StoreSpec) -> Iterator[None]:
    """Another connection holds the log's write lock until the block ends."""
    if spec.kind == "sqlite":
        holder = sqlite3.connect(spec.target, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    import psycopg

    with psycopg.connect(spec.target) as holder:
        holder.execute(f'SELECT 1 FROM "{spec.schema}".audit_chain_head WHERE id = 1 FOR UPDATE')
        try:
            yield
        finally:
            holder.rollback()


@contextmanager
def _lock_held_by_process(spec: StoreSpec) -> Iterator[None]:
    """Another **process** holds the SQLite write lock until the block ends."""
    code = (
        "import sqlite3, sys\n"
        f"c = sqlite3.connect({spec.target!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "held"
        yield
    finally:
        child.kill()
        child.communicate(timeout=_BOUND)  # reaps it and closes its pipes


def _all_fail_closed(calls: list[Callable[[], Any]]) -> list[BaseException | None]:
    """Run ``calls`` concurrently; each must end (within the bound) and its outcome is kept."""
    outcomes: list[BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            calls[i]()
        except BaseException as err:  # recorded and checked below
            outcomes[i] = err

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(_BOUND)
    assert not any(t.is_alive() for t in threads), "a write waited for the lock unbounded"
    return outcomes


@pytest.mark.parametrize("group_commit", [False, True])
def test_a_held_lock_fails_every_write_closed_within_the_timeout(
    spec: StoreSpec, group_commit: bool
) -> None:
    log = spec.open(group_commit=group_commit, timeout=0.5, **_busy(spec))
    log.record_intent(make_intent(0))  # schema and connections ready
    with _lock_held(spec):
        outcomes = _all_fail_closed(
            [lambda n=n: log.record_intent(make_intent(n)) for n in range(1, 5)]
        )
    assert all(isinstance(o, AuditError) for o in outcomes), outcomes
    assert any("treat the check as failed" in str(o) for o in outcomes)
    log.record_intent(make_intent(9))  # the lock is gone: writes work again
    result = log.verify()
    assert result.ok
    if not group_commit:
        assert result.count == 2  # nothing of the refused writes was written
    else:
        # The writer may still commit a batch its callers stopped waiting for once the lock is
        # gone (documented: an intent without a completion is harmless); never more.
        assert 2 <= result.count <= 6


def test_a_held_lock_fails_side_operations_closed(spec: StoreSpec) -> None:
    from datetime import UTC, datetime

    log = spec.open(group_commit=False, timeout=0.5, **_busy(spec))
    log.record_intent(make_intent(0))
    with _lock_held(spec):
        outcomes = _all_fail_closed(
            [
                lambda: log.prune(datetime.now(UTC)),
                lambda: log.append([make_intent(3), make_intent(4)]),
            ]
        )
    assert all(isinstance(o, AuditError) for o in outcomes), outcomes
    assert log.verify().count == 1


def test_a_lock_held_by_another_process(spec: StoreSpec) -> None:
    if spec.kind != "sqlite":
        pytest.skip("PostgreSQL's row lock is held by another connection above")
    log = spec.open(group_commit=False, timeout=0.5, busy_timeout=2 * _BOUND)
    log.record_intent(make_intent(0))
    with _lock_held_by_process(spec):
        (outcome,) = _all_fail_closed([lambda: log.record_intent(make_intent(1))])
    assert isinstance(outcome, AuditError)
    assert "another connection held the write lock" in str(outcome)
    log.record_intent(make_intent(2))
    assert log.verify().count == 2


def _busy(spec: StoreSpec) -> dict[str, Any]:
    # SQLite's own busy timeout far longer than the store's timeout: the timeout must win.
    return {"busy_timeout": 2 * _BOUND} if spec.kind == "sqlite" else {}
