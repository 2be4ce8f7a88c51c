"""The outbox through ``CreditClient`` during an outage and after it (SQLite file, the
background sender running): feedback calls do not make the sender hammer health, a restart
spends no attempt, and the outbox drains by itself once the platform is back."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from credit_sdk import CreditClient, FeedbackItem, QueryContext, SQLiteQueryLog
from credit_sdk.testing import CreditPlatform, fake_uscc

CTX = QueryContext(
    organ="230100-CZJ", operator="u1024", matter_code="BID-17", purpose="tender 2026-17"
)
CALLS = 30


class CountingPlatform(CreditPlatform):
    """Counts every feedback item received per idempotency key (it applies each once)."""

    def __init__(self) -> None:
        super().__init__()
        self.received: Counter[str] = Counter()

    def _receive_feedback(self, items: Sequence[FeedbackItem]) -> Any:
        ack = super()._receive_feedback(items)
        self.received.update(i.idempotency_key for i in items)
        return ack


def wait_until(condition: Any, limit: float = 30.0) -> bool:
    """Poll ``condition`` for up to ``limit`` seconds (a generous bound, not a timing)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def client_on(platform: CountingPlatform, log: SQLiteQueryLog, **sender: float) -> CreditClient:
    client = platform.client(audit=log)
    for name, value in sender.items():
        setattr(client._sender, name, value)
    return client


def test_outage_restart_and_recovery_through_the_client(tmp_path: Path) -> None:
    platform = CountingPlatform()
    platform.subject(fake_uscc(1)).on_severe_list()
    db = tmp_path / "audit.db"
    platform.down(route=["feedback", "health"])  # checks still answer; the outbox cannot
    first_log = SQLiteQueryLog(db)
    first = client_on(platform, first_log, probe_interval=3600.0)
    decision = first.check(fake_uscc(1), "bidding", CTX)
    measures = list(decision.applied_measure_ids)
    assert measures
    first.feedback(decision, applied=measures, case_id="C-0", implementing_department="D")
    assert wait_until(lambda: first.status().last_feedback_error is not None)
    woken = first._sender._wake
    for n in range(1, CALLS):  # each call queues and wakes the sender, which takes the wake
        first.feedback(decision, applied=measures, case_id=f"C-{n}", implementing_department="D")
        assert wait_until(lambda: not woken.is_set())
    assert platform.calls["health"] <= 1  # no probe per feedback() call
    expected = len(measures) * CALLS
    stats = first.status().outbox
    assert stats is not None
    assert (stats.pending, stats.dead) == (expected, 0)
    first.close()
    first_log.close()

    # A restart during the outage, then recovery: the new sender drains without a flush.
    tried = platform.calls["send_feedback"]
    second_log = SQLiteQueryLog(db)
    second = client_on(platform, second_log, probe_interval=0.1, max_backoff=0.5)
    second.check(fake_uscc(1), "bidding", CTX)  # starts the background sender
    assert wait_until(lambda: platform.calls["send_feedback"] > tried)
    platform.up()
    assert wait_until(lambda: second.status().outbox.pending == 0)  # type: ignore[union-attr]
    stats = second.status().outbox
    assert stats is not None
    assert (stats.pending, stats.dead, stats.delivered) == (0, 0, expected)
    assert len(platform.feedback) == expected  # nothing lost, nothing applied twice
    assert len({i.idempotency_key for i in platform.feedback}) == expected
    with SQLiteQueryLog(db, create=False) as log:
        assert log.claim_outbox(10, 30.0) == []
    second.close()
    second_log.close()


def test_the_dead_letter_age_is_checked(tmp_path: Path) -> None:
    import pytest

    from credit_sdk import ConfigurationError

    platform = CountingPlatform()
    for bad in (0, -1, 400, float("nan")):
        with pytest.raises(ConfigurationError, match="outbox_dead_letter_days"):
            platform.client(outbox_dead_letter_days=bad)
    with pytest.raises(TypeError, match="outbox_dead_letter_days"):
        platform.client(outbox_dead_letter_days="7")
    client = platform.client(outbox_dead_letter_days=1)
    assert client._sender.dead_letter_after == 86400.0
    client.close()


def test_the_probe_interval_is_a_client_option(tmp_path: Path) -> None:
    """A host running many instances against one platform must be able to slow every sender's
    health probes without touching private objects; a rate that would hammer the platform, or
    none at all, is refused naming the rule."""
    import pytest

    from credit_sdk import ConfigurationError

    platform = CountingPlatform()
    for bad in (0, -1.0, 0.001, 7200, float("nan"), float("inf")):
        with pytest.raises(ConfigurationError, match=r"outbox_probe_interval must be from 0\.05"):
            platform.client(outbox_probe_interval=bad)
    for wrong in ("5", True, None):
        with pytest.raises(TypeError, match="outbox_probe_interval"):
            platform.client(outbox_probe_interval=wrong)
    client = platform.client(outbox_probe_interval=60)
    assert client._sender.probe_interval == 60.0
    client.close()
    default = platform.client()
    assert default._sender.probe_interval == 5.0
    default.close()


def test_the_probe_interval_from_the_environment(tmp_path: Path) -> None:
    import pytest

    from credit_sdk import ConfigurationError

    environ = {
        "CREDIT_SDK_BASE_URL": "http://127.0.0.1:9",
        "CREDIT_SDK_TOKEN": "t",
        "CREDIT_SDK_AUDIT_DB": str(tmp_path / "audit.db"),
        "CREDIT_SDK_PSEUDONYM_KEY": "ab" * 16,
    }
    client = CreditClient.from_env({**environ, "CREDIT_SDK_OUTBOX_PROBE_INTERVAL": "120"})
    assert client._sender.probe_interval == 120.0
    client.close()
    client = CreditClient.from_env(environ)
    assert client._sender.probe_interval == 5.0
    client.close()
    secretish = "0" * 40 + "not-a-number"
    for bad in ("0", "-3", "1e9", "nan", secretish):
        with pytest.raises(ConfigurationError, match="CREDIT_SDK_OUTBOX_PROBE_INTERVAL") as err:
            CreditClient.from_env({**environ, "CREDIT_SDK_OUTBOX_PROBE_INTERVAL": bad})
        assert secretish not in str(err.value)
