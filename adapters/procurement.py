"""Procurement workflow (政府采购、招标投标、公共资源交易): screen every bidder of a tender at once.

For bidding platforms at the Art. 27(2) decision point. :func:`screen_tender` (or
:func:`ascreen_tender`) checks all bidders in one batch (``check_many``, one query-log record
per bidder) and sorts them for the procurement file:

* **excluded** (排除): an Art. 42(3) measure that limits participation applies (限制参加政府
  采购、政府投资项目招标投标和公共资源交易), with its legal basis (设定依据), implementing body
  (实施主体) and the record that triggered it;
* **score adjustments** (评审分值调整): bonus points (Art. 40(2), 加分) or deductions (Art. 42(3),
  减分) from the measures' ``score_adjustment``, each with its legal basis;
* **under review** (待复核): a measure rests on a record under objection (Art. 53): a person
  decides; never read as clear;
* **indeterminate** (无法判定): no usable credit data (platform down, invalid identifier...):
  never read as clear either;
* **admitted** (准入): nothing bars the bidder (adjustments and other measures may still apply,
  e.g. Art. 41(3) enhanced qualification review).

The :class:`TenderScreening` renders a summary for the procurement file (``render()``, Chinese
legal terms kept) and a JSON form (``to_dict()``); bidders appear under the platform's own
labels and masked identifiers only. Each :class:`BidderScreening` carries its
:class:`~credit_sdk.Decision`, so feedback (Art. 46) refers to the logged query.

>>> from credit_sdk.adapters.procurement import Bidder, screen_tender
>>> screening = screen_tender(client, "HLJ-ZB-2026-0318",
...     [Bidder("A", "91230100MA1C2X3Y48"), Bidder("B", "91230103MA1EXA05X3")],
...     ctx, scenario="bidding")                                         # doctest: +SKIP
>>> [b.label for b in screening.excluded]                               # doctest: +SKIP
['A']
>>> print(screening.render())                                           # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from credit_sdk import (
    AppliedMeasure,
    AsyncCreditClient,
    Authorization,
    CheckResult,
    CreditClient,
    Decision,
    Identifier,
    InvalidQuery,
    Lang,
    Outcome,
    QueryContext,
    QueryLog,
    Scenario,
    ScenarioFamily,
    bilingual,
    code_label,
    decisions_csv,
    parse_identifier,
    verification_sheet,
)

from ._common import plain_text

__all__ = [
    "Bidder",
    "BidderScreening",
    "BidderStanding",
    "TenderScreening",
    "ascreen_tender",
    "screen_tender",
]


class BidderStanding(StrEnum):
    """Where a bidder stands after screening. Only ``ADMITTED`` may be read as clear."""

    EXCLUDED = "excluded"
    REVIEW = "review"
    INDETERMINATE = "indeterminate"
    ADMITTED = "admitted"


@dataclass(frozen=True, slots=True)
class Bidder:
    """A bidder as the tender knows it: the platform's own label and the identifier.

    The label names the bidder in results and in the procurement file (e.g. ``"投标人A"`` or
    the bid number); it may not contain an identifier, which only ever appears masked.
    """

    label: str
    subject: str | Identifier

    def __repr__(self) -> str:
        masked = _masked(self.subject)
        return f"Bidder({self.label!r}, {masked})"


@dataclass(frozen=True, slots=True)
class BidderScreening:
    """One bidder's screening: standing, the measures behind it, and the decision.

    ``exclusions``: Art. 42(3) measures that limit participation; ``score_adjustments``:
    measures with a score adjustment (bonus or deduction); ``other_measures``: restrictions
    and incentives that neither exclude nor score (e.g. Art. 41(3) enhanced review);
    ``held_for_review``: measures resting on records under objection. ``error`` names why a
    bidder could not be checked (no decision then).
    """

    label: str
    subject: str | None
    standing: BidderStanding
    decision: Decision | None
    exclusions: tuple[AppliedMeasure, ...] = ()
    score_adjustments: tuple[AppliedMeasure, ...] = ()
    other_measures: tuple[AppliedMeasure, ...] = ()
    held_for_review: tuple[AppliedMeasure, ...] = ()
    error: str | None = None

    def __repr__(self) -> str:
        return f"BidderScreening({self.label!r}, {self.subject}, {self.standing.value})"

    @property
    def score_total(self) -> float:
        """The sum of the score adjustments (positive: bonus, negative: deduction)."""
        return float(sum(m.score_adjustment or 0.0 for m in self.score_adjustments))

    @property
    def query_id(self) -> str | None:
        return self.decision.query_id if self.decision is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "subject": self.subject,
            "standing": self.standing.value,
            "outcome": self.decision.outcome.value if self.decision is not None else None,
            "query_id": self.query_id,
            "exclusions": [m.to_dict() for m in self.exclusions],
            "score_adjustments": [m.to_dict() for m in self.score_adjustments],
            "score_total": self.score_total,
            "other_measures": [m.to_dict() for m in self.other_measures],
            "held_for_review": [m.to_dict() for m in self.held_for_review],
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class TenderScreening:
    """Every bidder of one tender, screened at one Art. 27(2) decision point."""

    tender_id: str
    scenario: Scenario
    screened_on: dt.date
    bidders: tuple[BidderScreening, ...]

    def __repr__(self) -> str:
        counts = ", ".join(f"{s.value}={len(self._with(s))}" for s in BidderStanding)
        return f"TenderScreening({self.tender_id!r}, {self.scenario.value}, {counts})"

    @property
    def excluded(self) -> tuple[BidderScreening, ...]:
        return self._with(BidderStanding.EXCLUDED)

    @property
    def under_review(self) -> tuple[BidderScreening, ...]:
        return self._with(BidderStanding.REVIEW)

    @property
    def indeterminate(self) -> tuple[BidderScreening, ...]:
        return self._with(BidderStanding.INDETERMINATE)

    @property
    def admitted(self) -> tuple[BidderScreening, ...]:
        return self._with(BidderStanding.ADMITTED)

    @property
    def complete(self) -> bool:
        """True when every bidder has a final standing (none under review or indeterminate):
        only then may the evaluation go on without a person looking at the screening."""
        return not self.under_review and not self.indeterminate

    @property
    def decisions(self) -> tuple[Decision, ...]:
        return tuple(b.decision for b in self.bidders if b.decision is not None)

    def bidder(self, label: str) -> BidderScreening:
        """The screening of the bidder with this label (``KeyError`` when there is none)."""
        for b in self.bidders:
            if b.label == label:
                return b
        raise KeyError(label)

    def _with(self, standing: BidderStanding) -> tuple[BidderScreening, ...]:
        return tuple(b for b in self.bidders if b.standing is standing)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary for the procurement file (identifiers masked)."""
        return {
            "tender_id": self.tender_id,
            "scenario": self.scenario.value,
            "article": f"Art. {self.scenario.article_item}",
            "screened_on": self.screened_on.isoformat(),
            "complete": self.complete,
            "counts": {s.value: len(self._with(s)) for s in BidderStanding},
            "bidders": [b.to_dict() for b in self.bidders],
        }

    def to_html(self, lang: Lang = "zh-en", *, log: QueryLog | None = None) -> str:
        """The printable verification sheet (联合奖惩核查单) of the whole tender: one
        self-contained A4 HTML document, Chinese first, with a section per bidder (label,
        standing, masked subject, every measure with its content, legal basis, implementing
        body and trigger, every exclusion with its reason) and, given the query ``log``, each
        query's position in its hash chain. See :func:`~credit_sdk.verification_sheet`.

        >>> Path("tender.html").write_text(screening.to_html(log=log), encoding="utf-8")
        ... # doctest: +SKIP
        """
        zh = lang != "en"
        counts = ("，" if zh else ", ").join(
            f"{code_label('standing', s.value, 'zh' if zh else 'en')} {len(self._with(s))}"
            for s in BidderStanding
        )
        facts = [
            (bilingual("项目编号", "Tender", lang), self.tender_id),
            (
                bilingual("应用场景", "Scenario", lang),
                f"{bilingual(self.scenario.label_zh, self.scenario.value, lang)} "
                f"(Art. {self.scenario.article_item})",
            ),
            (bilingual("核查日期", "Screened", lang), self.screened_on.isoformat()),
            (bilingual("投标人", "Bidders", lang), f"{len(self.bidders)}（{counts}）"),
        ]
        headings, notes = [], []
        for n, b in enumerate(self.bidders, 1):
            standing = code_label("standing", b.standing.value, lang)
            heading = f"{n}. {b.label} — {standing}"
            if b.score_adjustments:
                heading += f"（{bilingual('评审分值调整', 'score', lang)} {b.score_total:+g}）"
            headings.append(heading)
            error = b.error if b.decision is None else None
            notes.append(
                f"{bilingual('未能核查', 'Not checked', lang)}: {error}" if error else None
            )
        title = bilingual(
            f"招标投标信用核查 {self.tender_id}", f"Tender credit screening {self.tender_id}", lang
        )
        return verification_sheet(
            [b.decision for b in self.bidders],
            lang=lang,
            log=log,
            title=title,
            facts=facts,
            headings=headings,
            notes=notes,
        )

    def to_csv(self, lang: Lang = "zh-en") -> str:
        """The screening as CSV a desk opens in Excel: UTF-8 with a BOM, Chinese headers, a row
        per bidder with its label, standing, score total, and each measure's title, legal
        basis, implementing body and trigger (see :func:`~credit_sdk.decisions_csv`). Write it
        with ``Path(...).write_text(text, encoding="utf-8", newline="")``."""
        return decisions_csv(
            [b.decision for b in self.bidders],
            lang=lang,
            columns={
                bilingual("项目编号", "Tender", lang): [self.tender_id] * len(self.bidders),
                bilingual("投标人", "Bidder", lang): [b.label for b in self.bidders],
                bilingual("投标资格", "Standing", lang): [
                    code_label("standing", b.standing.value, lang) for b in self.bidders
                ],
                bilingual("评审分值调整", "Score adjustment", lang): [
                    f"{b.score_total:+g}" if b.score_adjustments else "" for b in self.bidders
                ],
            },
            notes=[b.error if b.decision is None else None for b in self.bidders],
        )

    def render(self, lang: Lang = "zh-en") -> str:
        """The tender-level summary a procurement officer files: Chinese first (``lang``:
        ``"zh-en"``, ``"zh"`` or ``"en"``), each measure with its legal basis, implementing
        body and what triggered it."""
        zh = lang != "en"
        counts = ("，" if zh else ", ").join(
            f"{code_label('standing', s.value, 'zh' if zh else 'en')} {len(self._with(s))}"
            for s in BidderStanding
        )
        lines = [
            bilingual("招标投标信用核查汇总", "Tender credit screening", lang),
            f"  {bilingual('项目编号', 'Tender', lang)}: {self.tender_id}",
            f"  {bilingual('应用场景', 'Scenario', lang)}: "
            f"{bilingual(self.scenario.label_zh, self.scenario.value, lang)} "
            f"(Art. {self.scenario.article_item})",
            f"  {bilingual('核查日期', 'Screened', lang)}: {self.screened_on.isoformat()}",
            f"  {bilingual('投标人', 'Bidders', lang)}: {len(self.bidders)}"
            + (f"（{counts}）" if zh else f" ({counts})"),
        ]
        if not self.complete:
            lines.append(
                f"  {bilingual('注意', 'Attention', lang)}: "
                + bilingual(
                    "存在待复核或无法判定的投标人，不得视为无失信记录",
                    "bidders under review or indeterminate: a person decides before evaluation",
                    lang,
                )
            )
        for n, b in enumerate(self.bidders, 1):
            lines.append("")
            invalid = bilingual("标识无效", "invalid identifier", lang)
            lines.append(f"{n}. {b.label}  {b.subject or f'({invalid})'}")
            lines.append(
                f"   {bilingual('结论', 'Standing', lang)}: "
                f"{code_label('standing', b.standing.value, lang)}"
            )
            if b.error:
                lines.append(f"   {bilingual('原因', 'Reason', lang)}: {b.error}")
            for m in b.exclusions:
                lines.append(
                    f"   {bilingual('排除依据', 'Exclusion', lang)}: {m.title} "
                    f"[{m.measure_id}; {_article(m)}]"
                )
                _details(lines, m, lang)
            for m in b.score_adjustments:
                sign = (
                    bilingual("加分", "bonus", lang)
                    if (m.score_adjustment or 0) > 0
                    else bilingual("减分", "deduction", lang)
                )
                lines.append(
                    f"   {bilingual('评审分值调整', 'Score', lang)}: {m.score_adjustment:+g} "
                    f"({sign}) {m.title} [{m.measure_id}; {_article(m)}]"
                )
                _details(lines, m, lang)
            for m in b.other_measures:
                lines.append(
                    f"   {bilingual('其他措施', 'Other', lang)}: {m.title} "
                    f"[{m.measure_id}; {_article(m)}]"
                )
                _details(lines, m, lang)
            for m in b.held_for_review:
                lines.append(
                    f"   {bilingual('待复核（异议处理中）', 'Held for review', lang)} (Art. 53): "
                    f"{m.title} [{m.measure_id}]"
                )
                _details(lines, m, lang)
            if b.decision is not None:
                lines.append(f"   {bilingual('查询编号', 'Query id', lang)}: {b.decision.query_id}")
        return "\n".join(lines)


