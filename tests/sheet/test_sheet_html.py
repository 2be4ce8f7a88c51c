"""The verification sheet's HTML, without a browser: what it says, what it escapes, and what it
never shows."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from credit_sdk import Decision, MemoryQueryLog, QueryContext, verification_sheet
from credit_sdk.testing import CreditPlatform, fake_uscc

CTX = QueryContext(
    organ="230100-GGZY",
    operator="u<script>1",
    matter_code="BID-2026-017",
    purpose='tender "2026-17" & <b>co</b>',
)


def _check(platform: CreditPlatform, subject: str, log: MemoryQueryLog) -> Decision:
    with platform.client(audit=log) as client:
        return client.check(subject, "bidding", CTX)


def test_the_sheet_carries_query_subject_outcome_measures_and_log_position() -> None:
    platform, log = CreditPlatform(), MemoryQueryLog()
    platform.subject(fake_uscc(1)).on_severe_list(category="bid_rigging").with_expired_record()
    decision = _check(platform, fake_uscc(1), log)
    html = decision.to_html(log=log)
    assert html.startswith("<!DOCTYPE html>")
    assert "联合奖惩核查单" in html
    assert decision.query_id is not None
    assert decision.query is not None
    assert decision.query_id in html
    at = decision.query.requested_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert at.strftime("%Y-%m-%d %H:%M:%S (UTC+8)") in html
    for value in ("230100-GGZY", "BID-2026-017", decision.subject, "限制 restricted [RESTRICTED]"):
        assert value in html
    for m in decision.restrictions:
        for text in (m.title, m.content, m.implementing_body, *m.legal_basis):
            assert text in html
        assert "认定单位" in html
    for e in decision.exclusions:
        assert f"[{e.reason.value}]" in html
    for list_id, version, sha in decision.provenance.lists:
        assert f"{list_id} {version}" in html
        assert sha in html
    assert decision.provenance.policy_profile in html
    # The log position: the sequence numbers and hash of this query's records.
    records = [r for r in log.export() if r.query_id == decision.query_id]
    intent, completion = records
    assert f"#{intent.seq}" in html
    assert f"#{completion.seq}" in html
    assert completion.hash in html
    assert "示例数据" in html  # decided on the shipped sample lists
    assert fake_uscc(1) not in html


def test_text_from_the_caller_and_the_platform_is_escaped() -> None:
    platform, log = CreditPlatform(), MemoryQueryLog()
    subject = platform.subject(fake_uscc(2)).on_severe_list(category="bid_rigging")
    report = subject.report
    for m in report["list_memberships"]:
        m["listing_body"] = '<img src=x onerror="alert(1)">'
    subject.with_report(report)
    html = _check(platform, fake_uscc(2), log).to_html()
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "u&lt;script&gt;1" in html
    assert "tender &quot;2026-17&quot; &amp; &lt;b&gt;co&lt;/b&gt;" in html
    assert not re.search(r"<(script|link|iframe)\b", html)
    assert "http://" not in html
    assert "https://" not in html  # self-contained: nothing fetched


def test_without_the_log_the_sheet_says_how_to_find_the_query() -> None:
    platform, log = CreditPlatform(), MemoryQueryLog()
    platform.subject(fake_uscc(3)).clean()
    decision = _check(platform, fake_uscc(3), log)
    html = decision.to_html("zh")
    assert f"按查询编号 {decision.query_id} 在查询日志中核对" in html
    assert "通过 [CLEAR]" in html
    assert "无适用的措施" in html
    other = MemoryQueryLog()
    assert "查询日志中未找到" in decision.to_html("zh", log=other)


def test_an_indeterminate_sheet_says_nothing_about_the_subject() -> None:
    platform, log = CreditPlatform(), MemoryQueryLog()
    platform.unavailable_for(fake_uscc(4))
    decision = _check(platform, fake_uscc(4), log)
    html = decision.to_html()
    assert "无法判定 indeterminate [INDETERMINATE]" in html
    assert "不说明该主体的任何信用状况" in html
    for said in ("分级分类监管", "风险", "信用承诺制", "信用报告编号"):
        assert said not in html, said


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one decision"):
        verification_sheet([])
    platform, log = CreditPlatform(), MemoryQueryLog()
    platform.subject(fake_uscc(5)).clean()
    decision = _check(platform, fake_uscc(5), log)
    with pytest.raises(ValueError, match="lang"):
        decision.to_html("de")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one heading per decision"):
        verification_sheet([decision], headings=["a", "b"])
