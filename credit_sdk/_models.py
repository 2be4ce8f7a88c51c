"""The credit report (公共信用报告) and its parts: the core of the platform contract.

A report is what the credit platform returns for one credit subject (信用主体). The engine reads
it; nothing here decides anything. Values are frozen. Unknown fields are tolerated (a newer
platform may send more) but wrong types are rejected, and fields that Art. 20 prohibits are
dropped and listed in :attr:`CreditReport.prohibited_fields_dropped`, never kept.

>>> report = CreditReport.model_validate_json(open(sample_report_path("severe_list")).read())
... # doctest: +SKIP
>>> report.subject.kind
... # doctest: +SKIP

Example reports for every state the engine distinguishes ship in ``credit_sdk/data/reports/``
(see :func:`sample_report_path`) and are documented in ``docs/report-format.md``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from credit_sdk._data import DATA_DIR
from credit_sdk._errors import ReportError
from credit_sdk._identifiers import Identifier, IdentifierKind
from credit_sdk._periods import is_open_ended
from credit_sdk._privacy import PROHIBITED_KEYS, PersonalText, drop_prohibited_fields

__all__ = [
    "BasisDocument",
    "BasisDocumentKind",
    "Commitment",
    "CommitmentStatus",
    "Consequence",
    "CreditRecord",
    "CreditReport",
    "EntityType",
    "Evaluation",
    "EvaluationKind",
    "IntegrityPoints",
    "LinkedParty",
    "LinkedRole",
    "ListMembership",
    "ListType",
    "MembershipStatus",
    "Objection",
    "ObjectionStatus",
    "Penalty",
    "RecordKind",
    "RecordStatus",
    "RemovalReason",
    "RiskLevel",
    "Subject",
    "SubjectKind",
    "sample_report_path",
]

_CONFIG = ConfigDict(
    frozen=True,
    extra="ignore",
    # Error messages must never echo an identifier or a personal field back.
    hide_input_in_errors=True,
    # Schemas are built on first use, not at import: `import credit_sdk` stays cheap.
    defer_build=True,
    str_strip_whitespace=True,
)


class _TextPlaceholder:
    """What a repr shows in place of platform text: its length, never its characters."""

    __slots__ = ("_length",)

    def __init__(self, text: str) -> None:
        self._length = len(text)

    def __repr__(self) -> str:
        return f"<text: {self._length} chars>"


# Values a repr shows as they are: booleans, numbers, dates, enum members (the SDK's vocabulary),
# masked identifiers and personal fields, and report models (which follow these rules in turn).
_SHOWN_TYPES = (bool, int, float, Decimal, dt.date, dt.time, dt.timedelta, Enum)


def _repr_safe(value: Any) -> Any:
    """``value`` as a repr may show it: platform text (any ``str`` that is no enum member, at any
    depth of a tuple or set) becomes a placeholder stating its length."""
    if value is None or isinstance(value, _SHOWN_TYPES):
        return value
    if isinstance(value, Identifier | PersonalText | _Value):
        return value  # masked, or a model that follows these rules in turn
    if isinstance(value, str):
        return _TextPlaceholder(value)
    if isinstance(value, tuple | list):
        return tuple(_repr_safe(v) for v in value)
    if isinstance(value, frozenset | set):
        return frozenset(_repr_safe(v) for v in value)
    return _TextPlaceholder(repr(value))  # an unforeseen type: nothing of it is shown


class _Value(BaseModel):
    """Base of the report models.

    ``repr`` and ``str`` (and so tracebacks and debug logs) show ids, enum values, dates,
    booleans and numbers; every other text the platform sent is untrusted and may be personal,
    so it shows only as ``<text: N chars>``, in nested models and tuples alike. Identifiers and
    personal fields show masked. A field whose text is an id the platform assigned is named in
    ``_repr_ids``; nothing else is shown verbatim.
    """

    model_config = _CONFIG

    #: Fields holding ids (or a fixed vocabulary) that a repr shows as they are.
    _repr_ids: ClassVar[frozenset[str]] = frozenset()

    def __repr_args__(self) -> Any:
        shown = self._repr_ids
        for name, value in super().__repr_args__():
            yield name, value if name in shown else _repr_safe(value)


class SubjectKind(StrEnum):
    """Kinds of credit subject (信用主体), Art. 3."""

    NATURAL_PERSON = "natural_person"  # 自然人
    LEGAL_PERSON = "legal_person"  # 法人
    UNINCORPORATED_ORGANISATION = "unincorporated_organisation"  # 非法人组织


class EntityType(StrEnum):
    """What kind of body a credit subject is, for matching a measure's target (惩戒对象, Art. 39).

    From the report (``subject.entity_type``) when the platform states it, else from the USCC's
    registration authority and institution type (GB 32100); unknown stays unknown (``None``).
    """

    NATURAL_PERSON = "natural_person"  # 自然人
    INDIVIDUAL_BUSINESS = "individual_business"  # 个体工商户 (a natural person, Art. 21; USCC 92)
    MARKET_ENTITY = "market_entity"  # 市场主体: enterprises, farmer cooperatives (USCC 91, 93)
    STATE_OWNED_ENTERPRISE = "state_owned_enterprise"  # 国有企业
    LARGE_ENTERPRISE = "large_enterprise"  # 大型企业
    FINANCIAL_INSTITUTION = "financial_institution"  # 金融机构
    STATE_ORGAN = "state_organ"  # 国家机关 (USCC 11)
    PUBLIC_INSTITUTION = "public_institution"  # 事业单位 (USCC 12, A1)
    SOCIAL_ORGANISATION = "social_organisation"  # 社会团体, 民办非企业单位, 基金会 (USCC 5x)
    OTHER_ORGANISATION = "other_organisation"  # law firms, religious venues, unions, collectives...


#: Entity types that are natural persons in law (Art. 21).
PERSON_TYPES = frozenset({EntityType.NATURAL_PERSON, EntityType.INDIVIDUAL_BUSINESS})
#: Market entities (市场主体): the bodies whose responsible persons Art. 45 reaches.
MARKET_TYPES = frozenset(
    {
        EntityType.MARKET_ENTITY,
        EntityType.STATE_OWNED_ENTERPRISE,
        EntityType.LARGE_ENTERPRISE,
        EntityType.FINANCIAL_INSTITUTION,
        EntityType.INDIVIDUAL_BUSINESS,
    }
)

_O = EntityType.OTHER_ORGANISATION
# GB 32100 positions 1-2 (registration authority, institution type) -> entity type. "Y1" (其他)
# and anything not listed stay unknown.
_USCC_TYPES: dict[str, EntityType] = {
    "11": EntityType.STATE_ORGAN,
    "12": EntityType.PUBLIC_INSTITUTION,
    "13": _O,
    "19": _O,
    **dict.fromkeys(("21", "29", "31", "32", "33", "34", "35", "39", "41", "49"), _O),
    **dict.fromkeys(("61", "62", "69", "71", "72", "79", "81", "89"), _O),
    "51": EntityType.SOCIAL_ORGANISATION,
    "52": EntityType.SOCIAL_ORGANISATION,
    "53": EntityType.SOCIAL_ORGANISATION,
    "59": EntityType.SOCIAL_ORGANISATION,
    "91": EntityType.MARKET_ENTITY,
    "92": EntityType.INDIVIDUAL_BUSINESS,
    "93": EntityType.MARKET_ENTITY,
    "A1": EntityType.PUBLIC_INSTITUTION,
    "A9": _O,
    **dict.fromkeys(("N1", "N2", "N3", "N9"), _O),
}


def subject_kind_of(identifier: Identifier) -> SubjectKind:
    """The subject kind an identifier implies when nothing else says: a natural person for an ID
    number or other certificate, and for an individual business (个体工商户, USCC ``92...``),
    which is a natural person in law (Art. 21); otherwise a legal person. Every report the SDK
    builds for a subject it knows nothing about (the sandbox, ``MemoryProvider``) and every
    query-log record use this one rule, the same the report parser enforces."""
    if identifier.kind is not IdentifierKind.USCC or identifier.reveal()[:2] == "92":
        return SubjectKind.NATURAL_PERSON
    return SubjectKind.LEGAL_PERSON


def entity_type_of(identifier: Identifier) -> EntityType | None:
    """The entity type an identifier tells: a person's ID number says natural person; a USCC
    says what its registration-authority and institution-type codes say; else ``None``."""
    if identifier.kind is not IdentifierKind.USCC:
        return EntityType.NATURAL_PERSON
    return _USCC_TYPES.get(identifier.reveal()[:2])


class RecordKind(StrEnum):
    """What a credit record says about the subject."""

    DISHONESTY = "dishonesty"  # 失信信息 (Art. 37 last ¶)
    SEVERE_DISHONESTY = "severe_dishonesty"  # 严重失信信息 (Art. 37)
    COMMENDATION = "commendation"  # 守信信息 / 荣誉表彰 (Art. 19(2), 51 ¶1)
    ADMINISTRATIVE = (
        "administrative"  # neutral information: registration, permits (Art. 19(1), (4))
    )


class RecordStatus(StrEnum):
    ACTIVE = "active"
    REPAIRED = "repaired"  # 信用修复 completed (Art. 54)
    REVOKED = "revoked"  # basis revoked, annulled or changed (Art. 52 ¶3)
    ARCHIVED = "archived"  # publication ended, kept as archive (Art. 51 ¶3)


class BasisDocumentKind(StrEnum):
    """Documents that can ground a dishonesty finding (Art. 37 last ¶) or a listing (Art. 38)."""

    JUDGMENT = "judgment"  # 司法裁判文书
    ARBITRAL_AWARD = "arbitral_award"  # 仲裁文书
    ADMINISTRATIVE_PENALTY_DECISION = "administrative_penalty_decision"  # 行政处罚决定文书
    ADMINISTRATIVE_RULING = "administrative_ruling"  # 行政裁决
    ADMINISTRATIVE_DECISION = "administrative_decision"  # 其他行政行为决定文书
    SEVERE_LIST_DECISION = "severe_list_decision"  # 严重失信主体名单书面决定 (Art. 38 ¶1)
    COURT_DEFAULTER_DECISION = "court_defaulter_decision"  # 纳入失信被执行人名单决定书 (Art. 38 ¶2)
    OTHER_LEGAL_DOCUMENT = "other_legal_document"  # 其他具有法律效力的文书


class BasisDocument(_Value):
    """The effective legal document (生效法律文书) a finding rests on."""

    kind: BasisDocumentKind
    number: str = Field(min_length=1, description="文号, e.g. 哈市监罚〔2025〕118号")
    issuer: str = Field(min_length=1)
    issued_on: dt.date
    effective: bool = Field(description="whether the document has taken legal effect (生效)")
    effective_on: dt.date | None = None

    def effective_at(self, as_of: dt.date) -> bool:
        """True when the document had taken effect on ``as_of``."""
        if not self.effective:
            return False
        start = self.effective_on or self.issued_on
        return start <= as_of


class Penalty(_Value):
    """How an administrative penalty was imposed: decides Art. 19's exclusion of minor penalties."""

    _repr_ids = frozenset({"procedure"})

    procedure: str = Field(pattern="^(simple|general)$", description="简易程序 or 普通程序")
    minor_violation: bool = False  # 违法行为轻微
    first_offence: bool = False  # 初次违法
    minor_harm: bool = False  # 危害后果轻微
    harm_remedied: bool = False  # 主动消除或者减轻危害后果
    types: tuple[str, ...] = ()  # warning, fine, licence_revocation, ...

    @property
    def excluded_by_art19(self) -> bool:
        """Art. 19 last ¶: simple-procedure penalties, and minor or first offences whose harm
        was remedied, are not public credit information."""
        if self.procedure == "simple":
            return True
        if self.minor_violation and self.harm_remedied:
            return True
        return self.first_offence and self.minor_harm and self.harm_remedied


