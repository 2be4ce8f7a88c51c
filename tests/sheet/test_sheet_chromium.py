"""The verification sheet (联合奖惩核查单) printed by a real headless Chromium: A4, nothing wider
than the page, every measure's text in the PDF, no raw identifier anywhere.

Run with Debian's ``chromium``, ``fonts-wqy-zenhei`` and ``poppler-utils`` installed (`.ci/run`
installs them; under ``CI=true`` their absence fails these tests).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from credit_sdk.adapters.procurement import Bidder, screen_tender

from credit_sdk import Decision, MemoryQueryLog, QueryContext
from credit_sdk.testing import CreditPlatform, fake_resident_id, fake_uscc

from . import browser

CTX = QueryContext(
    organ="230100-GGZY",
    operator="u1024",
    matter_code="BID-2026-017",
    purpose="tender HLJ-ZB-2026-0318 bidder screening (sample data)",
)
# Long platform text must wrap, not widen the page.
LONG_BODY = "哈尔滨市公共资源交易监督管理局" * 6


def _platform() -> CreditPlatform:
    platform = CreditPlatform()
    platform.subject(fake_uscc(1)).on_severe_list(category="bid_rigging").with_expired_record()
    platform.subject(fake_uscc(2)).on_red_list().with_commendation()
    platform.subject(fake_uscc(3)).with_disputed_severe_listing()
    return platform


def _decision(platform: CreditPlatform, subject: str, log: MemoryQueryLog) -> Decision:
    with platform.client(audit=log) as client:
        return client.check(subject, "bidding", CTX)


def _texts(decision: Decision) -> list[str]:
    """Every text of every measure that must reach the paper."""
    out: list[str] = []
    for m in (*decision.restrictions, *decision.incentives, *decision.held_for_review):
        out += [m.title, m.measure_id, m.content, m.implementing_body, *m.legal_basis]
    return out


def _squash(text: str) -> str:
    # pdftotext breaks lines where the page wraps them; compare without any whitespace.
    return re.sub(r"\s+", "", text)


def test_a_restricted_decision_prints_on_a4_with_every_measure(tmp_path: Path) -> None:
    platform, log = _platform(), MemoryQueryLog()
    decision = _decision(platform, fake_uscc(1), log)
    assert decision.restrictions
    html = tmp_path / "sheet.html"
    html.write_text(decision.to_html(log=log), encoding="utf-8")

    pdf = browser.print_pdf(html)
    pages, size = browser.pdf_pages(pdf)
    assert "(A4)" in size
    assert 1 <= pages <= 3
    text = _squash(browser.pdf_text(pdf))
    for wanted in (
        "联合奖惩核查单",
        "措施内容",
        "设定依据",
        "实施主体",
        "触发信息",
        "查询日志位置",
    ):
        assert wanted in text, wanted
    for wanted in _texts(decision):
        assert _squash(wanted) in text, wanted
    assert decision.query_id is not None
    assert decision.query_id in text
    assert fake_uscc(1) not in text
    assert decision.subject.replace(" ", "") in text

    for width in (browser.A4_PX[0], browser.COLUMN_PX):
        probe = browser.overflow(html, width)
        assert probe["bad"] == [], (width, probe)
        assert probe["scroll"] == probe["client"], (width, probe)
    png = browser.screenshot(html)
    assert png.stat().st_size > 10_000


def test_long_platform_text_wraps_inside_the_page(tmp_path: Path) -> None:
    platform, log = CreditPlatform(), MemoryQueryLog()
    subject = platform.subject(fake_uscc(4)).on_severe_list(category="bid_rigging")
    report = subject.report
    for m in report["list_memberships"]:
        m["listing_body"] = LONG_BODY
        m["decision"]["number"] = "哈" + "〔2026〕" * 20 + "号"
    subject.with_report(report)
    decision = _decision(platform, fake_uscc(4), log)
    html = tmp_path / "long.html"
    html.write_text(decision.to_html("zh", log=log), encoding="utf-8")
    for width in (browser.A4_PX[0], browser.COLUMN_PX):
        probe = browser.overflow(html, width)
        assert probe["bad"] == [], (width, probe)
    text = _squash(browser.pdf_text(browser.print_pdf(html)))
    assert LONG_BODY in text


def test_a_tender_sheet_prints_every_bidder(tmp_path: Path) -> None:
    platform, log = _platform(), MemoryQueryLog()
    person = fake_resident_id(5)
    broken = person[:-1] + ("0" if person[-1] != "0" else "1")  # a wrong check character
    with platform.client(audit=log) as client:
        screening = screen_tender(
            client,
            "HLJ-ZB-2026-0318",
            [
                Bidder("投标人A", fake_uscc(1)),
                Bidder("投标人B", fake_uscc(2)),
                Bidder("投标人C", fake_uscc(3)),
                Bidder("投标人D", broken),
            ],
            CTX,
        )
    html = tmp_path / "tender.html"
    html.write_text(screening.to_html(log=log), encoding="utf-8")
    pdf = browser.print_pdf(html)
    assert "(A4)" in browser.pdf_pages(pdf)[1]
    text = _squash(browser.pdf_text(pdf))
    for b in screening.bidders:
        assert b.label in text
        if b.decision is not None:
            for wanted in _texts(b.decision):
                assert _squash(wanted) in text, wanted
    assert "未能核查" in text
    for raw in (fake_uscc(1), fake_uscc(2), fake_uscc(3), person, broken):
        assert raw not in text
        assert raw not in html.read_text(encoding="utf-8")
    for width in (browser.A4_PX[0], browser.COLUMN_PX):
        assert browser.overflow(html, width)["bad"] == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_one_language_sheets_render(tmp_path: Path, lang: str) -> None:
    platform, log = _platform(), MemoryQueryLog()
    decision = _decision(platform, fake_uscc(2), log)
    html = tmp_path / f"sheet-{lang}.html"
    html.write_text(decision.to_html(lang, log=log), encoding="utf-8")  # type: ignore[arg-type]
    text = _squash(browser.pdf_text(browser.print_pdf(html)))
    if lang == "zh":
        assert "核查结论" in text
        assert "Outcome" not in text
    else:
        assert "Outcome" in text
        assert "核查结论" not in text
    for wanted in _texts(decision):
        assert _squash(wanted) in text, wanted