def _article(m: AppliedMeasure) -> str:
    parts = m.range_item.split(".")
    text = f"Art. {parts[0]}" + (f"({parts[1]})" if len(parts) > 1 else "")
    return text + (parts[2] if len(parts) > 2 else "")


def _details(lines: list[str], m: AppliedMeasure, lang: Lang) -> None:
    lines.append(f"      {bilingual('设定依据', 'Legal basis', lang)}: {'；'.join(m.legal_basis)}")
    lines.append(f"      {bilingual('实施主体', 'Implementing body', lang)}: {m.implementing_body}")
    lines += [
        f"      {bilingual('触发信息', 'Triggered by', lang)}: {t.describe(lang)}"
        for t in m.triggered_by
    ]


# --- screening ----------------------------------------------------------------------------------


def screen_tender(
    client: CreditClient,
    tender_id: str,
    bidders: Sequence[Bidder | str | Identifier],
    ctx: QueryContext,
    *,
    scenario: Scenario | str = Scenario.BIDDING,
    authorizations: Mapping[str, Authorization] | None = None,
    as_of: dt.date | None = None,
    progress: Callable[[int, int, int], object] | None = None,
) -> TenderScreening:
    """Screen every bidder of a tender in one batch (Art. 27(2), 40(2), 42(3)).

    ``scenario`` is one of the Art. 27(2) scenarios: ``government_procurement`` (政府采购),
    ``bidding`` (政府投资项目招标投标, the default) or ``public_resource_trading``. Bidders
    are :class:`Bidder` (label and identifier) or bare identifiers (labelled ``投标人1``,
    ``投标人2``...). An invalid identifier or a platform failure makes only that bidder
    ``INDETERMINATE``; an ``AuditError`` (the query log cannot be written) fails the whole call.
    ``progress(done, total, failures)`` is passed to ``check_many`` (called after each logged
    round of bidders).

    >>> screening = screen_tender(client, "HLJ-ZB-2026-0318", bidders, ctx)  # doctest: +SKIP
    """
    scen, entries = _prepare(tender_id, bidders, scenario)
    results = client.check_many(
        [b.subject for b in entries],
        scen,
        ctx,
        authorizations=authorizations,
        as_of=as_of,
        progress=progress,
    )
    return _screening(tender_id, scen, entries, results, as_of)