class Consequence(StrEnum):
    """Consequences that make publication long-term in the named domains (Art. 51 ¶2)."""

    CRIMINAL_LIABILITY = "criminal_liability"  # 被依法追究刑事责任
    LICENCE_REVOCATION = "licence_revocation"  # 吊销行政许可证件
    LIFETIME_MARKET_BAN = "lifetime_market_ban"  # 终身市场禁入


class ObjectionStatus(StrEnum):
    PENDING = "pending"  # 已异议标注, not yet decided
    UPHELD = "upheld"  # found wrong: corrected (Art. 53 ¶2)
    REJECTED = "rejected"  # no error: label removed


class Objection(_Value):
    """An objection (异议) to a record or listing, Art. 53."""

    _repr_ids = frozenset({"objection_id"})

    objection_id: str = Field(min_length=1)
    filed_on: dt.date
    labelled_on: dt.date | None = None
    status: ObjectionStatus = ObjectionStatus.PENDING
    decided_on: dt.date | None = None
    needs_assistance: bool = False  # 需要其他单位协助核查 (7 working days)

    def pending_at(self, as_of: dt.date) -> bool:
        if self.filed_on > as_of:
            return False
        if self.status is ObjectionStatus.PENDING:
            return True
        return self.decided_on is not None and self.decided_on > as_of

    def upheld_at(self, as_of: dt.date) -> bool:
        return (
            self.status is ObjectionStatus.UPHELD
            and (self.decided_on is None or self.decided_on <= as_of)
            and self.filed_on <= as_of
        )


