"""Render a :class:`~credit_sdk.Decision` as a case officer reads it (Chinese legal terms kept)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from credit_sdk._scenarios import Scenario

if TYPE_CHECKING:
    from credit_sdk._decision import AppliedMeasure, Decision

__all__ = ["format_range_item", "render"]

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


def _measure(lines: list[str], n: int, m: AppliedMeasure) -> None:
    lines.append(f"  {n}. {m.title}  [{m.measure_id}; {format_range_item(m.range_item)}]")
    lines.append(
        f"     措施类别: {_KIND_ZH.get(m.kind, m.kind)}{'（自愿实施）' if m.voluntary else ''}"
    )
    lines.append(f"     惩戒/激励内容: {m.content}")
    lines.append(f"     对象: {m.target}")
    lines.append(f"     设定依据: {'；'.join(m.legal_basis)}")
    lines.append(f"     实施主体: {m.implementing_body}")
    if m.score_adjustment is not None:
        lines.append(f"     评审分值调整: {m.score_adjustment:+g}")
    lines.append(f"     清单: {m.list_id} {m.list_version}（{m.publication}）")
    for t in m.triggered_by:
        lines.append(f"     触发信息: {t.describe()}")


def render(d: Decision) -> str:
    try:
        scenario = Scenario(d.scenario)
        scenario_text = f"{scenario.value} {scenario.label_zh} (Art. {scenario.article_item})"
    except ValueError:
        scenario_text = d.scenario
    lines = [
        "信用核查结果 Credit check decision",
        f"  信用主体 Subject:   {d.subject} ({d.subject_kind})",
        f"  应用场景 Scenario:  {scenario_text}",
        f"  结论 Outcome:       {d.outcome.value} — {_OUTCOME_ZH[d.outcome.value]}",
        f"  核查日期 As of:     {d.provenance.as_of.isoformat()}"
        f"   政策 Policy: {d.provenance.policy_profile}",
    ]
    if d.flags:
        lines.append(f"  标记 Flags:         {', '.join(sorted(d.flags))}")
    sections: list[tuple[str, tuple[AppliedMeasure, ...]]] = [
        ("失信约束和惩戒措施 Restrictions", d.restrictions),
        ("守信激励措施 Incentives", d.incentives),
        ("待复核措施 Held for review (异议处理中, Art. 53)", d.held_for_review),
        ("自愿实施措施 Voluntary, for information only (Art. 48)", d.voluntary),
    ]
    for title, measures in sections:
        if measures:
            lines.append("")
            lines.append(f"{title} ({len(measures)})")
            for n, m in enumerate(measures, 1):
                _measure(lines, n, m)
    lines.append("")
    c = d.commitment
    lines.append(
        f"信用承诺制 Commitment route (Art. 28): {'可以适用' if c.eligible else '不得适用'}"
        f" — {c.reason.value}"
    )
    for t in c.triggered_by:
        lines.append(f"  依据: {t.describe()}")
    s = d.supervision
    lines.append(
        f"分级分类监管 Supervision (Art. 32): {s.tier} {_TIER_ZH.get(s.tier, '')},"
        f" 抽查比例系数 ×{s.spot_check_factor:g} — {s.basis}"
    )
    if d.exclusions:
        lines.append("")
        lines.append(f"未适用 Left out ({len(d.exclusions)})")
        for e in d.exclusions:
            what = " ".join(x for x in (e.item_id, e.measure_id) if x)
            lines.append(f"  - {e.reason.value}: {what} — {e.detail}")
    if d.advisories:
        lines.append("")
        lines.append("提示 Advisories")
        for a in d.advisories:
            lines.append(f"  - {a.code.value}: {a.message}")
    lines.append("")
    lists = "; ".join(f"{i} {v} (sha256 {h[:12]})" for i, v, h in d.provenance.lists)
    lines.append(
        f"来源 Provenance: report {d.provenance.report_id}; SDK {d.provenance.sdk_version}"
    )
    lines.append(f"  清单 Lists: {lists or '(none in force)'}")
    return "\n".join(lines)