async def ascreen_tender(
    client: AsyncCreditClient,
    tender_id: str,
    bidders: Sequence[Bidder | str | Identifier],
    ctx: QueryContext,
    *,
    scenario: Scenario | str = Scenario.BIDDING,
    authorizations: Mapping[str, Authorization] | None = None,
    as_of: dt.date | None = None,
    progress: Callable[[int, int, int], object] | None = None,
) -> TenderScreening:
    """Async twin of :func:`screen_tender`.

    >>> screening = await ascreen_tender(client, "HLJ-ZB-2026-0318", bidders, ctx)  # doctest: +SKIP
    """
    scen, entries = _prepare(tender_id, bidders, scenario)
    results = await client.check_many(
        [b.subject for b in entries],
        scen,
        ctx,
        authorizations=authorizations,
        as_of=as_of,
        progress=progress,
    )
    return _screening(tender_id, scen, entries, results, as_of)


def _prepare(
    tender_id: str, bidders: Sequence[Bidder | str | Identifier], scenario: Scenario | str
) -> tuple[Scenario, list[Bidder]]:
    scen = Scenario.parse(scenario)
    if scen.family is not ScenarioFamily.PROCUREMENT:
        raise InvalidQuery(
            "a tender is screened at an Art. 27(2) scenario (government_procurement, bidding, "
            f"public_resource_trading), not {scen.value!r}",
            rule="scenario",
        )
    _plain_text(tender_id, "tender_id")
    if isinstance(bidders, str | Identifier) or not bidders:
        raise InvalidQuery("a tender needs a sequence of at least one bidder", rule="bidders")
    entries = [
        b if isinstance(b, Bidder) else Bidder(f"投标人{n}", b) for n, b in enumerate(bidders, 1)
    ]
    labels = [_plain_text(b.label, "bidder label").strip() for b in entries]
    if len(set(labels)) != len(labels):
        raise InvalidQuery("bidder labels must be unique within a tender", rule="bidders")
    return scen, entries