class CreditRecord(_Value):
    """One piece of public credit information (公共信用信息) about the subject."""

    _repr_ids = frozenset({"record_id"})

    record_id: str = Field(min_length=1)
    kind: RecordKind
    category: str = Field(
        min_length=1, description="conduct category, e.g. bid_rigging, tax_evasion, food_safety"
    )
    domain: str | None = Field(
        default=None, description="sector, e.g. food_drug, work_safety, procurement, finance"
    )
    title: str = ""
    finding_date: dt.date = Field(description="认定之日: the date the conduct was found")
    continuing: bool = False  # 失信行为处于持续状态
    conduct_ended_on: dt.date | None = None  # 失信行为终止之日
    basis: BasisDocument | None = None
    penalty: Penalty | None = None
    consequences: frozenset[Consequence] = frozenset()
    publication_period_months: int | None = Field(
        default=None, ge=0, le=1200, description="公示期限 stated by the designating unit"
    )
    status: RecordStatus = RecordStatus.ACTIVE
    status_changed_on: dt.date | None = None  # repaired / revoked / archived on
    objection: Objection | None = None
    minor_and_corrected: bool = Field(
        default=False,
        description="Art. 43 ¶2: minor, occasional, corrected promptly, no social harm",
    )
    publication_declined: bool = Field(
        default=False, description="Art. 51 ¶1: the subject asked not to publish this honour"
    )
    provider: str | None = None  # 提供单位


