"""Render a :class:`~credit_sdk.Decision` as a case officer reads it: Chinese first.

The renderers read the decision's JSON form (:meth:`~credit_sdk.Decision.to_dict`), never the
class: ``_decision`` imports this module and this module imports nothing of ``_decision``.
``lang`` is one of :data:`~credit_sdk._labels.LANGS` (``"zh-en"`` by default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from credit_sdk._labels import (
    GROUND_LABELS,
    KIND_LABELS,
    LIST_LABELS,
    OUTCOME_LABELS,
    OUTCOME_MEANINGS,
    REASON_LABELS,
    ROLE_LABELS,
    SOURCE_LABELS,
    TIER_LABELS,
    Lang,
    check_lang,
    label,
    pair,
    shown,
)
from credit_sdk._scenarios import Scenario

__all__ = [
    "describe_outcome",
    "describe_scenario",
    "describe_trigger",
    "format_range_item",
    "render",
]


def format_range_item(item: str) -> str:
    """``"42.10.3"`` → ``"Art. 42(10)3"``; ``"40.1"`` → ``"Art. 40(1)"``."""
    parts = item.split(".")
    text = f"Art. {parts[0]}"
    if len(parts) > 1:
        text += f"({parts[1]})"
    if len(parts) > 2:
        text += parts[2]
    return text


def describe_outcome(outcome: str, lang: Lang = "zh-en", *, meaning: bool = True) -> str:
    """``限制 restricted — 适用失信约束/惩戒措施 restriction or punishment measures apply``."""
    text = label(OUTCOME_LABELS, outcome, lang)
    if meaning and outcome in OUTCOME_MEANINGS:
        text += " — " + label(OUTCOME_MEANINGS, outcome, lang)
    return text


def describe_scenario(scenario: str, lang: Lang = "zh-en") -> str:
    """``招标投标 bidding (Art. 27(2))``; an unknown scenario shows as itself."""
    try:
        s = Scenario(scenario)
    except ValueError:
        return scenario
    return f"{pair(s.label_zh, s.value, lang)} (Art. {s.article_item})"


def describe_trigger(t: Mapping[str, Any], lang: Lang = "zh-en") -> str:
    """Which list or record, which unit found it, under which document number.

    ``t`` is one ``triggered_by`` entry of :meth:`~credit_sdk.AppliedMeasure.to_dict`:

    >>> describe_trigger({"source": "membership", "item_id": "M-1", "ground": "severe_dishonesty",
    ...     "category": "bid_rigging", "found_by": "哈市市场监管局",
    ...     "document": "哈市监信〔2025〕3号"}, "zh")
    '严重失信主体名单 M-1（bid_rigging）；认定单位：哈市市场监管局；文号：哈市监信〔2025〕3号'
    """
    lang = check_lang(lang)
    semi, colon, lp, rp = ("; ", ": ", " (", ")") if lang == "en" else ("；", "：", "（", "）")
    source, ground = str(t["source"]), str(t["ground"])
    if source in ("membership", "linked_party") and ground in LIST_LABELS:
        what = label(LIST_LABELS, ground, lang)
    else:
        what = f"{label(SOURCE_LABELS, source, lang)}{lp}{label(GROUND_LABELS, ground, lang)}{rp}"
    text = f"{what} {t['item_id']}"
    if t.get("category"):
        text += f"{lp}{t['category']}{rp}"
    parts = [text]
    if t.get("found_by"):
        parts.append(f"{pair('认定单位', 'found by', lang)}{colon}{t['found_by']}")
    if t.get("document"):
        parts.append(f"{pair('文号', 'document', lang)}{colon}{t['document']}")
    if t.get("via_organisation"):
        role = label(ROLE_LABELS, str(t.get("role", "")), lang)
        parts.append(f"{pair('关联主体', 'via', lang)}{colon}{t['via_organisation']}{lp}{role}{rp}")
    if t.get("disputed"):
        parts.append(pair("异议处理中", "under objection", lang))
    return semi.join(parts)


def _measure(lines: list[str], n: int, m: Mapping[str, Any], lang: Lang) -> None:
    lines.append(f"  {n}. {m['title']}  [{m['measure_id']}; {format_range_item(m['range_item'])}]")
    kind = label(KIND_LABELS, m["kind"], lang)
    if m["voluntary"]:
        kind += "（" + pair("自愿实施", "voluntary", lang) + "）"
    lines.append(f"     {pair('措施类别', 'Kind', lang)}: {kind}")
    lines.append(f"     {pair('措施内容', 'Content', lang)}: {m['content']}")
    lines.append(f"     {pair('惩戒对象', 'Target', lang)}: {m['target']}")
    lines.append(f"     {pair('设定依据', 'Legal basis', lang)}: {'；'.join(m['legal_basis'])}")
    lines.append(f"     {pair('实施主体', 'Implementing body', lang)}: {m['implementing_body']}")
    if m["score_adjustment"] is not None:
        lines.append(f"     {pair('评审分值调整', 'Score', lang)}: {m['score_adjustment']:+g}")
    lines.append(
        f"     {pair('清单', 'List', lang)}: {m['list_id']} {m['list_version']}"
        f"（{m['publication']}）"
    )
    for t in m["triggered_by"]:
        lines.append(f"     {pair('触发信息', 'Triggered by', lang)}: {describe_trigger(t, lang)}")


def render(d: Mapping[str, Any], lang: Lang = "zh-en") -> str:
    """The text of :meth:`~credit_sdk.Decision.explain`, from the decision's ``to_dict()``.

    An INDETERMINATE decision says nothing about the subject: no supervision tier, no
    commitment route, no report; only that no usable data arrived and why.
    """
    lang = check_lang(lang)
    outcome = d["outcome"]
    prov = d["provenance"]
    indeterminate = outcome == "INDETERMINATE"
    lines = [
        pair("信用核查结果", "Credit check decision", lang),
        f"  {pair('信用主体', 'Subject', lang)}: {d['subject']} {_subject_kind(d, lang)}",
        f"  {pair('应用场景', 'Scenario', lang)}: {describe_scenario(d['scenario'], lang)}",
        f"  {pair('核查结论', 'Outcome', lang)}: {_outcome_line(outcome, lang)}",
        f"  {pair('核查日期', 'As of', lang)}: {prov['as_of']}"
        f"   {pair('政策', 'Policy', lang)}: {prov['policy_profile']}",
    ]
    if d["flags"]:
        lines.append(f"  {pair('标记', 'Flags', lang)}: {', '.join(sorted(d['flags']))}")
    sections: list[tuple[str, Sequence[Mapping[str, Any]]]] = [
        (pair("失信约束和惩戒措施", "Restrictions", lang), d["restrictions"]),
        (pair("守信激励措施", "Incentives", lang), d["incentives"]),
        (pair("待复核措施（异议处理中, Art. 53）", "Held for review", lang), d["held_for_review"]),
        (
            pair("自愿实施措施，仅供参考（Art. 48）", "Voluntary, for information", lang),
            d["voluntary"],
        ),
    ]
    for title, measures in sections:
        if measures:
            lines.append("")
            lines.append(f"{title} ({len(measures)})")
            for n, m in enumerate(measures, 1):
                _measure(lines, n, m, lang)
    lines.append("")
    if indeterminate:
        lines.append(
            pair(
                "未取得可用的信用信息：本结果不说明该主体的任何信用状况，不得视为无失信。",
                "No usable credit data arrived: this result says nothing about the subject "
                "and is never to be read as clear.",
                lang,
            )
        )
    else:
        route = (
            pair("可以适用", "open", lang)
            if d["commitment_eligible"]
            else pair("不得适用", "closed", lang)
        )
        lines.append(
            f"{pair('信用承诺制（Art. 28）', 'Commitment route', lang)}: {route}"
            f" — {label(REASON_LABELS, d['commitment_reason'], lang)}"
        )
        for t in d.get("commitment_triggered_by", ()):
            lines.append(f"  {pair('依据', 'Because of', lang)}: {describe_trigger(t, lang)}")
        s = d["supervision"]
        lines.append(
            f"{pair('分级分类监管（Art. 32）', 'Supervision', lang)}: "
            f"{label(TIER_LABELS, s['tier'], lang)}, "
            f"{pair('抽查比例系数', 'spot-check factor', lang)} ×{s['spot_check_factor']:g}"
            f" — {s['basis']}"
        )
    if d["exclusions"]:
        lines.append("")
        lines.append(f"{pair('未适用', 'Left out', lang)} ({len(d['exclusions'])})")
        for e in d["exclusions"]:
            what = " ".join(x for x in (e["item_id"], e["measure_id"]) if x)
            lines.append(
                f"  - {label(REASON_LABELS, e['reason'], lang)} [{e['reason']}]: {what}"
                + (f" — {shown(e['detail'], lang)}" if e["detail"] else "")
            )
    if d["advisories"]:
        lines.append("")
        lines.append(pair("提示", "Advisories", lang))
        for a in d["advisories"]:
            lines.append(
                f"  - {label(REASON_LABELS, a['code'], lang)} [{a['code']}]: "
                + shown(a["message"], lang)
            )
    lines.append("")
    lists = "; ".join(
        f"{x['list_id']} {x['version']} (sha256 {x['sha256'][:12]})" for x in prov["lists"]
    )
    source = f"{pair('来源', 'Provenance', lang)}: SDK {prov['sdk_version']}"
    if prov["report_id"] is not None:
        source = (
            f"{pair('来源', 'Provenance', lang)}: {pair('信用报告', 'report', lang)} "
            f"{prov['report_id']}; SDK {prov['sdk_version']}"
        )
    lines.append(source)
    lines.append(f"  {pair('清单', 'Lists', lang)}: {lists or pair('无', '(none in force)', lang)}")
    return "\n".join(lines)


def _outcome_line(outcome: str, lang: Lang) -> str:
    # The code in brackets ties the text to the JSON form and the command line's exit code.
    meaning = label(OUTCOME_MEANINGS, outcome, lang) if outcome in OUTCOME_MEANINGS else ""
    return f"{label(OUTCOME_LABELS, outcome, lang)} [{outcome}]" + (
        f" — {meaning}" if meaning else ""
    )


_SUBJECT_KIND_ZH = {"legal_person": "法人和非法人组织", "natural_person": "自然人"}


def _subject_kind(d: Mapping[str, Any], lang: Lang) -> str:
    kind = str(d["subject_kind"])
    return "(" + pair(_SUBJECT_KIND_ZH.get(kind, kind), kind, lang) + ")"