def _screening(
    tender_id: str,
    scenario: Scenario,
    entries: Sequence[Bidder],
    results: Sequence[CheckResult],
    as_of: dt.date | None,
) -> TenderScreening:
    # The date the decisions were made on (the client's today unless as_of was given).
    dates = [r.decision.provenance.as_of for r in results if r.decision is not None]
    screened_on = as_of or (dates[0] if dates else dt.date.today())
    return TenderScreening(
        tender_id=tender_id.strip(),
        scenario=scenario,
        screened_on=screened_on,
        bidders=tuple(_bidder(b.label.strip(), r) for b, r in zip(entries, results, strict=True)),
    )


def _bidder(label: str, result: CheckResult) -> BidderScreening:
    decision = result.decision
    if decision is None:
        err = result.error
        reason = f"{type(err).__name__}: {err}" if err is not None else "no decision"
        return BidderScreening(label, result.subject, BidderStanding.INDETERMINATE, None,
                               error=reason)  # fmt: skip
    exclusions = tuple(m for m in decision.restrictions if _excludes(m))
    scored = tuple(m for m in decision.measures if m.score_adjustment is not None)
    others = tuple(m for m in decision.measures if m not in exclusions and m not in scored)
    if decision.outcome is Outcome.INDETERMINATE:
        standing = BidderStanding.INDETERMINATE
    elif exclusions:
        # An undisputed exclusion stands even when other measures wait for review.
        standing = BidderStanding.EXCLUDED
    elif decision.outcome is Outcome.REVIEW or decision.held_for_review:
        standing = BidderStanding.REVIEW
    else:
        standing = BidderStanding.ADMITTED
    error = None
    if standing is BidderStanding.INDETERMINATE:
        error = "; ".join(a.message for a in decision.advisories) or "no usable credit data"
    return BidderScreening(
        label=label,
        subject=decision.subject,
        standing=standing,
        decision=decision,
        exclusions=exclusions,
        score_adjustments=scored,
        other_measures=others,
        held_for_review=tuple(decision.held_for_review),
        error=error,
    )


def _excludes(m: AppliedMeasure) -> bool:
    # Art. 42(3) holds two kinds of measure: limits on participation (限制参加), which exclude,
    # and deductions or lower grades (减分、降低等次), which carry a score adjustment instead.
    in_item = m.range_item == "42.3" or m.range_item.startswith("42.3.")
    return in_item and m.score_adjustment is None


# --- small shared checks ------------------------------------------------------------------------


def _masked(subject: str | Identifier) -> str:
    if isinstance(subject, Identifier):
        return subject.masked
    try:
        return parse_identifier(subject).masked
    except ValueError:
        return "(invalid identifier)"


def _plain_text(value: object, what: str) -> str:
    return plain_text(value, what, "the tender's own references")
