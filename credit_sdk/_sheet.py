"""The printable verification sheet (联合奖惩核查单): one A4 HTML page a case officer files.

:func:`verification_sheet` renders one decision (``Decision.to_html()``) or several (a tender's
bidders, ``TenderScreening.to_html()``) as a self-contained HTML document: no script, no
external font, image or style sheet, printable on A4 from any browser. Chinese first
(``lang="zh-en"``), or ``"zh"`` / ``"en"`` only. It shows:

* the query: id and time (China time), organ, operator, matter, purpose (Art. 23, 25);
* the subject, masked; the scenario; the outcome;
* each applied measure with 措施内容, 惩戒对象, 设定依据, 实施主体 and what triggered it (which list
  or record, which unit found it, under which document number);
* every exclusion with its reason, every advisory;
* the list editions (with sha256) and the policy profile the decision was made on;
* the query-log position (the sequence numbers and hash of the query's records, when the log is
  given) so the sheet can be checked against the log.

Every text from the platform or the caller is escaped; the subject is only ever the masked form
the decision carries. The module reads decisions through their JSON form and imports nothing
of ``_decision`` (which imports it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from html import escape
from typing import Any, NamedTuple, Protocol

from credit_sdk._explain import describe_scenario, describe_trigger, format_range_item
from credit_sdk._labels import (
    KIND_LABELS,
    OUTCOME_LABELS,
    OUTCOME_MEANINGS,
    REASON_LABELS,
    TIER_LABELS,
    Lang,
    bilingual,
    check_lang,
    label,
    shown,
)
from credit_sdk._version import __version__

__all__ = ["LogPosition", "find_log_position", "verification_sheet"]

_SUBJECT_KINDS = {
    "legal_person": ("法人和非法人组织", "organisation"),
    "natural_person": ("自然人", "natural person"),
}
_CHINA = dt.timezone(dt.timedelta(hours=8), "UTC+8")
#: At most this many records are read from the log to find one query's position.
_SCAN_LIMIT = 10_000


class _Decision(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


class _Record(Protocol):
    seq: int
    kind: Any
    query_id: str | None
    hash: str


class _Log(Protocol):
    def export(
        self,
        *,
        subject_pseudonym: str | None = None,
        organ: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Iterator[Any]: ...


class LogPosition(NamedTuple):
    """Where a query's records are in the hash chain of the query log."""

    intent_seq: int | None
    completion_seq: int | None
    completion_hash: str | None


def find_log_position(log: _Log, data: Mapping[str, Any]) -> LogPosition | None:
    """The position of the query that made the decision ``data`` (its ``to_dict()``) in
    ``log``, or ``None`` when the decision carries no query or the log has no such record.
    Reads only the records of queries made by the same organ within a second of it."""
    query, query_id = data.get("query"), data.get("query_id")
    if not query or not query_id:
        return None
    at = dt.datetime.fromisoformat(str(query["requested_at"]))
    second = dt.timedelta(seconds=1)
    intent = completion = None
    digest = None
    for n, record in enumerate(
        log.export(organ=str(query["organ"]), since=at - second, until=at + second)
    ):
        if n >= _SCAN_LIMIT:
            break
        if record.query_id != query_id:
            continue
        if record.kind == "intent":
            intent = record.seq
        elif record.kind == "completion":
            completion, digest = record.seq, record.hash
    if intent is None and completion is None:
        return None
    return LogPosition(intent, completion, digest)


