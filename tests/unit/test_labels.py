"""Chinese first: every code a person reads has a Chinese and an English label, and ``lang``
chooses what is shown without touching the JSON form."""

from __future__ import annotations

import json

import pytest
from credit_sdk.adapters.procurement import BidderStanding

from credit_sdk import Decision, MemoryQueryLog, Outcome, QueryContext, ReasonCode
from credit_sdk._catalog import Ground, MeasureKind
from credit_sdk._labels import (
    GROUND_LABELS,
    KIND_LABELS,
    OUTCOME_LABELS,
    OUTCOME_MEANINGS,
    REASON_LABELS,
    STANDING_LABELS,
    check_lang,
    label,
)
from credit_sdk.testing import CreditPlatform, fake_uscc

CTX = QueryContext(organ="230100-GGZY", operator="u1", matter_code="M", purpose="sample check")


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize(
    ("table", "values"),
    [
        (REASON_LABELS, [c.value for c in ReasonCode]),
        (OUTCOME_LABELS, [o.value for o in Outcome]),
        (OUTCOME_MEANINGS, [o.value for o in Outcome]),
        (STANDING_LABELS, [s.value for s in BidderStanding]),
        (KIND_LABELS, [k.value for k in MeasureKind]),
        (GROUND_LABELS, [g.value for g in Ground]),
    ],
    ids=["reason", "outcome", "meaning", "standing", "kind", "ground"],
)
def test_every_code_has_a_chinese_and_an_english_label(
    table: dict[str, tuple[str, str]], values: list[str]
) -> None:
    missing = [v for v in values if v not in table]
    assert not missing, f"no label for {missing}: add them to credit_sdk/_labels.py"
    for v in values:
        zh, en = table[v]
        assert _is_chinese(zh), v
        assert en, v
        assert not _is_chinese(en), v


def test_the_desk_words_for_outcomes() -> None:
    assert [OUTCOME_LABELS[o.value][0] for o in Outcome] == [
        "通过",
        "激励",
        "限制",
        "待复核",
        "无法判定",
    ]


def test_lang_picks_chinese_english_or_both() -> None:
    assert label(OUTCOME_LABELS, "REVIEW") == "待复核 review"
    assert label(OUTCOME_LABELS, "REVIEW", "zh") == "待复核"
    assert label(OUTCOME_LABELS, "REVIEW", "en") == "review"
    assert label(REASON_LABELS, "A_CODE_FROM_A_NEWER_PLATFORM") == "A_CODE_FROM_A_NEWER_PLATFORM"
    with pytest.raises(ValueError, match="zh-en, zh, en"):
        check_lang("fr")


def _restricted_and_indeterminate() -> tuple[Decision, Decision]:
    platform = CreditPlatform()
    platform.subject(fake_uscc(1)).on_severe_list(category="bid_rigging")
    with platform.client(audit=MemoryQueryLog()) as client:
        restricted = client.check(fake_uscc(1), "bidding", CTX)
        platform.unavailable_for(fake_uscc(2))
        indeterminate = client.check(fake_uscc(2), "bidding", CTX)
    return restricted, indeterminate


def test_explain_is_chinese_first_and_lang_does_not_touch_json() -> None:
    decision, _ = _restricted_and_indeterminate()
    before = json.dumps(decision.to_dict(), sort_keys=True)
    both = decision.explain()
    zh = decision.explain("zh")
    en = decision.explain("en")
    assert both.splitlines()[0] == "信用核查结果 Credit check decision"
    assert "限制 restricted [RESTRICTED]" in both
    assert "限制 [RESTRICTED]" in zh
    assert "restricted" not in zh
    assert "Outcome: restricted [RESTRICTED]" in en
    assert "核查结论" not in en
    # The trigger line says which list, which unit found it, under which document number.
    trigger = next(line for line in zh.splitlines() if "严重失信主体名单" in line)
    assert "认定单位：" in trigger
    assert "文号：" in trigger
    assert json.dumps(decision.to_dict(), sort_keys=True) == before
    with pytest.raises(ValueError, match="lang"):
        decision.explain("english")


def test_an_indeterminate_result_says_nothing_about_the_subject() -> None:
    _, decision = _restricted_and_indeterminate()
    assert decision.outcome is Outcome.INDETERMINATE
    assert decision.supervision.tier == "unknown"
    text = decision.explain()
    assert "无法判定 indeterminate [INDETERMINATE]" in text
    for said in ("风险较高", "high", "Supervision", "分级分类监管", "信用承诺制", "report None"):
        assert said not in text, said
    assert "不说明该主体的任何信用状况" in text
