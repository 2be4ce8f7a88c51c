"""The organ's duties (Art. 22, 52) end to end against the real sandbox on loopback: queued
durably (a client restart loses nothing), delivered once (a retried delivery is not applied
twice), due dates counted across holidays, late items delivered and flagged."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import (
    AsyncCreditClient,
    BasisDocument,
    BasisUpdateRequest,
    Correction,
    CreditClient,
    InformationPush,
    InvalidQuery,
    RetryPolicy,
    SQLiteQueryLog,
)
from tests.client.conftest import KEY
from tests.sandbox.helpers import duty_request

ORGAN = "230100-SCJGJ"
DOC = BasisDocument(
    kind="administrative_penalty_decision",
    number="哈市监罚〔2026〕118号",
    issuer="哈尔滨市市场监督管理局",
    issued_on=dt.date(2026, 9, 28),
    effective=True,
)


def seeded(sandbox: Any, state: str) -> Any:
    return next(s for s in sandbox.seeded if s.state == state).identifier


def push(record_id: str, produced_on: dt.date = dt.date(2026, 9, 28)) -> InformationPush:
    return InformationPush(
        record_id=record_id,
        category="food_safety",
        summary="警告并罚款二万元",
        produced_on=produced_on,
        document=DOC,
    )


def received(sandbox: Any, record_id: str) -> list[dict[str, Any]]:
    return [d for d in sandbox.admin.duties() if d["record_id"] == record_id]


@pytest.fixture
def connect(sandbox: Any, tmp_path: Path) -> Iterator[Callable[..., CreditClient]]:
    made: list[CreditClient] = []

    def build(db: Path | None = None, **options: Any) -> CreditClient:
        kwargs: dict[str, Any] = {
            "token": sandbox.token,
            "audit": SQLiteQueryLog(db or tmp_path / "audit.db"),
            "pseudonym_key": KEY,
            "lists_dir": tmp_path / "lists",
            "list_sync_interval": None,
            "today": lambda: dt.date(2026, 9, 30),
            "retry": RetryPolicy(
                max_attempts=2, initial_backoff=0.01, max_backoff=0.05, retry_after_cap=0.05
            ),
            "feedback_poll_interval": 0.05,
        }
        kwargs.update(options)
        client = CreditClient(sandbox.url, **kwargs)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()
        client._audit.close()


def test_a_push_survives_a_restart_while_the_platform_is_down(
    connect: Callable[..., CreditClient], sandbox: Any, tmp_path: Path
) -> None:
    record = f"PEN-{uuid.uuid4().hex[:10]}"
    subject = seeded(sandbox, "severe_list")
    sandbox.admin.inject_fault("information:push", status=503)
    first = connect()
    receipt = first.push_information(subject, push(record), organ=ORGAN)
    # Produced Monday 28 Sep 2026: 29, 30 Sep, then 8, 9 Oct and Saturday 10 Oct (调休).
    assert receipt.due_on == dt.date(2026, 10, 10)
    assert not receipt.due.provisional
    assert not receipt.late
    stats = first.flush(timeout=0.5)
    assert stats.by_kind["push"].pending == 1
    first.close()
    first._audit.close()
    sandbox.admin.clear_faults()
    second = connect()  # a new process on the same query log
    stats = second.flush(timeout=10)
    assert stats.by_kind["push"].delivered == 1
    (got,) = received(sandbox, record)
    assert got["kind"] == "push"
    assert got["subject_display"] == subject.masked
    assert got["body"]["document"]["number"] == DOC.number
    assert got["body"]["due_on"] == "2026-10-10"
    assert subject.reveal() not in str(got)  # the sandbox keeps a pseudonym, not the number


def test_a_retried_delivery_is_not_applied_twice(
    connect: Callable[..., CreditClient], sandbox: Any
) -> None:
    record = f"COR-{uuid.uuid4().hex[:10]}"
    subject = seeded(sandbox, "severe_list")
    # The sandbox stores the correction, then the answer is lost on the way back.
    sandbox.admin.inject_fault("information:correct", mode="truncate", times=1)
    client = connect()
    receipt = client.correct_information(
        subject,
        Correction(
            record_id=record,
            category="food_safety",
            reason="wrong",
            discovered_on=dt.date(2026, 9, 30),
            corrected="罚款金额应为一万元",
        ),
        organ=ORGAN,
    )
    assert receipt.due_on == dt.date(2026, 10, 10)  # 8, 9, 10 Oct (Saturday 10 Oct 调休)
    deadline = time.monotonic() + 15
    while client.status().outbox.by_kind["correction"].delivered == 0:  # type: ignore[union-attr]
        client.flush(timeout=2)
        assert time.monotonic() < deadline, "the correction was never delivered"
    assert sandbox.admin.requests()["information:correct"] >= 2  # it was sent again
    assert len(received(sandbox, record)) == 1  # and applied once
    # Asking for the same correction again queues nothing new.
    again = client.correct_information(
        subject,
        Correction(
            record_id=record,
            category="food_safety",
            reason="wrong",
            discovered_on=dt.date(2026, 9, 30),
            corrected="罚款金额应为一万元",
        ),
        organ=ORGAN,
    )
    assert again.idempotency_key == receipt.idempotency_key
    client.flush(timeout=5)
    assert len(received(sandbox, record)) == 1


def test_a_late_basis_update_is_flagged_and_still_delivered(
    connect: Callable[..., CreditClient], sandbox: Any
) -> None:
    record = f"BAS-{uuid.uuid4().hex[:10]}"
    client = connect(today=lambda: dt.date(2026, 10, 12))
    receipt = client.request_basis_update(
        seeded(sandbox, "severe_list"),
        BasisUpdateRequest(
            record_id=record,
            category="food_safety",
            change="revoked",
            changed_on=dt.date(2026, 9, 30),
            document=DOC,
        ),
        organ=ORGAN,
    )
    # Changed Wednesday 30 Sep: the two working days are 8 and 9 Oct, after the holiday.
    assert receipt.due_on == dt.date(2026, 10, 9)
    assert receipt.late
    client.flush(timeout=10)
    (got,) = received(sandbox, record)
    assert got["kind"] == "basis_update"
    assert got["body"]["change"] == "revoked"
    stats = client.status().outbox
    assert stats is not None
    assert stats.overdue == 0  # delivered: no longer waiting


def test_bad_input_is_refused_before_any_io(
    connect: Callable[..., CreditClient], sandbox: Any
) -> None:
    client = connect()
    before = sandbox.admin.requests()
    unsigned = BasisDocument(
        kind="administrative_penalty_decision",
        number="哈市监罚〔2026〕119号",
        issuer="哈尔滨市市场监督管理局",
        issued_on=dt.date(2026, 9, 28),
        effective=False,
    )
    with pytest.raises(InvalidQuery, match="legal effect") as err:
        client.push_information(
            seeded(sandbox, "severe_list"),
            InformationPush(
                record_id="PEN-X",
                category="food_safety",
                summary="s",
                produced_on=dt.date(2026, 9, 28),
                document=unsigned,
            ),
            organ=ORGAN,
        )
    assert err.value.rule == "art22_push"
    assert client._audit.outbox_stats().pending == 0
    assert sandbox.admin.requests() == before


def test_the_async_client_pushes_once(sandbox: Any, tmp_path: Path) -> None:
    import asyncio

    record = f"PEN-{uuid.uuid4().hex[:10]}"

    async def run() -> None:
        async with AsyncCreditClient(
            sandbox.url,
            token=sandbox.token,
            audit=SQLiteQueryLog(tmp_path / "async.db"),
            pseudonym_key=KEY,
            lists_dir=tmp_path / "lists",
            list_sync_interval=None,
            today=lambda: dt.date(2026, 9, 30),
        ) as client:
            receipt = await client.push_information(
                seeded(sandbox, "red_list"), push(record), organ=ORGAN
            )
            assert receipt.due_on == dt.date(2026, 10, 10)
            stats = await client.flush(timeout=10)
            assert stats.by_kind["push"].delivered == 1
            await client._log(client._audit.close)

    asyncio.run(run())
    assert len(received(sandbox, record)) == 1


def test_a_signed_push_is_accepted_and_a_tampered_key_is_not(sandbox: Any, tmp_path: Path) -> None:
    # The duty operations are signed like every other (HMAC over the body digest, the
    # Idempotency-Key and the Host): a push sent with HMAC credentials is applied once.
    import httpx

    from credit_sdk.sandbox.app import DEFAULT_APP_ID, DEFAULT_APP_SECRET

    record = f"PEN-{uuid.uuid4().hex[:10]}"
    with CreditClient(
        sandbox.url,
        app_id=DEFAULT_APP_ID,
        app_secret=DEFAULT_APP_SECRET,
        audit=SQLiteQueryLog(tmp_path / "signed.db"),
        pseudonym_key=KEY,
        lists_dir=tmp_path / "lists",
        list_sync_interval=None,
        today=lambda: dt.date(2026, 9, 30),
    ) as client:
        client.push_information(seeded(sandbox, "clean"), push(record), organ=ORGAN)
        assert client.flush(timeout=10).by_kind["push"].delivered == 1
        client._audit.close()
    assert len(received(sandbox, record)) == 1
    # A signed push whose Idempotency-Key is changed on the way is refused, nothing stored.
    from credit_sdk._signing import sign_request

    path, body = duty_request("information:push", record_id="PEN-TAMPERED")
    raw = json.dumps(body).encode()
    host = httpx.URL(sandbox.url).netloc.decode()
    headers = sign_request(
        "POST", path, raw, DEFAULT_APP_ID, DEFAULT_APP_SECRET, host=host, idempotency_key="k-1"
    )
    headers |= {"Idempotency-Key": "k-2", "Content-Type": "application/json"}
    answer = httpx.post(sandbox.url + path, content=raw, headers=headers)
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "signature" in answer.json()["type"]
    assert received(sandbox, "PEN-TAMPERED") == []
    # Signed as it is sent: accepted.
    headers = sign_request(
        "POST", path, raw, DEFAULT_APP_ID, DEFAULT_APP_SECRET, host=host, idempotency_key="k-2"
    )
    headers |= {"Idempotency-Key": "k-2", "Content-Type": "application/json"}
    answer = httpx.post(sandbox.url + path, content=raw, headers=headers)
    assert answer.status_code == 201, answer.text
    assert len(received(sandbox, "PEN-TAMPERED")) == 1