def verification_sheet(
    decisions: Sequence[_Decision | None],
    *,
    lang: Lang = "zh-en",
    log: _Log | None = None,
    title: str | None = None,
    facts: Sequence[tuple[str, str]] = (),
    headings: Sequence[str] | None = None,
    notes: Sequence[str | None] | None = None,
) -> str:
    """The verification sheet of ``decisions`` as one self-contained HTML document.

    ``log``: the query log the decisions were logged to; each section then shows the
    sequence numbers and hash of its query's records. ``title`` replaces the sheet's subtitle
    line (e.g. a tender's id); ``facts`` are extra (label, value) rows at the top;
    ``headings`` and ``notes`` give each section a heading and a note (e.g. a bidder's label
    and standing, or why a bidder has no decision: ``None`` in ``decisions``).

    >>> html = verification_sheet([decision], log=query_log)      # doctest: +SKIP
    >>> html = decision.to_html()                      # the same, one decision  # doctest: +SKIP
    """
    lang = check_lang(lang)
    if not decisions:
        raise ValueError("a verification sheet needs at least one decision")
    if headings is not None and len(headings) != len(decisions):
        raise ValueError("headings must give one heading per decision")
    if notes is not None and len(notes) != len(decisions):
        raise ValueError("notes must give one note (or None) per decision")
    data = [d.to_dict() if d is not None else None for d in decisions]
    sample = any(_is_sample(d) for d in data if d is not None)
    single = len(data) == 1 and data[0] is not None
    parts = [_head(lang, title, sample)]
    top: list[tuple[str, str]] = list(facts)
    first = next((d for d in data if d is not None), None)
    if first is not None and first.get("query"):
        q = first["query"]
        top += [
            (bilingual("查询机关", "Organ", lang), q["organ"]),
            (bilingual("经办人", "Operator", lang), q["operator"]),
            (bilingual("事项编码", "Matter", lang), q["matter_code"]),
            (bilingual("查询目的", "Purpose", lang), q["purpose"]),
        ]
    if top:
        parts.append(_facts(top))
    for n, d in enumerate(data):
        heading = headings[n] if headings is not None else None
        note = notes[n] if notes is not None else None
        position = find_log_position(log, d) if log is not None and d is not None else None
        parts.append(_section(d, lang, heading, note, position, log is not None, single))
    parts.append(_foot(lang))
    return "".join(parts)


# --- pieces -------------------------------------------------------------------------------------


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _is_sample(d: Mapping[str, Any]) -> bool:
    lists = d["provenance"]["lists"]
    return any("sample" in f"{x['list_id']} {x['version']}".lower() for x in lists)


def _china_time(text: str) -> str:
    at = dt.datetime.fromisoformat(text).astimezone(_CHINA)
    return at.strftime("%Y-%m-%d %H:%M:%S (UTC+8)")


