"""What the engine writes for people (an exclusion's ``detail``, an advisory's ``message``) is
stored once, Chinese first, ``中文 ｜ English``, with the article references in both halves;
``explain()``, the verification sheet and the desk CSV show the half ``lang`` asks for, once."""

from __future__ import annotations

import pytest

from credit_sdk import (
    Decision,
    MemoryQueryLog,
    QueryContext,
    ReasonCode,
    decisions_csv,
    shown,
)
from credit_sdk._labels import TEXT_SEPARATOR, said
from credit_sdk.testing import CreditPlatform, fake_uscc

CTX = QueryContext(organ="230100-GGZY", operator="u1", matter_code="M", purpose="sample check")


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_said_and_shown() -> None:
    text = said("异议处理中（Art. 53）", "objection pending (Art. 53)")
    assert text == "异议处理中（Art. 53） ｜ objection pending (Art. 53)"
    assert shown(text) == text
    assert shown(text, "zh-en") == text
    assert shown(text, "zh") == "异议处理中（Art. 53）"
    assert shown(text, "en") == "objection pending (Art. 53)"
    for lang in ("zh-en", "zh", "en"):  # a platform's own text shows whole
        assert shown("the platform's words", lang) == "the platform's words"
        assert shown("", lang) == ""


def _decisions() -> list[Decision]:
    platform = CreditPlatform()
    platform.subject(fake_uscc(1)).with_disputed_severe_listing()
    platform.subject(fake_uscc(2)).with_expired_record().with_repaired_severe_listing()
    platform.subject(fake_uscc(3)).on_red_list().on_severe_list(category="bid_rigging")
    platform.subject(fake_uscc(4)).on_severe_list(category="tax_arrears")
    platform.subject(fake_uscc(5))
    platform.unavailable_for(fake_uscc(5))
    with platform.client(audit=MemoryQueryLog()) as client:
        return [
            client.check(fake_uscc(1), "bidding", CTX),
            client.check(fake_uscc(2), "admin_licensing", CTX),
            client.check(fake_uscc(3), "government_procurement", CTX),
            client.check(fake_uscc(4), "public_service", CTX),
            client.check(fake_uscc(5), "bidding", CTX),
        ]


def _texts(decisions: list[Decision]) -> list[tuple[ReasonCode, str]]:
    return [(e.reason, e.detail) for d in decisions for e in d.exclusions if e.detail] + [
        (a.code, a.message) for d in decisions for a in d.advisories
    ]


def test_every_engine_text_is_chinese_first_and_bilingual() -> None:
    texts = _texts(_decisions())
    codes = {code for code, _ in texts}
    # The cases the brief names are among them.
    assert {
        ReasonCode.RECORD_DISPUTED,
        ReasonCode.INCENTIVE_SUPPRESSED_BY_DISHONESTY,
        ReasonCode.RECORD_EXPIRED,
        ReasonCode.PLATFORM_UNAVAILABLE,
    } <= codes, codes
    for code, text in texts:
        assert text.count(TEXT_SEPARATOR) == 1, (code, text)
        zh, en = shown(text, "zh"), shown(text, "en")
        assert _is_chinese(zh[:2]), (code, text)  # Chinese first
        assert not _is_chinese(en), (code, text)  # the English half reads alone
        assert ("Art." in zh) == ("Art." in en), (code, text)  # references in both halves


def test_the_disputed_item_advisory() -> None:
    (decision, *_) = _decisions()
    disputed = [a for a in decision.advisories if a.code is ReasonCode.RECORD_DISPUTED]
    assert disputed  # the listing and the record it rests on
    advisory = disputed[0]
    assert advisory.item_id is not None
    assert shown(advisory.message, "zh") == "异议标注：该信息的异议正在处理中（Art. 53）"
    assert shown(advisory.message, "en") == "an objection to this item is pending (Art. 53)"


@pytest.mark.parametrize("lang", ["zh-en", "zh", "en"])
def test_explain_sheet_and_csv_show_each_text_once_in_the_language_asked(lang: str) -> None:
    decisions = _decisions()
    texts = _texts(decisions)
    rendered = [
        "\n".join(d.explain(lang) for d in decisions),  # type: ignore[arg-type]
        "\n".join(d.to_html(lang) for d in decisions),  # type: ignore[arg-type]
        decisions_csv(decisions, lang=lang),  # type: ignore[arg-type]
    ]
    if lang != "zh-en":  # one half only: never the bar between them
        assert all(TEXT_SEPARATOR not in output for output in rendered)
    explain, sheet, _ = rendered
    for code, text in texts:
        zh, en = shown(text, "zh"), shown(text, "en")
        for output in (explain,) + (
            (sheet,) if code is not ReasonCode.PLATFORM_UNAVAILABLE else ()
        ):
            body = output.replace("&#x27;", "'").replace("&amp;", "&")
            if lang == "zh":
                assert zh in body, (code, text)
                assert en not in body, (code, text)
            elif lang == "en":
                assert en in body, (code, text)
                assert zh not in body, (code, text)
            else:  # the stored form itself, and no half a second time on its own
                assert text in body, (code, text)
                assert body.count(zh) == body.count(text), (code, text)
                assert body.count(en) == body.count(text), (code, text)
