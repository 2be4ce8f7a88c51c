"""Render a :class:`~credit_sdk.Decision` as a case officer reads it (Chinese legal terms kept).

The renderers read the decision's JSON form (:meth:`~credit_sdk.Decision.to_dict`), never the
class: ``_decision`` imports this module and this module imports nothing of ``_decision``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from credit_sdk._scenarios import Scenario

__all__ = ["describe_trigger", "format_range_item", "render"]

_OUTCOME_ZH = {
    "CLEAR": "未发现需适用的措施",
    "INCENTIVES": "适用守信激励措施",
    "RESTRICTED": "适用失信约束/惩戒措施",
    "REVIEW": "存在异议信息，需人工复核",
    "INDETERMINATE": "无法取得信用信息，不得视为无失信",
}
_KIND_ZH = {"incentive": "守信激励", "restriction": "失信约束", "punishment": "失信惩戒"}
_TIER_ZH = {"low": "信用较好、风险较低", "normal": "信用风险一般", "high": "违法失信、风险较高"}


def format_range_item(item: str) -> str:
    """``"42.10.3"`` → ``"Art. 42(10)3"``; ``"40.1"`` → ``"Art. 40(1)"``."""
    parts = item.split(".")
    text = f"Art. {parts[0]}"
    if len(parts) > 1:
        text += f"({parts[1]})"
    if len(parts) > 2:
        text += parts[2]
    return text


def describe_trigger(t: Mapping[str, Any]) -> str:
    """One ``triggered_by`` entry of :meth:`~credit_sdk.AppliedMeasure.to_dict` as text."""
    text = f"{t['source']} {t['item_id']} ({t['ground']}"
    if t.get("category"):
        text += f", {t['category']}"
    text += ")"
    if t.get("via_organisation"):
        text += f" as {t['role']} of {t['via_organisation']}"
    if t.get("disputed"):
        text += " [under objection]"
    return text


def _measure(lines: list[str], n: int, m: Mapping[str, Any]) -> None:
    lines.append(f"  {n}. {m['title']}  [{m['measure_id']}; {format_range_item(m['range_item'])}]")
    kind = m["kind"]
    lines.append(
        f"     措施类别: {_KIND_ZH.get(kind, kind)}{'（自愿实施）' if m['voluntary'] else ''}"
    )
    lines.append(f"     惩戒/激励内容: {m['content']}")
    lines.append(f"     对象: {m['target']}")
    lines.append(f"     设定依据: {'；'.join(m['legal_basis'])}")
    lines.append(f"     实施主体: {m['implementing_body']}")
    if m["score_adjustment"] is not None:
        lines.append(f"     评审分值调整: {m['score_adjustment']:+g}")
    lines.append(f"     清单: {m['list_id']} {m['list_version']}（{m['publication']}）")
    for t in m["triggered_by"]:
        lines.append(f"     触发信息: {describe_trigger(t)}")


def render(d: Mapping[str, Any]) -> str:
    """The text of :meth:`~credit_sdk.Decision.explain`, from the decision's ``to_dict()``."""
    try:
        scenario = Scenario(d["scenario"])
        scenario_text = f"{scenario.value} {scenario.label_zh} (Art. {scenario.article_item})"
    except ValueError:
        scenario_text = d["scenario"]
    outcome = d["outcome"]
    prov = d["provenance"]
    lines = [
        "信用核查结果 Credit check decision",
        f"  信用主体 Subject:   {d['subject']} ({d['subject_kind']})",
        f"  应用场景 Scenario:  {scenario_text}",
        f"  结论 Outcome:       {outcome} — {_OUTCOME_ZH[outcome]}",
        f"  核查日期 As of:     {prov['as_of']}   政策 Policy: {prov['policy_profile']}",
    ]
    if d["flags"]:
        lines.append(f"  标记 Flags:         {', '.join(sorted(d['flags']))}")
    sections: list[tuple[str, Sequence[Mapping[str, Any]]]] = [
        ("失信约束和惩戒措施 Restrictions", d["restrictions"]),
        ("守信激励措施 Incentives", d["incentives"]),
        ("待复核措施 Held for review (异议处理中, Art. 53)", d["held_for_review"]),
        ("自愿实施措施 Voluntary, for information only (Art. 48)", d["voluntary"]),
    ]
    for title, measures in sections:
        if measures:
            lines.append("")
            lines.append(f"{title} ({len(measures)})")
            for n, m in enumerate(measures, 1):
                _measure(lines, n, m)
    lines.append("")
    lines.append(
        f"信用承诺制 Commitment route (Art. 28): "
        f"{'可以适用' if d['commitment_eligible'] else '不得适用'} — {d['commitment_reason']}"
    )
    for t in d.get("commitment_triggered_by", ()):
        lines.append(f"  依据: {describe_trigger(t)}")
    s = d["supervision"]
    lines.append(
        f"分级分类监管 Supervision (Art. 32): {s['tier']} {_TIER_ZH.get(s['tier'], '')},"
        f" 抽查比例系数 ×{s['spot_check_factor']:g} — {s['basis']}"
    )
    if d["exclusions"]:
        lines.append("")
        lines.append(f"未适用 Left out ({len(d['exclusions'])})")
        for e in d["exclusions"]:
            what = " ".join(x for x in (e["item_id"], e["measure_id"]) if x)
            lines.append(f"  - {e['reason']}: {what} — {e['detail']}")
    if d["advisories"]:
        lines.append("")
        lines.append("提示 Advisories")
        for a in d["advisories"]:
            lines.append(f"  - {a['code']}: {a['message']}")
    lines.append("")
    lists = "; ".join(
        f"{x['list_id']} {x['version']} (sha256 {x['sha256'][:12]})" for x in prov["lists"]
    )
    lines.append(f"来源 Provenance: report {prov['report_id']}; SDK {prov['sdk_version']}")
    lines.append(f"  清单 Lists: {lists or '(none in force)'}")
    return "\n".join(lines)