_STYLE = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
html { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
  "Microsoft YaHei", "PingFang SC", "SimSun", sans-serif; font-size: 9.5pt; color: #000;
  background: #fff; line-height: 1.4; }
body { margin: 0 auto; width: 100%; max-width: 186mm; }
@media screen { html { background: #eee; } body { background: #fff; padding: 8mm;
  max-width: 210mm; } }
h1 { font-size: 16pt; margin: 0; text-align: center; letter-spacing: 0.2em; }
.sub { text-align: center; margin: 0.5mm 0 3mm; font-size: 9pt; }
.sample { border: 1.2pt dashed #a00; color: #a00; text-align: center; font-weight: bold;
  padding: 1mm; margin: 0 0 3mm; }
h2 { font-size: 12pt; margin: 5mm 0 2mm; border-bottom: 1pt solid #000; }
h3 { font-size: 10.5pt; margin: 3.5mm 0 1.5mm; break-after: avoid; page-break-after: avoid; }
h2 { break-after: avoid; page-break-after: avoid; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; margin: 0 0 2mm; }
th, td { border: 0.5pt solid #555; padding: 1mm 1.5mm; vertical-align: top; text-align: left;
  overflow-wrap: anywhere; word-break: break-word; }
th { width: 27mm; background: #f0f0f0; font-weight: normal; }
.measure caption { caption-side: top; text-align: left; font-weight: bold; padding: 1mm 0; }
.measure { break-inside: avoid; page-break-inside: avoid; }
.left th { width: 40mm; }
.outcome { border: 1.5pt solid #000; padding: 2mm 3mm; margin: 2mm 0; font-size: 12pt;
  font-weight: bold; }
.outcome .meaning { font-weight: normal; font-size: 10pt; }
.o-RESTRICTED, .o-INDETERMINATE, .o-REVIEW { border-width: 2.5pt; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 8pt; word-break: break-all; }
ul { margin: 0; padding-left: 4.5mm; }
.note { margin: 1mm 0 2mm; }
.sign { margin-top: 8mm; display: flex; gap: 10mm; }
.sign div { flex: 1; border-top: 0.5pt solid #000; padding-top: 1mm; }
.foot { margin-top: 4mm; font-size: 8pt; color: #333; }
section { break-before: auto; }
"""


def _head(lang: Lang, title: str | None, sample: bool) -> str:
    heading = "Joint reward and punishment verification sheet" if lang == "en" else "联合奖惩核查单"
    default_sub = {
        "zh-en": "Joint reward and punishment verification sheet",
        "zh": "守信激励和失信惩戒自动核查",
        "en": "守信激励和失信惩戒 credit reward and punishment check",
    }[lang]
    sub = title if title is not None else default_sub
    parts = [
        '<!DOCTYPE html>\n<html lang="',
        "en" if lang == "en" else "zh-CN",
        '"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width">',
        f"<title>{_e(heading)}</title><style>{_STYLE}</style></head><body>",
        f'<h1>{_e(heading)}</h1><p class="sub">{_e(sub)}</p>',
    ]
    if sample:
        parts.append(
            '<p class="sample">'
            + _e(
                bilingual(
                    "示例数据：依据示例清单作出，不得用于实际决定",
                    "SAMPLE: decided on sample lists, not for real decisions",
                    lang,
                )
            )
            + "</p>"
        )
    return "".join(parts)


def _facts(rows: Sequence[tuple[str, str]], cls: str = "") -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}>{body}</table>"


def _section(
    d: Mapping[str, Any] | None,
    lang: Lang,
    heading: str | None,
    note: str | None,
    position: LogPosition | None,
    have_log: bool,
    single: bool,
) -> str:
    out = ["<section>"]
    if heading is not None:
        out.append(f"<h2>{_e(heading)}</h2>")
    if note:
        out.append(f'<p class="note">{_e(note)}</p>')
    if d is None:
        out.append("</section>")
        return "".join(out)
    outcome = str(d["outcome"])
    rows: list[tuple[str, str]] = []
    if d.get("query_id"):
        rows.append((bilingual("查询编号", "Query id", lang), str(d["query_id"])))
    if d.get("query"):
        rows.append(
            (bilingual("查询时间", "Queried at", lang), _china_time(d["query"]["requested_at"]))
        )
    kind = str(d["subject_kind"])
    zh_kind, en_kind = _SUBJECT_KINDS.get(kind, (kind, kind))
    rows += [
        (
            bilingual("信用主体", "Subject", lang),
            f"{d['subject']}（{bilingual(zh_kind, en_kind, lang)}）",
        ),
        (bilingual("应用场景", "Scenario", lang), describe_scenario(d["scenario"], lang)),
        (bilingual("核查日期", "Decided as of", lang), str(d["provenance"]["as_of"])),
    ]
    out.append(_facts(rows))
    meaning = label(OUTCOME_MEANINGS, outcome, lang)
    out.append(
        f'<div class="outcome o-{_e(outcome)}">{_e(bilingual("核查结论", "Outcome", lang))}：'
        f"{_e(label(OUTCOME_LABELS, outcome, lang))} [{_e(outcome)}]"
        f'<div class="meaning">{_e(meaning)}</div></div>'
    )
    groups = (
        (("失信约束和惩戒措施", "Restrictions and punishments"), d["restrictions"]),
        (("守信激励措施", "Incentives"), d["incentives"]),
        (("待复核措施（异议处理中，第五十三条）", "Held for review (Art. 53)"),
         d["held_for_review"]),
        (("自愿实施措施，仅供参考（第四十八条）", "Voluntary, for information (Art. 48)"),
         d["voluntary"]),
    )  # fmt: skip
    applied = False
    for (zh, en), measures in groups:
        if not measures:
            continue
        applied = True
        out.append(f"<h3>{_e(bilingual(zh, en, lang))}（{len(measures)}）</h3>")
        out.extend(_measure(m, lang) for m in measures)
    if not applied:
        none = bilingual("无适用的措施", "No measure applies", lang)
        out.append(f"<h3>{_e(bilingual('适用措施', 'Measures', lang))}</h3><p>{_e(none)}</p>")
    if outcome == "INDETERMINATE":
        out.append(
            "<p><strong>"
            + _e(
                bilingual(
                    "未取得可用的信用信息：本核查单不说明该主体的任何信用状况，不得视为无失信。",
                    "No usable credit data arrived: this sheet says nothing about the subject "
                    "and is never to be read as clear.",
                    lang,
                )
            )
            + "</strong></p>"
        )
    else:
        route = (
            bilingual("可以适用", "open", lang)
            if d["commitment_eligible"]
            else bilingual("不得适用", "closed", lang)
        )
        reason = label(REASON_LABELS, str(d["commitment_reason"]), lang)
        s = d["supervision"]
        tier = label(TIER_LABELS, str(s["tier"]), lang)
        out.append(
            _facts(
                [
                    (
                        bilingual("信用承诺制（第二十八条）", "Commitment route (Art. 28)", lang),
                        f"{route} — {reason}",
                    ),
                    (
                        bilingual("分级分类监管（第三十二条）", "Supervision (Art. 32)", lang),
                        f"{tier}，×{s['spot_check_factor']:g} — {s['basis']}",
                    ),
                ],
                "left",
            )
        )
    if d["exclusions"]:
        out.append(
            f"<h3>{_e(bilingual('未适用及原因', 'Left out, and why', lang))}"
            f"（{len(d['exclusions'])}）</h3>"
        )
        head = (
            f"<tr><th>{_e(bilingual('原因', 'Reason', lang))}</th>"
            f"<th>{_e(bilingual('信息或措施', 'Item or measure', lang))}</th>"
            f"<th>{_e(bilingual('说明', 'Detail', lang))}</th></tr>"
        )
        body = "".join(
            f"<tr><td>{_e(label(REASON_LABELS, str(e['reason']), lang))} "
            f'<span class="mono">[{_e(e["reason"])}]</span></td>'
            f"<td>{_e(' '.join(x for x in (e['item_id'], e['measure_id']) if x) or '—')}</td>"
            f"<td>{_e(shown(e['detail'], lang) or '—')}</td></tr>"
            for e in d["exclusions"]
        )
        out.append(f'<table class="excl">{head}{body}</table>')
    if d["advisories"]:
        out.append(f"<h3>{_e(bilingual('提示', 'Advisories', lang))}</h3><ul>")
        out.extend(
            f"<li>{_e(label(REASON_LABELS, str(a['code']), lang))} "
            f'<span class="mono">[{_e(a["code"])}]</span>：{_e(shown(a["message"], lang))}</li>'
            for a in d["advisories"]
        )
        out.append("</ul>")
    out.append(_provenance(d, lang, position, have_log))
    if single:
        out.append(_signatures(lang))
    out.append("</section>")
    return "".join(out)


def _measure(m: Mapping[str, Any], lang: Lang) -> str:
    kind = label(KIND_LABELS, str(m["kind"]), lang)
    if m["voluntary"]:
        kind += "（" + bilingual("自愿实施", "voluntary", lang) + "）"
    triggers = "".join(f"<li>{_e(describe_trigger(t, lang))}</li>" for t in m["triggered_by"])
    rows = [
        (bilingual("措施类别", "Kind", lang), _e(kind)),
        (bilingual("措施内容", "Content", lang), _e(m["content"])),
        (bilingual("惩戒对象", "Target", lang), _e(m["target"])),
        (bilingual("设定依据", "Legal basis", lang), "<br>".join(_e(b) for b in m["legal_basis"])),
        (bilingual("实施主体", "Implementing body", lang), _e(m["implementing_body"])),
    ]
    if m["score_adjustment"] is not None:
        rows.append((bilingual("评审分值调整", "Score", lang), _e(f"{m['score_adjustment']:+g}")))
    rows += [
        (bilingual("触发信息", "Triggered by", lang), f"<ul>{triggers}</ul>" if triggers else "—"),
        (
            bilingual("清单", "List", lang),
            _e(f"{m['list_id']} {m['list_version']}（{m['publication']}）"),
        ),
    ]
    body = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    caption = (
        f'{_e(m["title"])} <span class="mono">[{_e(m["measure_id"])}; '
        f"{_e(format_range_item(str(m['range_item'])))}]</span>"
    )
    return f'<table class="measure"><caption>{caption}</caption>{body}</table>'


def _provenance(
    d: Mapping[str, Any], lang: Lang, position: LogPosition | None, have_log: bool
) -> str:
    prov = d["provenance"]
    lists = (
        "".join(
            f"<li>{_e(x['list_id'])} {_e(x['version'])} "
            f'<span class="mono">sha256 {_e(x["sha256"])}</span></li>'
            for x in prov["lists"]
        )
        or f"<li>{_e(bilingual('无', 'none in force', lang))}</li>"
    )
    rows = [
        (bilingual("措施清单", "List editions", lang), f"<ul>{lists}</ul>"),
        (
            bilingual("政策配置", "Policy profile", lang),
            _e(f"{prov['policy_profile']}; credit-sdk {prov['sdk_version']}"),
        ),
    ]
    if prov["report_id"] is not None:
        rows.append((bilingual("信用报告编号", "Report id", lang), _e(prov["report_id"])))
    where = _position(d, lang, position, have_log)
    rows.append((bilingual("查询日志位置", "Query-log position", lang), where))
    body = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="left">{body}</table>'


def _position(
    d: Mapping[str, Any], lang: Lang, position: LogPosition | None, have_log: bool
) -> str:
    query_id = d.get("query_id")
    if position is not None:
        parts = []
        if position.intent_seq is not None:
            parts.append(f"{bilingual('意图记录', 'intent record', lang)} #{position.intent_seq}")
        if position.completion_seq is not None:
            parts.append(
                f"{bilingual('完成记录', 'completion record', lang)} #{position.completion_seq}"
            )
        text = _e("，".join(parts))
        if position.completion_hash:
            text += f'<br><span class="mono">hash {_e(position.completion_hash)}</span>'
        return text
    if not query_id:
        return _e(
            bilingual("未经查询日志（直接调用 decide）", "not logged (a bare decide())", lang)
        )
    if have_log:
        return _e(
            bilingual(
                f"查询日志中未找到查询编号 {query_id} 的记录，请核实",
                f"no record of query {query_id} in the given log: check it",
                lang,
            )
        )
    return _e(
        bilingual(
            f"按查询编号 {query_id} 在查询日志中核对（credit-sdk audit export）",
            f"check query {query_id} in the query log (credit-sdk audit export)",
            lang,
        )
    )


def _signatures(lang: Lang) -> str:
    cells = (
        bilingual("经办人签字", "Case officer", lang),
        bilingual("审核人签字", "Reviewed by", lang),
        bilingual("日期", "Date", lang),
    )
    return '<div class="sign">' + "".join(f"<div>{_e(c)}</div>" for c in cells) + "</div>"


def _foot(lang: Lang) -> str:
    made = dt.datetime.now(_CHINA).strftime("%Y-%m-%d %H:%M (UTC+8)")
    text = bilingual(
        f"本核查单由 credit-sdk {__version__} 于 {made} 生成；信用主体以脱敏形式显示。",
        f"Made by credit-sdk {__version__} at {made}; the subject is shown masked.",
        lang,
    )
    return f'<p class="foot">{_e(text)}</p></body></html>\n'
