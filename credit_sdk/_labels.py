"""What people read: Chinese first, English after, or either alone.

Every text a case officer reads (outcomes, bidder standings, reason codes, measure kinds,
supervision tiers, trigger sources) has a Chinese label (the regulation's term where it has
one) and an English one. ``lang`` picks what is shown:

* ``"zh-en"`` (the default): ``限制 restricted``, Chinese first;
* ``"zh"``: Chinese only, for the printed sheet of a Chinese desk;
* ``"en"``: English only.

The enum values and the JSON form never change with ``lang``: they are for machines. The tables
are keyed by the enums' string values, so this module imports nothing of the decision model.

>>> label(OUTCOME_LABELS, "RESTRICTED")
'限制 restricted'
>>> label(OUTCOME_LABELS, "RESTRICTED", "zh")
'限制'
>>> label(REASON_LABELS, "RECORD_EXPIRED", "en")
'publication period over'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from credit_sdk._errors import require_type

__all__ = [
    "BASIS_KIND_LABELS",
    "GROUND_LABELS",
    "KIND_LABELS",
    "LANGS",
    "LIST_KIND_LABELS",
    "LIST_LABELS",
    "OUTCOME_LABELS",
    "OUTCOME_MEANINGS",
    "PROVENANCE_LABELS",
    "REASON_LABELS",
    "ROLE_LABELS",
    "SOURCE_LABELS",
    "STANDING_LABELS",
    "TABLES",
    "TEXT_SEPARATOR",
    "TIER_LABELS",
    "Lang",
    "bilingual",
    "check_lang",
    "code_label",
    "label",
    "pair",
    "said",
    "shown",
]

#: ``zh``: Chinese only; ``en``: English only; ``zh-en``: both, Chinese first (the default).
Lang = Literal["zh", "en", "zh-en"]
LANGS: tuple[Lang, ...] = ("zh-en", "zh", "en")

#: Outcomes (:class:`~credit_sdk.Outcome`): the five words on the desk.
OUTCOME_LABELS: Mapping[str, tuple[str, str]] = {
    "CLEAR": ("通过", "clear"),
    "INCENTIVES": ("激励", "incentives"),
    "RESTRICTED": ("限制", "restricted"),
    "REVIEW": ("待复核", "review"),
    "INDETERMINATE": ("无法判定", "indeterminate"),
}

#: What each outcome means for the matter at hand.
OUTCOME_MEANINGS: Mapping[str, tuple[str, str]] = {
    "CLEAR": ("未发现需适用的措施", "no published measure applies"),
    "INCENTIVES": ("适用守信激励措施", "incentive measures apply"),
    "RESTRICTED": ("适用失信约束/惩戒措施", "restriction or punishment measures apply"),
    "REVIEW": ("存在异议信息，需人工复核", "a record under objection: a person must decide"),
    "INDETERMINATE": (
        "无法取得信用信息，不得视为无失信",
        "no usable credit data: never read as clear",
    ),
}

#: Bidder standings (:class:`~credit_sdk.adapters.procurement.BidderStanding`).
STANDING_LABELS: Mapping[str, tuple[str, str]] = {
    "excluded": ("排除", "excluded"),
    "review": ("待复核", "under review"),
    "indeterminate": ("无法判定", "indeterminate"),
    "admitted": ("准入", "admitted"),
}

#: Every :class:`~credit_sdk.ReasonCode` (a test fails when a code has no label here).
REASON_LABELS: Mapping[str, tuple[str, str]] = {
    "APPLIED": ("已适用", "applied"),
    "RECORD_EXPIRED": ("公示期限届满", "publication period over"),
    "RECORD_REPAIRED": ("已完成信用修复", "credit repaired"),
    "RECORD_REVOKED": ("认定依据已撤销或变更", "basis revoked, annulled or changed"),
    "RECORD_CORRECTED": ("异议或申辩成立，已更正", "objection or statement upheld"),
    "RECORD_DISPUTED": ("异议处理中", "objection pending"),
    "RECORD_NOT_YET_EFFECTIVE": ("核查日尚未生效", "not yet in effect on the check date"),
    "MEMBERSHIP_REMOVED": ("已移出名单", "removed from the list"),
    "EXCLUDED_MINOR_PENALTY": (
        "轻微违法行政处罚，不作为失信信息",
        "minor administrative penalty, not dishonesty",
    ),
    "NO_EFFECTIVE_BASIS": ("无生效法律文书", "no effective legal document"),
    "REMINDER_ONLY": ("轻微并已改正，仅予提醒", "minor and corrected: a reminder only"),
    "NOT_RELATED": ("与本场景无关联措施", "no published measure relates it to this scenario"),
    "INFORMATION_ONLY": ("一般信息，不触发措施", "information only"),
    "WITHHELD_AT_SUBJECT_REQUEST": ("应主体申请不予公示", "withheld at the subject's request"),
    "MEASURE_UNPUBLISHED": ("措施未公布或未生效", "measure not published or not in force"),
    "NOT_TARGETED": ("不属于措施对象", "not among the measure's targets"),
    "OUTSIDE_CATALOGUE": ("不在目录范围内", "outside the catalogue"),
    "POINTS_BELOW_THRESHOLD": ("诚信积分未达标准", "integrity points below the threshold"),
    "INCENTIVE_SUPPRESSED_BY_DISHONESTY": (
        "存在失信信息，不予激励",
        "incentive withheld: dishonesty on record",
    ),
    "HELD_FOR_REVIEW": ("待复核", "held for review"),
    "VOLUNTARY_MEASURE": ("自愿实施措施，仅供参考", "voluntary measure, for information"),
    "PERIOD_OUT_OF_RANGE": ("期限超出法定范围", "period outside the legal range"),
    "TERM_NOT_STATED": ("名单决定未载明期限", "the listing decision states no term"),
    "ENTITY_TYPE_UNKNOWN": ("无法确定主体类型", "the kind of body cannot be told"),
    "SEVERE_NOT_MINOR": (
        "严重失信不属于轻微失信，不予免除",
        "severe dishonesty is not minor: no exemption",
    ),
    "PROHIBITED_FIELDS_DROPPED": ("已剔除禁止采集的信息", "prohibited fields dropped"),
    "STALE_DATA": ("依据缓存数据判定", "decided on cached data"),
    "PLATFORM_UNAVAILABLE": ("信用信息平台不可用", "credit platform unavailable"),
    "COMMITMENT_ALLOWED": ("可以适用信用承诺", "commitment route open"),
    "SEVERE_DISHONESTY": ("严重失信", "severe dishonesty"),
    "FALSE_COMMITMENT": ("虚假承诺", "false commitment"),
}

#: Measure kinds (:class:`~credit_sdk.MeasureKind` values).
KIND_LABELS: Mapping[str, tuple[str, str]] = {
    "incentive": ("守信激励", "incentive"),
    "restriction": ("失信约束", "restriction"),
    "punishment": ("失信惩戒", "punishment"),
}

#: Supervision tiers (Art. 32).
TIER_LABELS: Mapping[str, tuple[str, str]] = {
    "low": ("信用较好、风险较低", "low risk"),
    "normal": ("信用风险一般", "normal risk"),
    "high": ("违法失信、风险较高", "high risk"),
    "unknown": ("无法判定", "not determinable"),
}

#: Where a triggering item comes from (``TriggerRef.source``).
SOURCE_LABELS: Mapping[str, tuple[str, str]] = {
    "record": ("信用记录", "record"),
    "membership": ("名单", "list entry"),
    "linked_party": ("关联主体名单", "list entry of a linked organisation"),
    "commitment": ("信用承诺", "commitment"),
    "integrity_points": ("诚信积分", "integrity points"),
}

#: Grounds of a measure (:class:`~credit_sdk.Ground` values).
GROUND_LABELS: Mapping[str, tuple[str, str]] = {
    "severe_dishonesty": ("严重失信", "severe dishonesty"),
    "judgment_defaulter": ("失信被执行人", "judgment defaulter"),
    "dishonesty": ("失信", "dishonesty"),
    "red_list": ("守信激励对象", "red list"),
    "commendation": ("守信表彰", "commendation"),
    "false_commitment": ("虚假承诺", "false commitment"),
    "integrity_points": ("诚信积分", "integrity points"),
}

#: The named list (名单) a list entry of each ground is on.
LIST_LABELS: Mapping[str, tuple[str, str]] = {
    "severe_dishonesty": ("严重失信主体名单", "severe dishonesty list"),
    "judgment_defaulter": ("失信被执行人名单", "judgment defaulter list"),
    "red_list": ("守信激励对象名单", "red list"),
}

#: Art. 45 roles of a natural person in a market entity.
ROLE_LABELS: Mapping[str, tuple[str, str]] = {
    "subject": ("本主体", "the subject itself"),
    "legal_representative": ("法定代表人", "legal representative"),
    "principal": ("主要负责人", "principal"),
    "actual_controller": ("实际控制人", "actual controller"),
    "directly_responsible_person": ("直接责任人", "directly responsible person"),
}

#: Kinds of the effective legal document a finding rests on.
BASIS_KIND_LABELS: Mapping[str, tuple[str, str]] = {
    "judgment": ("司法裁判文书", "judgment"),
    "arbitral_award": ("仲裁文书", "arbitral award"),
    "administrative_penalty_decision": ("行政处罚决定书", "administrative penalty decision"),
    "administrative_ruling": ("行政裁决", "administrative ruling"),
    "administrative_decision": ("行政决定文书", "administrative decision"),
    "severe_list_decision": ("严重失信主体名单书面决定", "severe-list decision"),
    "court_defaulter_decision": ("纳入失信被执行人名单决定书", "court defaulter decision"),
    "other_legal_document": ("其他具有法律效力的文书", "other legal document"),
}

#: Kinds of measure list (:class:`~credit_sdk.ListKind` values, Art. 39).
LIST_KIND_LABELS: Mapping[str, tuple[str, str]] = {
    "punishment_basic": ("全国失信惩戒措施基础清单", "national basic punishment list"),
    "punishment_supplementary": ("本省失信惩戒措施补充清单", "provincial supplementary list"),
    "restriction": ("失信约束措施清单", "restriction list"),
    "incentive": ("守信激励措施清单", "incentive list"),
}

#: Where a measure list's text comes from (``provenance.status``).
PROVENANCE_LABELS: Mapping[str, tuple[str, str]] = {
    "official": ("官方发布文本", "official"),
    "official_partial_transcription": ("官方文本部分转录", "official, partly transcribed"),
    "reference": ("参考文本", "reference"),
    "sample": ("样例，非官方", "sample"),
}


#: The tables :func:`code_label` reads, by the kind of code.
TABLES: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "outcome": OUTCOME_LABELS,
    "outcome_meaning": OUTCOME_MEANINGS,
    "standing": STANDING_LABELS,
    "reason": REASON_LABELS,
    "kind": KIND_LABELS,
    "tier": TIER_LABELS,
    "source": SOURCE_LABELS,
    "ground": GROUND_LABELS,
    "list": LIST_LABELS,
    "role": ROLE_LABELS,
    "basis_kind": BASIS_KIND_LABELS,
    "list_kind": LIST_KIND_LABELS,
    "provenance": PROVENANCE_LABELS,
}


def code_label(kind: str, code: str, lang: Lang = "zh-en") -> str:
    """The label people read for a machine code: ``code_label("outcome", "RESTRICTED")`` is
    ``"限制 restricted"``; ``kind`` is one of ``outcome``, ``outcome_meaning``, ``standing``,
    ``reason``, ``kind`` (measure kind), ``tier``, ``source``, ``ground``, ``list``, ``role``,
    ``basis_kind``, ``list_kind``, ``provenance`` (of a measure list). A code the table does
    not know (a newer platform's) shows as itself.

    >>> code_label("reason", "RECORD_EXPIRED", "zh")
    '公示期限届满'
    """
    require_type(kind, str, "kind")
    require_type(code, str, "code")
    table = TABLES.get(kind)
    if table is None:
        raise ValueError(f"kind must be one of {', '.join(TABLES)}")
    return label(table, code, check_lang(lang))


def check_lang(lang: object) -> Lang:
    """``lang`` itself when it is one of :data:`LANGS`; else a ``ValueError`` naming them."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    return lang  # type: ignore[return-value,unused-ignore]  # narrowed by the test above


def bilingual(zh: str, en: str, lang: Lang = "zh-en") -> str:
    """``zh`` and ``en`` as ``lang`` wants them: ``"限制 restricted"``, ``"限制"`` or
    ``"restricted"``.

    >>> bilingual("查询编号", "Query id", "zh")
    '查询编号'
    """
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    return f"{zh} {en}"


def label(table: Mapping[str, tuple[str, str]], key: str, lang: Lang = "zh-en") -> str:
    """The label of ``key`` in ``table``; a key the table does not know shows as itself (a
    newer platform's code must not break a printout)."""
    found = table.get(key)
    return key if found is None else bilingual(found[0], found[1], lang)


pair = bilingual  # the short name the renderers use


#: Between the Chinese and the English half of a text the engine writes once for every ``lang``
#: (an exclusion's ``detail``, an advisory's ``message``). A full-width bar, which neither half
#: uses, so a renderer can split the text again.
TEXT_SEPARATOR = " ｜ "


def said(zh: str, en: str) -> str:
    """A text stored once and read in any ``lang``: Chinese first, then English, joined by
    :data:`TEXT_SEPARATOR`. Article references go in both halves, so each reads alone.

    >>> said("异议处理中（Art. 53）", "objection pending (Art. 53)")
    '异议处理中（Art. 53） ｜ objection pending (Art. 53)'
    """
    return f"{zh}{TEXT_SEPARATOR}{en}"


def shown(text: str, lang: Lang = "zh-en") -> str:
    """The half of a :func:`said` text that ``lang`` wants (both for ``zh-en``); a text with no
    separator (a platform's, an older SDK's) shows whole in every ``lang``.

    >>> shown(said("异议处理中", "objection pending"), "en")
    'objection pending'
    >>> shown("a platform's own words", "zh")
    "a platform's own words"
    """
    zh, sep, en = text.partition(TEXT_SEPARATOR)
    if not sep or lang == "zh-en":
        return text
    return zh if lang == "zh" else en
