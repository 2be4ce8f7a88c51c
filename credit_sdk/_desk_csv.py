"""CSV a desk can open: UTF-8 with a byte-order mark (so Excel shows Chinese), Chinese headers,
one row per subject with the measures' titles, legal basis, implementing bodies and triggers.

:func:`decisions_csv` is what ``TenderScreening.to_csv()`` and ``credit-sdk check --file ...
--output FILE`` write. Subjects are masked; a cell that a spreadsheet would run as a formula
(text starting with ``=``, ``+``, ``-``, ``@``) is prefixed with ``'``, since report text comes
from the platform. Several measures in one cell are one per line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from credit_sdk._explain import describe_scenario, describe_trigger
from credit_sdk._labels import (
    KIND_LABELS,
    OUTCOME_LABELS,
    REASON_LABELS,
    Lang,
    bilingual,
    check_lang,
    label,
    shown,
)

__all__ = ["BOM", "decisions_csv"]

BOM = "\ufeff"
_CHINA = dt.timezone(dt.timedelta(hours=8), "UTC+8")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


class _Decision(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


def decisions_csv(
    decisions: Sequence[_Decision | None],
    *,
    lang: Lang = "zh-en",
    columns: Mapping[str, Sequence[str]] | None = None,
    notes: Sequence[str | None] | None = None,
) -> str:
    """The CSV text (BOM first) of ``decisions``, one row each.

    ``columns``: leading columns, header to one value per decision (e.g. a bidder's label, a
    file's line number). ``notes``: one note per decision (``None`` for none), e.g. why a
    subject could not be checked (``None`` in ``decisions``). Write it with
    ``Path(...).write_text(text, encoding="utf-8", newline="")``.

    >>> text = decisions_csv([decision], columns={"投标人": ["投标人A"]})   # doctest: +SKIP
    """
    lang = check_lang(lang)
    lead = dict(columns or {})
    for header, values in lead.items():
        if len(values) != len(decisions):
            raise ValueError(f"column {header!r} must give one value per decision")
    if notes is not None and len(notes) != len(decisions):
        raise ValueError("notes must give one note (or None) per decision")
    headers = [
        *lead,
        *(
            bilingual(zh, en, lang)
            for zh, en in (
                ("信用主体", "Subject"),
                ("应用场景", "Scenario"),
                ("核查结论", "Outcome"),
                ("结论代码", "Outcome code"),
                ("措施编号", "Measure ids"),
                ("措施名称", "Measures"),
                ("措施类别", "Kinds"),
                ("设定依据", "Legal basis"),
                ("实施主体", "Implementing bodies"),
                ("触发信息", "Triggered by"),
                ("未适用及原因", "Left out, and why"),
                ("提示", "Advisories"),
                ("查询编号", "Query id"),
                ("查询时间", "Queried at"),
                ("说明", "Note"),
            )
        ),
    ]
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for n, decision in enumerate(decisions):
        note = (notes[n] if notes is not None else None) or ""
        lead_cells = [values[n] for values in lead.values()]
        if decision is None:
            writer.writerow(_safe([*lead_cells, *([""] * 14), note]))
            continue
        writer.writerow(_safe([*lead_cells, *_cells(decision.to_dict(), lang), note]))
    return out.getvalue()


def _cells(d: Mapping[str, Any], lang: Lang) -> list[str]:
    measures = [*d["restrictions"], *d["incentives"], *d["held_for_review"], *d["voluntary"]]
    held = {id(m) for m in d["held_for_review"]}
    titles, kinds, bases, bodies, triggers = [], [], [], [], []
    for m in measures:
        mid = m["measure_id"]
        title = m["title"]
        if id(m) in held:
            title += "（" + bilingual("待复核", "held for review", lang) + "）"
        titles.append(title)
        kinds.append(f"[{mid}] {label(KIND_LABELS, m['kind'], lang)}")
        bases.append(f"[{mid}] " + "；".join(m["legal_basis"]))
        bodies.append(f"[{mid}] {m['implementing_body']}")
        triggers += [f"[{mid}] {describe_trigger(t, lang)}" for t in m["triggered_by"]]
    excluded = [
        f"{label(REASON_LABELS, e['reason'], lang)} [{e['reason']}] "
        + " ".join(x for x in (e["item_id"], e["measure_id"]) if x)
        for e in d["exclusions"]
    ]
    advisories = [
        f"{label(REASON_LABELS, a['code'], lang)} [{a['code']}]: {shown(a['message'], lang)}"
        for a in d["advisories"]
    ]
    query = d.get("query")
    at = ""
    if query:
        when = dt.datetime.fromisoformat(query["requested_at"]).astimezone(_CHINA)
        at = when.strftime("%Y-%m-%d %H:%M:%S")
    outcome = str(d["outcome"])
    return [
        str(d["subject"]),
        describe_scenario(str(d["scenario"]), lang),
        label(OUTCOME_LABELS, outcome, lang),
        outcome,
        "\n".join(m["measure_id"] for m in measures),
        "\n".join(titles),
        "\n".join(kinds),
        "\n".join(bases),
        "\n".join(bodies),
        "\n".join(triggers),
        "\n".join(excluded),
        "\n".join(advisories),
        str(d.get("query_id") or ""),
        at,
    ]


def _safe(cells: list[str]) -> list[str]:
    """Cells a spreadsheet shows as text: formulas from untrusted text are neutralised."""
    out = []
    for cell in cells:
        if cell.startswith(_FORMULA) and not _number(cell):
            cell = "'" + cell
        out.append(cell)
    return out


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