class ListType(StrEnum):
    SEVERE_DISHONESTY = "severe_dishonesty"  # 严重失信主体名单 (Art. 37, 38 ¶1)
    JUDGMENT_DEFAULTER = "judgment_defaulter"  # 失信被执行人名单 (Art. 38 ¶2)
    RED_LIST = "red_list"  # 守信激励对象名单 (Art. 36, 38)


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"


class RemovalReason(StrEnum):
    REPAIRED = "repaired"  # 信用修复 (Art. 54)
    TERM_ENDED = "term_ended"  # 期限届满
    PERFORMED = "performed"  # obligations performed (court list)
    BASIS_REVOKED = "basis_revoked"  # Art. 52 ¶3
    OBJECTION_UPHELD = "objection_upheld"  # Art. 53
    STATEMENT_ACCEPTED = "statement_accepted"  # 陈述申辩 accepted (Art. 55)


class ListMembership(_Value):
    """The subject's entry on a named list (名单)."""

    _repr_ids = frozenset({"membership_id", "record_ids"})

    membership_id: str = Field(min_length=1)
    list_type: ListType
    listed_on: dt.date
    listing_body: str = Field(min_length=1)  # 认定单位
    decision: BasisDocument | None = None  # the written decision (书面决定), Art. 38
    category: str = "general"
    domain: str | None = None
    consequences: frozenset[Consequence] = frozenset()
    term_end: dt.date | None = Field(
        default=None,
        description="纳入期限: the last day of the listing term its decision states (Art. 38)",
    )
    term_open_ended: bool = Field(
        default=False,
        description="the decision states a term with no end (长期, or a 9999 sentinel date)",
    )
    minor_and_corrected: bool = Field(
        default=False,
        description="flagged minor and corrected (Art. 43 ¶2): inconsistent for a listing",
    )
    status: MembershipStatus = MembershipStatus.ACTIVE
    removed_on: dt.date | None = None
    removal_reason: RemovalReason | None = None
    objection: Objection | None = None
    record_ids: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _open_ended_term(cls, data: Any) -> Any:
        # "长期" or a sentinel such as 9999-12-31 means "no end": a typed meaning at parse time,
        # never date arithmetic on the sentinel.
        if isinstance(data, dict):
            term = data.get("term_end")
            if term is not None and is_open_ended(term):
                data = {**data, "term_end": None, "term_open_ended": True}
        return data

    @model_validator(mode="after")
    def _removal_consistent(self) -> ListMembership:
        if self.status is MembershipStatus.REMOVED and self.removal_reason is None:
            raise ValueError("a removed membership needs removal_reason")
        if self.term_open_ended and self.term_end is not None:
            raise ValueError("a term with no end (term_open_ended) cannot also state term_end")
        return self


