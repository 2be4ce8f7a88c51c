"""CSV a desk opens in Excel: UTF-8 with a BOM, Chinese headers, measure titles and legal basis,
subjects masked, formulas from platform text neutralised."""

from __future__ import annotations

import csv
import io

import pytest
from credit_sdk.adapters.procurement import Bidder, screen_tender

from credit_sdk import MemoryQueryLog, QueryContext, decisions_csv
from credit_sdk.testing import CreditPlatform, fake_uscc

CTX = QueryContext(organ="230100-GGZY", operator="u1", matter_code="ZB", purpose="sample tender")


def _rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    data = text.encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")  # what Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_a_tender_screening_as_csv() -> None:
    platform = CreditPlatform()
    platform.subject(fake_uscc(1)).on_severe_list(category="bid_rigging")
    platform.subject(fake_uscc(2)).clean()
    with platform.client(audit=MemoryQueryLog()) as client:
        screening = screen_tender(
            client,
            "T-2026-1",
            [Bidder("投标人A", fake_uscc(1)), Bidder("投标人B", fake_uscc(2)), Bidder("C", "123")],
            CTX,
        )
    text = screening.to_csv()
    rows = _rows(text)
    header = rows[0]
    assert header[:4] == [
        "项目编号 Tender",
        "投标人 Bidder",
        "投标资格 Standing",
        "评审分值调整 Score adjustment",
    ]
    for wanted in (
        "信用主体 Subject",
        "核查结论 Outcome",
        "措施名称 Measures",
        "设定依据 Legal basis",
        "实施主体 Implementing bodies",
        "触发信息 Triggered by",
        "查询编号 Query id",
    ):
        assert wanted in header
    col = {h: i for i, h in enumerate(header)}
    a, b, c = rows[1:]
    assert a[col["投标资格 Standing"]] == "排除 excluded"
    assert a[col["核查结论 Outcome"]] == "限制 restricted"
    excluded = screening.bidder("投标人A")
    assert excluded.decision is not None
    for m in excluded.decision.restrictions:
        assert m.title in a[col["措施名称 Measures"]]
        for basis in m.legal_basis:
            assert basis in a[col["设定依据 Legal basis"]]
        assert m.implementing_body in a[col["实施主体 Implementing bodies"]]
    assert "认定单位" in a[col["触发信息 Triggered by"]]
    assert b[col["投标资格 Standing"]] == "准入 admitted"
    assert c[col["投标资格 Standing"]] == "无法判定 indeterminate"
    assert "InvalidIdentifier" in c[-1]
    for raw in (fake_uscc(1), fake_uscc(2)):
        assert raw not in text
    zh = _rows(screening.to_csv("zh"))
    assert zh[0][:2] == ["项目编号", "投标人"]
    assert zh[1][zh[0].index("核查结论")] == "限制"


def test_formulas_from_platform_text_are_neutralised() -> None:
    platform = CreditPlatform()
    subject = platform.subject(fake_uscc(3)).on_severe_list(category="bid_rigging")
    report = subject.report
    for m in report["list_memberships"]:
        m["membership_id"] = '=HYPERLINK("http://x")'
    subject.with_report(report)
    with platform.client(audit=MemoryQueryLog()) as client:
        decision = client.check(fake_uscc(3), "bidding", CTX)
    rows = _rows(decisions_csv([decision], columns={"行号": ["-1"]}))
    assert rows[1][0] == "-1"  # a number stays a number
    for cell in rows[1]:
        assert not cell.startswith(("=", "+", "@")), cell


def test_columns_must_match_the_decisions() -> None:
    with pytest.raises(ValueError, match="one value per decision"):
        decisions_csv([None], columns={"x": []})
