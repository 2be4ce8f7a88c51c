"""Several store objects on one log, as several hosts (or processes) would share it.

The PostgreSQL store appends in one round trip when it wrote the chain head last, checking in
the same statement that the head is still the one it wrote; these tests make the head move
under it (another host, a prune, a clock that disagrees) and check the chain stays one line
with times in chain order.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from credit_sdk import AuditError
from credit_sdk._audit import _common

from .conftest import StoreSpec, make_completion, make_intent

pytestmark = pytest.mark.durable_only


def _times_in_chain_order(log: Any) -> list[datetime]:
    return [r.recorded_at for r in log.export()]


def test_hosts_taking_turns_keep_one_chain(spec: StoreSpec) -> None:
    a, b = spec.open(), spec.open(group_commit=False)
    for n in range(6):
        writer = (a, b)[n % 3 == 1]
        intent = make_intent(n)
        writer.record_intent(intent)
        (b, a)[n % 2].record_completion(make_completion(intent))
    result = a.verify()
    assert result.ok, result
    assert result.count == 12
    times = _times_in_chain_order(a)
    assert times == sorted(times)


def test_concurrent_hosts_keep_one_chain(spec: StoreSpec) -> None:
    hosts = [spec.open(), spec.open(), spec.open(group_commit=False)]
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            for i in range(25):
                intent = make_intent(t * 1000 + i)
                hosts[t % 3].record_intent(intent)
                hosts[(t + 1) % 3].append([make_completion(intent)])
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = hosts[0].verify()
    assert result.ok, result
    assert result.count == 6 * 25 * 2
    times = _times_in_chain_order(hosts[0])
    assert times == sorted(times)


def test_a_duplicate_after_a_known_head_is_refused_alone(spec: StoreSpec) -> None:
    log = spec.open()
    first = make_intent(1)
    log.record_intent(first)
    log.record_intent(make_intent(2))  # the head this store wrote is known now
    with pytest.raises(AuditError, match="already holds"):
        log.record_intent(first)
    log.record_intent(make_intent(3))
    result = log.verify()
    assert result.ok
    assert result.count == 3


def test_a_pruned_head_is_not_reused(spec: StoreSpec) -> None:
    log = spec.open()
    for n in range(3):
        log.record_intent(make_intent(n))
    pruned = log.prune(datetime.now(UTC) + timedelta(microseconds=-1))
    assert pruned.pruned == 3
    log.record_intent(make_intent(9))
    result = log.verify()
    assert result.ok, result
    assert result.count == 2  # the checkpoint and the new record


@pytest.mark.postgres
@pytest.mark.parametrize("spec", ["postgres"], indirect=True)
def test_a_skewed_clock_does_not_set_record_times(
    spec: StoreSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host whose clock is far off still writes the server's times (give or take a
    second), in chain order."""
    log = spec.open()
    log.record_intent(make_intent(1))
    log.record_intent(make_intent(2))
    real_now = _common.now
    monkeypatch.setattr(_common, "now", lambda: real_now() + timedelta(minutes=10))
    log.record_intent(make_intent(3))
    monkeypatch.setattr(_common, "now", lambda: real_now() - timedelta(minutes=10))
    log.record_intent(make_intent(4))
    monkeypatch.setattr(_common, "now", real_now)
    times = _times_in_chain_order(log)
    assert times == sorted(times)
    assert log.verify().ok
    assert all(abs(t - real_now()) < timedelta(minutes=1) for t in times)