class CommitmentStatus(StrEnum):
    PENDING_VERIFICATION = "pending_verification"  # within the Art. 30 two-month check
    FULFILLED = "fulfilled"
    UNFULFILLED = "unfulfilled"  # 未履行承诺
    FALSE = "false"  # 虚假承诺


class Commitment(_Value):
    """A credit commitment (信用承诺) and its performance, Art. 28–30."""

    _repr_ids = frozenset({"commitment_id"})

    commitment_id: str = Field(min_length=1)
    made_on: dt.date
    matter: str = ""
    status: CommitmentStatus = CommitmentStatus.PENDING_VERIFICATION
    found_on: dt.date | None = None  # when found false or unfulfilled
    repaired_on: dt.date | None = None  # 信用修复完成


class EvaluationKind(StrEnum):
    COMPREHENSIVE = "comprehensive"  # 公共信用综合评价 (Art. 31 ¶1)
    INDUSTRY = "industry"  # 行业信用评价 (Art. 31 ¶2)


class RiskLevel(StrEnum):
    """Supervision tiers of Art. 32."""

    LOW = "low"  # 信用较好、风险较低
    NORMAL = "normal"  # 信用风险一般
    HIGH = "high"  # 违法失信、风险较高


class Evaluation(_Value):
    _repr_ids = frozenset({"evaluation_id"})

    evaluation_id: str = Field(min_length=1)
    kind: EvaluationKind
    industry: str | None = None
    grade: str = Field(min_length=1)
    risk_level: RiskLevel
    evaluated_on: dt.date
    valid_until: dt.date | None = None
    evaluator: str = ""

    def valid_at(self, as_of: dt.date) -> bool:
        return self.evaluated_on <= as_of and (
            self.valid_until is None or as_of <= self.valid_until
        )


class LinkedRole(StrEnum):
    """Roles through which Art. 45 extends a market entity's severe listing to a person."""

    LEGAL_REPRESENTATIVE = "legal_representative"  # 法定代表人
    PRINCIPAL = "principal"  # 主要负责人
    ACTUAL_CONTROLLER = "actual_controller"  # 实际控制人
    DIRECTLY_RESPONSIBLE_PERSON = "directly_responsible_person"  # 影响债务履行的直接责任人


