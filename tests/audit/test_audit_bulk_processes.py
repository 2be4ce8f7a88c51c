"""Worker processes of a bulk screening share one durable log, SQLite or PostgreSQL: one chain,
every query completed, and after a worker is killed the log's incomplete count is exactly the
queries it left open, each reported to the caller as lost.

Real ``spawn``ed workers (two), an in-memory platform each builds for itself, bounded runs.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from typing import Any

import pytest

from credit_sdk import (
    BulkScreening,
    BulkScreeningError,
    ClientConfig,
    InvalidIdentifier,
    QueryContext,
    parse_identifier,
)
from tests.client._bulk_platforms import AS_OF, Platform, register

from .conftest import KEY

CTX = QueryContext(
    organ="230100-GGZY", operator="u9", matter_code="ZB-2026-17", purpose="re-screening"
)

pytestmark = pytest.mark.durable_only


def _config(spec: Any, delay: float = 0.0) -> ClientConfig:
    return ClientConfig(
        audit=spec.db_arg,
        pseudonym_key=KEY,
        provider=Platform(delay),
        list_sync_interval=None,
        cache_ttl=0,
    )


def _pseudonym(subject: str) -> str | None:
    try:
        return parse_identifier(subject).pseudonym(KEY)
    except InvalidIdentifier:
        return None  # never logged


def test_workers_write_one_chain(spec: Any) -> None:
    subjects = register(30)
    with BulkScreening(_config(spec), processes=2, chunk_size=3) as bulk:
        results = list(bulk.screen(subjects, "bidding", CTX, as_of=AS_OF))
    assert [r.index for r in results] == list(range(len(subjects)))
    log = spec.open()
    assert log.verify().ok
    assert log.stats().incomplete == 0
    completions = {c.query_id for r in log.export() if (c := r.completion()) is not None}
    assert completions == {r.decision.query_id for r in results if r.decision is not None}


def test_a_killed_worker_leaves_only_reported_queries_open(spec: Any) -> None:
    subjects = register(40)
    seen = []
    with BulkScreening(_config(spec, delay=0.3), processes=2, chunk_size=4) as bulk:
        results = bulk.screen(subjects, "bidding", CTX, as_of=AS_OF)
        seen.append(next(results))
        # Kill once a query is open in the log (each batch takes 0.3 s), and every worker, so
        # that the kill falls mid-query however slowly a loaded machine schedules the workers.
        log = spec.open()
        deadline = time.monotonic() + 60
        while not log.stats().incomplete:
            assert time.monotonic() < deadline, "no query was open in the log within 60 s"
            time.sleep(0.02)
        for victim in multiprocessing.active_children():
            assert victim.pid is not None
            os.kill(victim.pid, signal.SIGKILL)
        with pytest.raises(BulkScreeningError):
            seen.extend(results)
    lost = {r.index for r in seen if isinstance(r.error, BulkScreeningError)}
    assert log.verify().ok
    done = {r.query_id for r in log.export() if r.kind == "completion"}
    open_intents = [i for r in log.export() if (i := r.intent()) and i.query_id not in done]
    assert log.stats().incomplete == len(open_intents) >= 1
    lost_pseudonyms = {_pseudonym(subjects[i]) for i in lost}
    assert {i.subject_pseudonym for i in open_intents} <= lost_pseudonyms
    # Every decision the caller received is logged complete.
    assert {r.decision.query_id for r in seen if r.decision is not None} <= done
