"""Art. 52 ¶1: "发现公共信用信息错误、失效或者发生变更的，应当自发现之日起三个工作日内
进行更正，并向信用平台推送更正后的信息"; ¶3: "认定失信行为的依据被撤销、确认违法、确认无效
或者变更的，……应当自依据被改变之日起两个工作日内向公共信用工作机构提出更新信息".

Three working days from the discovery, two from the change of the basis, the day itself not
counted; only the grounds the article names; the basis update carries the decision that
changed the basis. (The revoked record's own effect on decisions is Art. 52 ¶3's other half,
tested in ``test_art_52_revocation.py``.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from credit_sdk import (
    BasisDocument,
    BasisUpdateRequest,
    Correction,
    CreditClient,
    InvalidQuery,
    MemoryQueryLog,
)
from credit_sdk.testing import CreditPlatform, fake_uscc

ORGAN = "230100-SCJGJ"
COMPANY = fake_uscc(52)
RULING = BasisDocument(
    kind="judgment",
    number="（2026）黑01行终52号",
    issuer="哈尔滨市中级人民法院",
    issued_on=dt.date(2026, 9, 25),
    effective=True,
)


def correction(discovered_on: dt.date, reason: str = "wrong") -> Correction:
    return Correction(
        record_id="PEN-2026-52",
        category="food_safety",
        reason=reason,
        discovered_on=discovered_on,
        corrected="处罚金额应为五千元",
    )


def basis_update(changed_on: dt.date, change: str = "revoked") -> BasisUpdateRequest:
    return BasisUpdateRequest(
        record_id="PEN-2026-52",
        category="food_safety",
        change=change,
        changed_on=changed_on,
        document=RULING,
    )


@pytest.fixture
def make() -> Iterator[Any]:
    made: list[CreditClient] = []

    def build(today: dt.date) -> tuple[CreditClient, CreditPlatform]:
        platform = CreditPlatform(today=today)
        client = CreditClient(
            provider=platform,
            audit=MemoryQueryLog(),
            pseudonym_key=b"art-52-test-key-0123456789",
            today=lambda: today,
            list_sync_interval=None,
        )
        made.append(client)
        return client, platform

    yield build
    for client in made:
        client.close()


@pytest.mark.parametrize(
    ("discovered_on", "due_on"),
    [
        (dt.date(2026, 11, 25), dt.date(2026, 11, 30)),  # Wednesday: Thu, Fri, Mon
        (dt.date(2026, 9, 30), dt.date(2026, 10, 10)),  # 8, 9 Oct and Saturday 10 Oct (调休)
        (dt.date(2026, 2, 13), dt.date(2026, 2, 25)),  # Saturday 14 Feb (调休), then 24, 25
    ],
)
def test_corrections_are_due_three_working_days_after_the_discovery(
    make: Any, discovered_on: dt.date, due_on: dt.date
) -> None:
    client, platform = make(discovered_on)
    receipt = client.correct_information(COMPANY, correction(discovered_on), organ=ORGAN)
    assert receipt.due_on == due_on
    assert receipt.article == "Art. 52 ¶1"
    client.flush(timeout=5)
    (item,) = platform.duties
    assert item.kind == "correction"
    assert item.body["corrected"] == "处罚金额应为五千元"


@pytest.mark.parametrize("reason", ["wrong", "invalid", "changed"])
def test_each_ground_of_the_article_is_accepted(make: Any, reason: str) -> None:
    client, _ = make(dt.date(2026, 11, 25))
    client.correct_information(COMPANY, correction(dt.date(2026, 11, 25), reason), organ=ORGAN)


def test_a_ground_the_article_does_not_name_is_refused() -> None:
    with pytest.raises(InvalidQuery, match=r"Art\. 52") as err:
        correction(dt.date(2026, 11, 25), "disliked")
    assert err.value.rule == "art52_correction"


@pytest.mark.parametrize(
    ("changed_on", "due_on"),
    [
        (dt.date(2026, 11, 27), dt.date(2026, 12, 1)),  # Friday: Monday, Tuesday
        (dt.date(2026, 9, 30), dt.date(2026, 10, 9)),  # the holiday week does not count
        (dt.date(2026, 10, 9), dt.date(2026, 10, 12)),  # Friday 9 Oct: Saturday 10 Oct (调休)
    ],
)
def test_basis_updates_are_due_two_working_days_after_the_change(
    make: Any, changed_on: dt.date, due_on: dt.date
) -> None:
    client, platform = make(changed_on)
    receipt = client.request_basis_update(COMPANY, basis_update(changed_on), organ=ORGAN)
    assert receipt.due_on == due_on
    assert receipt.article == "Art. 52 ¶3"
    client.flush(timeout=5)
    (item,) = platform.duties
    assert item.kind == "basis_update"
    assert item.body["document"]["number"] == RULING.number


@pytest.mark.parametrize("change", ["revoked", "confirmed_illegal", "confirmed_invalid", "changed"])
def test_each_change_of_the_basis_is_accepted(make: Any, change: str) -> None:
    client, _ = make(dt.date(2026, 11, 27))
    client.request_basis_update(COMPANY, basis_update(dt.date(2026, 11, 27), change), organ=ORGAN)


def test_a_basis_update_needs_the_decision_that_changed_the_basis() -> None:
    with pytest.raises(InvalidQuery) as err:
        basis_update(dt.date(2026, 11, 27), "appealed")
    assert err.value.rule == "art52_basis_update"
    with pytest.raises(TypeError, match="document"):
        BasisUpdateRequest(
            record_id="PEN-2026-52",
            category="food_safety",
            change="revoked",
            changed_on=dt.date(2026, 11, 27),
            document=None,  # type: ignore[arg-type]
        )
    # A ruling that takes effect after the day given as the change is not yet the change.
    with pytest.raises(InvalidQuery, match="takes effect after"):
        basis_update(dt.date(2026, 9, 24))


def test_a_late_correction_is_flagged_and_delivered(make: Any) -> None:
    client, platform = make(dt.date(2026, 12, 1))
    receipt = client.correct_information(COMPANY, correction(dt.date(2026, 11, 25)), organ=ORGAN)
    assert receipt.late
    assert client.status().outbox is not None
    client.flush(timeout=5)
    assert len(platform.duties) == 1