class LinkedParty(_Value):
    """An organisation in which the (natural-person) subject holds an Art. 45 role, with that
    organisation's list memberships."""

    organisation: Identifier
    organisation_name: str = ""
    organisation_entity_type: EntityType | None = None
    role: LinkedRole
    since: dt.date | None = None
    until: dt.date | None = None
    memberships: tuple[ListMembership, ...] = ()

    @property
    def resolved_entity_type(self) -> EntityType | None:
        """The organisation's entity type: as the report states it, else from its USCC."""
        return self.organisation_entity_type or entity_type_of(self.organisation)

    def held_during(self, start: dt.date, as_of: dt.date) -> bool:
        """Whether the role was held at some point between ``start`` and ``as_of``."""
        if self.since is not None and self.since > as_of:
            return False
        return self.until is None or self.until >= start


class IntegrityPoints(_Value):
    """A natural person's integrity points (诚信积分), Art. 47: they may feed incentives only."""

    scheme: str = Field(min_length=1)
    score: int
    assessed_on: dt.date
    level: str | None = None


class Subject(_Value):
    kind: SubjectKind
    identifier: Identifier
    name: PersonalText | None = None
    entity_type: EntityType | None = None

    @property
    def resolved_entity_type(self) -> EntityType | None:
        """The subject's entity type: as the report states it, else from its identifier
        (``None``: unknown)."""
        return self.entity_type or entity_type_of(self.identifier)

    @model_validator(mode="after")
    def _kind_matches_identifier(self) -> Subject:
        ident_kind = self.identifier.kind
        person = self.kind is SubjectKind.NATURAL_PERSON
        # An individual business (个体工商户, USCC 92...) is a natural person in civil law who
        # trades under a registered code; every other USCC names an organisation.
        individual_business = (
            ident_kind is IdentifierKind.USCC and self.identifier.reveal()[:2] == "92"
        )
        if ident_kind is IdentifierKind.USCC and person and not individual_business:
            raise ValueError(
                "a natural person is identified by an ID number, not a USCC (Art. 21); "
                "only individual businesses (92...) are natural persons with a USCC"
            )
        if individual_business and not person:
            raise ValueError(
                "an individual business (个体工商户, USCC 92...) is a natural person in law "
                "(Art. 21), not a legal person or organisation"
            )
        if self.entity_type is not None and (self.entity_type in PERSON_TYPES) != person:
            raise ValueError(
                "entity_type contradicts the subject kind: natural persons and individual "
                "businesses are natural persons, every other type an organisation (Art. 21)"
            )
        if ident_kind is not IdentifierKind.USCC and self.kind is not SubjectKind.NATURAL_PERSON:
            raise ValueError("organisations are identified by their USCC (Art. 21)")
        return self


