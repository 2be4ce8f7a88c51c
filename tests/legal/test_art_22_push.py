"""Art. 22: "国家机关和公用企事业单位应当自信息产生或者获取之日起五个工作日内，
将公共信用信息目录所列信息和相应生效法律文书……推送至信用平台".

Five working days from the day the information was produced or obtained, that day not counted;
the catalogue's information *and* its effective legal document; late is still pushed, and said.
The platform here is the in-memory one of ``credit_sdk.testing``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from credit_sdk import (
    BasisDocument,
    CatalogError,
    CreditClient,
    InformationPush,
    InvalidIdentifier,
    InvalidQuery,
    MemoryQueryLog,
)
from credit_sdk.testing import CreditPlatform, fake_resident_id, fake_uscc

ORGAN = "230100-SCJGJ"
COMPANY = fake_uscc(22)


def document(issued_on: dt.date, *, effective: bool = True, **extra: Any) -> BasisDocument:
    return BasisDocument(
        kind="administrative_penalty_decision",
        number="哈市监罚〔2026〕22号",
        issuer="哈尔滨市市场监督管理局",
        issued_on=issued_on,
        effective=effective,
        **extra,
    )


def push(produced_on: dt.date, **changes: Any) -> InformationPush:
    fields: dict[str, Any] = {
        "record_id": "PEN-2026-22",
        "category": "food_safety",
        "summary": "警告并罚款",
        "produced_on": produced_on,
        "document": document(produced_on),
    }
    fields.update(changes)
    return InformationPush(**fields)


@pytest.fixture
def make() -> Iterator[Any]:
    made: list[CreditClient] = []

    def build(today: dt.date) -> tuple[CreditClient, CreditPlatform]:
        platform = CreditPlatform(today=today)
        client = CreditClient(
            provider=platform,
            audit=MemoryQueryLog(),
            pseudonym_key=b"art-22-test-key-0123456789",
            today=lambda: today,
            list_sync_interval=None,
        )
        made.append(client)
        return client, platform

    yield build
    for client in made:
        client.close()


@pytest.mark.parametrize(
    ("produced_on", "due_on"),
    [
        (dt.date(2026, 11, 30), dt.date(2026, 12, 7)),  # Monday: next Monday, day not counted
        (dt.date(2026, 12, 4), dt.date(2026, 12, 11)),  # Friday: the weekend does not count
        # Thursday 12 Feb: 13 Feb, Saturday 14 Feb (调休), then 24, 25, 26 Feb after the holiday.
        (dt.date(2026, 2, 12), dt.date(2026, 2, 26)),
        # Monday 28 Sep: 29, 30 Sep, 8, 9 Oct and Saturday 10 Oct (调休).
        (dt.date(2026, 9, 28), dt.date(2026, 10, 10)),
    ],
)
def test_five_working_days_from_the_day_produced(
    make: Any, produced_on: dt.date, due_on: dt.date
) -> None:
    client, _ = make(produced_on)
    receipt = client.push_information(COMPANY, push(produced_on), organ=ORGAN)
    assert receipt.due_on == due_on
    assert receipt.article == "Art. 22"
    assert not receipt.due.provisional
    assert not receipt.late


def test_on_the_due_date_is_in_time_the_day_after_is_late_and_still_pushed(make: Any) -> None:
    client, platform = make(dt.date(2026, 12, 7))
    assert not client.push_information(COMPANY, push(dt.date(2026, 11, 30)), organ=ORGAN).late
    client, platform = make(dt.date(2026, 12, 8))
    receipt = client.push_information(COMPANY, push(dt.date(2026, 11, 30)), organ=ORGAN)
    assert receipt.late
    assert client.flush(timeout=5).by_kind["push"].delivered == 1
    (item,) = platform.duties
    assert item.body["due_on"] == "2026-12-07"


def test_a_year_without_holiday_data_is_provisional(make: Any) -> None:
    client, _ = make(dt.date(2026, 12, 30))
    receipt = client.push_information(COMPANY, push(dt.date(2026, 12, 29)), organ=ORGAN)
    # 30, 31 Dec, then 1 Jan 2027 (a Friday, counted by the estimate), 4 and 5 Jan.
    assert receipt.due_on == dt.date(2027, 1, 5)
    assert receipt.due.provisional
    assert "provisional" in str(receipt.due)


def test_pushed_with_its_document_once_however_often_asked(make: Any) -> None:
    client, platform = make(dt.date(2026, 12, 1))
    for _ in range(3):
        client.push_information(COMPANY, push(dt.date(2026, 11, 30)), organ=ORGAN)
    client.flush(timeout=5)
    (item,) = platform.duties
    assert item.kind == "push"
    assert item.subject == platform.duties[0].subject
    assert item.body["document"]["number"] == "哈市监罚〔2026〕22号"
    assert item.body["category"] == "food_safety"
    # A different piece of information is a different push.
    client.push_information(
        COMPANY, push(dt.date(2026, 11, 30), record_id="PEN-2026-23"), organ=ORGAN
    )
    client.flush(timeout=5)
    assert len(platform.duties) == 2


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"document": document(dt.date(2026, 11, 30), effective=False)}, "art22_push"),
        (  # the document takes effect only after the day the information is pushed for
            {"document": document(dt.date(2026, 11, 30), effective_on=dt.date(2026, 12, 10))},
            "art22_push",
        ),
        ({"category": " "}, "art22_push"),
        ({"record_id": "PEN 22"}, "art22_push"),
        ({"summary": "当事人身份证号 " + fake_resident_id(7)}, "raw_identifier"),
    ],
)
def test_bad_pushes_are_refused_before_any_io(
    make: Any, changes: dict[str, Any], rule: str
) -> None:
    client, platform = make(dt.date(2026, 12, 1))
    with pytest.raises(InvalidQuery) as err:
        client.push_information(COMPANY, push(dt.date(2026, 11, 30), **changes), organ=ORGAN)
    assert err.value.rule == rule
    assert fake_resident_id(7) not in str(err.value)
    assert client._audit.outbox_stats().pending == 0
    assert not platform.calls


def test_only_information_the_catalogue_lists_is_pushed(make: Any) -> None:
    # Art. 22 pushes "公共信用信息目录所列信息"; Art. 19 ¶1: nothing outside the catalogue.
    client, platform = make(dt.date(2026, 12, 1))
    with pytest.raises(CatalogError) as err:
        client.push_information(
            COMPANY, push(dt.date(2026, 11, 30), category="religious_belief"), organ=ORGAN
        )
    assert err.value.rule == "Art.19"
    assert client._audit.outbox_stats().pending == 0
    assert not platform.calls
    assert "food_safety" in client.information_catalogue


def test_the_document_is_required_and_the_subject_must_be_valid(make: Any) -> None:
    client, platform = make(dt.date(2026, 12, 1))
    with pytest.raises(TypeError, match="document"):
        push(dt.date(2026, 11, 30), document=None)
    with pytest.raises(InvalidIdentifier):
        client.push_information(COMPANY[:-1] + "0", push(dt.date(2026, 11, 30)), organ=ORGAN)
    with pytest.raises(InvalidQuery, match="future"):
        client.push_information(COMPANY, push(dt.date(2026, 12, 2)), organ=ORGAN)
    with pytest.raises(InvalidQuery):
        client.push_information(COMPANY, push(dt.date(2026, 11, 30)), organ="")
    assert not platform.calls