class CreditReport(_Value):
    """A subject's public credit report (公共信用报告) as the platform returns it.

    Parse platform JSON with :meth:`CreditReport.parse` (raises :class:`~credit_sdk.ReportError`)
    or pydantic's ``model_validate_json``.
    """

    _repr_ids = frozenset({"report_id"})

    schema_version: str = "1"
    report_id: str = Field(min_length=1, max_length=128)
    generated_at: dt.datetime
    subject: Subject
    records: tuple[CreditRecord, ...] = ()
    list_memberships: tuple[ListMembership, ...] = ()
    commitments: tuple[Commitment, ...] = ()
    evaluations: tuple[Evaluation, ...] = ()
    linked_parties: tuple[LinkedParty, ...] = ()
    integrity_points: IntegrityPoints | None = None
    prohibited_fields_dropped: tuple[str, ...] = Field(
        default=(), description="JSON paths of Art. 20 prohibited fields removed while parsing"
    )

    @model_validator(mode="before")
    @classmethod
    def _screen_prohibited(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or info.context is _SCREENED:
            return data  # not an object (pydantic says so), or screened by parse() already
        return _screen(data)

    @field_validator("schema_version")
    @classmethod
    def _supported_version(cls, value: str) -> str:
        if value.split(".", 1)[0] != "1":
            raise ValueError("unsupported report schema_version; this SDK reads major version 1")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> CreditReport:
        seen: set[str] = set()
        for rec in self.records:
            if rec.record_id in seen:
                raise ValueError("duplicate record_id in report")
            seen.add(rec.record_id)
        return self

    # What the platform sent, kept by reference (never copied, never serialised) so that the
    # query log can record the report's digest and an archive can keep it: see
    # credit_sdk._replay.report_bytes.
    _received: str | bytes | dict[str, Any] | None = PrivateAttr(default=None)

    # The screened data a report was validated from (see parse()), kept until the report's
    # canonical bytes have been taken from it: credit_sdk._replay.report_bytes.
    _screened: dict[str, Any] | None = PrivateAttr(default=None)
    # The canonical bytes, once computed from data given as Python objects.
    _canonical: bytes | None = PrivateAttr(default=None)

    @classmethod
    def parse(cls, data: str | bytes | dict[str, Any]) -> CreditReport:
        """Validate platform data, raising :class:`~credit_sdk.ReportError` that names each bad
        field (never its value).

        The data is decoded within bounds (:mod:`credit_sdk._bounded`: depth, lengths, finite
        numbers, strict UTF-8, no duplicate keys; pydantic's own reader keeps the last of
        duplicated keys and accepts NaN), once, and screened once (Art. 20); the screened
        objects are what pydantic validates and what the report's digest is taken from, so
        nothing is decoded or screened twice between the platform's answer and the query log.
        The walk that checks the bounds also tells whether any prohibited field is present, so
        a report without one is not walked again by the screen.
        """
        from credit_sdk._bounded import check, load_flagged

        if isinstance(data, str | bytes | bytearray):
            plain, flagged = load_flagged(
                data, what="credit report", error=ReportError, screen=PROHIBITED_KEYS
            )
            return cls._from_decoded(plain, flagged, data)
        if isinstance(data, dict):
            check(data, what="credit report", error=ReportError)
            return cls._from_decoded(data, True, data)
        raise TypeError(f"data must be JSON text, bytes or a dict, not {type(data).__name__}")

    @classmethod
    def _from_decoded(
        cls, plain: Any, screen: bool, received: str | bytes | dict[str, Any]
    ) -> CreditReport:
        """The report of ``plain``, data within the bounds of :mod:`credit_sdk._bounded`
        already (decoded within them, or checked), as :meth:`parse` builds it; ``screen``:
        ``plain`` may hold a prohibited field (else the decoding walk found none)."""
        screened: dict[str, Any] | None = None
        try:
            if isinstance(plain, dict):
                screened = _screen(plain) if screen else _unflagged(plain)
                report = cls.model_validate(screened, context=_SCREENED)
            else:
                report = cls.model_validate(plain)
        except ValidationError as err:
            raise ReportError(_describe(err)) from None
        # Private attributes are set in their dictionary: pydantic's __setattr__ costs more
        # than the rest of this method.
        private = report.__pydantic_private__
        assert private is not None
        private["_received"] = received
        if screened is None:
            return report
        if isinstance(received, dict):
            # Python objects (the items of a batch answer) are not kept: the report keeps its
            # canonical bytes instead (which parse to the same report), one object rather
            # than a tree of them for the garbage collector to walk while the report lives.
            try:
                canonical = canonical_report_bytes(screened, report.prohibited_fields_dropped)
            except (TypeError, ValueError):
                pass  # no JSON form: kept as given (credit_sdk._replay then finds no bytes)
            else:
                private["_received"] = private["_canonical"] = canonical
                return report
        private["_screened"] = screened
        return report

    def __eq__(self, other: object) -> bool:
        # Equal reports are equal whatever bytes they were parsed from (the private source
        # is provenance, not content).
        if not isinstance(other, CreditReport):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = _Value.__hash__

    @property
    def received(self) -> str | bytes | dict[str, Any] | None:
        """The text or bytes :meth:`parse` was given; for data given as Python objects, the
        report's canonical bytes (which parse to the same report); ``None`` for a report built
        otherwise."""
        return self._received


def _plain(value: Any) -> Any:
    # Reports handed over as Python data (in-memory platforms, tests) may hold dates, decimals
    # or enums where the wire has strings; they become the strings the wire would carry.
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    reveal = getattr(value, "reveal", None)
    if callable(reveal):
        return str(reveal())
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"a report field of type {type(value).__name__} has no JSON form")


_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_plain
)
_ENCODE = _ENCODER.encode


def _c_encoder() -> Callable[[Any], str] | None:
    """``_ENCODE`` without what ``JSONEncoder.encode`` builds again on every call: the C
    encoder it hands the tree to, made once, without the cycle check (what is encoded here
    was checked within bounds, which no cycle passes: one would recurse into
    ``RecursionError``). ``None`` where the interpreter has no C encoder."""
    from json import encoder

    make = getattr(encoder, "c_make_encoder", None)
    if make is None:
        return None
    c_encode = make(
        None,  # no cycle check
        _ENCODER.default,
        encoder.encode_basestring,  # ensure_ascii=False
        None,  # no indent
        _ENCODER.key_separator,
        _ENCODER.item_separator,
        _ENCODER.sort_keys,
        _ENCODER.skipkeys,
        _ENCODER.allow_nan,
    )

    def encode(value: Any) -> str:
        return "".join(c_encode(value, 0))

    return encode


_FAST_ENCODE = _c_encoder() or _ENCODE


def canonical_report_bytes(screened: dict[str, Any], dropped: tuple[str, ...]) -> bytes:
    """A screened report's canonical bytes (see credit_sdk._replay): sorted-key compact JSON in
    UTF-8, with the paths of what screening dropped (never the values). Raises ``TypeError`` or
    ``ValueError`` for data without a JSON form."""
    cleaned = screened
    if "prohibited_fields_dropped" in screened or dropped:
        cleaned = {k: v for k, v in screened.items() if k != "prohibited_fields_dropped"}
        if dropped:
            cleaned["prohibited_fields_dropped"] = list(dropped)
    try:
        return _FAST_ENCODE(cleaned).encode("utf-8")
    except RecursionError:
        raise ValueError("a report nested too deeply, or in a cycle, has no JSON form") from None


# Validation context of data that parse() has screened already.
_SCREENED: dict[str, bool] = {"screened": True}


def _screen(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without Art. 20 prohibited fields, at any depth, with the JSON paths of what was
    dropped under ``prohibited_fields_dropped`` (a value the platform sent there is ignored)."""
    data = {k: v for k, v in data.items() if k != "prohibited_fields_dropped"}
    cleaned, dropped = drop_prohibited_fields(data)
    cleaned["prohibited_fields_dropped"] = tuple(dropped)
    return cleaned  # type: ignore[no-any-return]


def _unflagged(data: dict[str, Any]) -> dict[str, Any]:
    """:func:`_screen` of data known to hold no prohibited field: only a
    ``prohibited_fields_dropped`` the platform sent is left out (the field's default, no paths,
    is what screening found)."""
    if "prohibited_fields_dropped" in data:
        return {k: v for k, v in data.items() if k != "prohibited_fields_dropped"}
    return data


def _describe(err: ValidationError) -> str:
    problems = []
    for item in err.errors(include_input=False, include_url=False)[:10]:
        loc = ".".join(str(p) for p in item["loc"]) or "(report)"
        problems.append(f"{loc}: {item['msg']}")
    more = err.error_count() - len(problems)
    suffix = f" (and {more} more)" if more > 0 else ""
    return "credit report does not fit the platform contract: " + "; ".join(problems) + suffix


def sample_report_path(state: str) -> Path:
    """Path of a shipped **sample** report (``severe_list``, ``judgment_defaulter``, ...)."""
    root = DATA_DIR / "reports"
    path = root / f"{state}.json"
    if not path.is_file():
        available = sorted(p.stem for p in root.glob("*.json"))
        raise ValueError(f"no sample report {state!r}; available: {', '.join(available)}")
    return path
