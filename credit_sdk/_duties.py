"""The organ's own duties towards the credit platform (Art. 22, 52), through the durable outbox.

The organs that embed the SDK do not only read: they must **push** the public credit
information they produce or obtain, with its effective legal document, within five working days
(Art. 22: 自信息产生或者获取之日起五个工作日内); **correct** information found wrong, invalid or
changed within three working days of discovery (Art. 52 ¶1); and, when the basis of a
dishonesty finding is revoked, confirmed illegal or invalid, or changed, **ask for the update**
within two working days of the change (Art. 52 ¶3).

Each is validated before any I/O, queued in the outbox of the query log (durable when the call
returns), and delivered once by the client's background sender to its own platform operation,
under an idempotency key derived from what it says (so asking twice queues it once). The
:class:`DutyReceipt` carries the due date in working days (provisional when a year's holiday
arrangement is unknown) and says whether the item is late; a late item is still queued and
delivered, never refused.

>>> import datetime as dt
>>> from credit_sdk import BasisDocument
>>> doc = BasisDocument(kind="administrative_penalty_decision", number="哈市监罚〔2026〕118号",
...     issuer="哈尔滨市市场监督管理局", issued_on=dt.date(2026, 11, 2), effective=True)
>>> push = InformationPush(record_id="PEN-2026-118", category="food_safety",
...     summary="警告并罚款", produced_on=dt.date(2026, 11, 2), document=doc)
>>> push.record_id
'PEN-2026-118'
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from credit_sdk._audit._types import (
    OutboxItem,
    canonical_json,
    looks_like_raw_identifier,
)
from credit_sdk._errors import InvalidQuery
from credit_sdk._identifiers import Identifier, OtherId, parse_identifier
from credit_sdk._information import InformationCatalogue
from credit_sdk._models import BasisDocument
from credit_sdk._outbox import OutboxKind, register_outbox_kind
from credit_sdk._providers import AsyncProvider, DutyAck, DutyItem, FeedbackAck, Provider
from credit_sdk._workdays import DueDate, WorkingDayCalendar

__all__ = [
    "BasisChange",
    "BasisUpdateRequest",
    "Correction",
    "CorrectionReason",
    "DutyKind",
    "DutyReceipt",
    "InformationPush",
]

_MAX_TEXT = 2000
_MAX_TOKEN = 128


class DutyKind(StrEnum):
    """The organ's duties, each its own outbox kind and platform operation."""

    PUSH = "push"  # Art. 22: 信息推送
    CORRECTION = "correction"  # Art. 52 ¶1: 更正
    BASIS_UPDATE = "basis_update"  # Art. 52 ¶3: 依据变更后提出更新信息

    @property
    def working_days(self) -> int:
        """The statutory period: 5 (Art. 22), 3 (Art. 52 ¶1), 2 (Art. 52 ¶3) working days."""
        return _PERIODS[self]

    @property
    def article(self) -> str:
        return _ARTICLES[self]


_PERIODS = {DutyKind.PUSH: 5, DutyKind.CORRECTION: 3, DutyKind.BASIS_UPDATE: 2}
_ARTICLES = {DutyKind.PUSH: "Art. 22", DutyKind.CORRECTION: "Art. 52 ¶1",
             DutyKind.BASIS_UPDATE: "Art. 52 ¶3"}  # fmt: skip


class CorrectionReason(StrEnum):
    """Art. 52 ¶1: what was found about the information."""

    WRONG = "wrong"  # 错误
    INVALID = "invalid"  # 失效
    CHANGED = "changed"  # 发生变更


class BasisChange(StrEnum):
    """Art. 52 ¶3: what happened to the basis of a dishonesty finding."""

    REVOKED = "revoked"  # 被撤销
    CONFIRMED_ILLEGAL = "confirmed_illegal"  # 确认违法
    CONFIRMED_INVALID = "confirmed_invalid"  # 确认无效
    CHANGED = "changed"  # 变更


def _fail(what: str, problem: str, rule: str) -> InvalidQuery:
    return InvalidQuery(f"{what} {problem}", rule=rule)


def _text(value: object, what: str, rule: str, *, limit: int = _MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str")
    text = value.strip()
    if not text:
        raise _fail(what, "is required", rule)
    if len(text) > limit or "\x00" in text:
        raise _fail(what, f"must be at most {limit} characters, without NUL", rule)
    if looks_like_raw_identifier(text):
        # Never echo it: the subject's identifier goes in `subject`, nowhere else.
        raise _fail(
            what,
            "looks like it contains a resident ID number, mobile phone number or unified social "
            "credit code; the subject is given once, as the subject argument",
            "raw_identifier",
        )
    return text


def _token(value: object, what: str, rule: str) -> str:
    text = _text(value, what, rule, limit=_MAX_TOKEN)
    if any(c.isspace() for c in text):
        raise _fail(what, "may not contain spaces", rule)
    return text


def _day(value: object, what: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(f"{what} must be a datetime.date")
    return value


def _document(value: object, what: str, *, on: dt.date, rule: str) -> BasisDocument:
    if not isinstance(value, BasisDocument):
        raise TypeError(f"{what} must be a BasisDocument (the effective legal document)")
    _text(value.number, f"{what}.number", rule, limit=200)
    _text(value.issuer, f"{what}.issuer", rule, limit=200)
    if not value.effective:
        raise _fail(what, "has not taken legal effect (生效法律文书 is required)", rule)
    if not value.effective_at(on):
        raise _fail(what, "takes effect after the date it is pushed for", rule)
    return value


def _document_json(doc: BasisDocument | None) -> dict[str, Any] | None:
    if doc is None:
        return None
    return {
        "kind": doc.kind.value,
        "number": doc.number.strip(),
        "issuer": doc.issuer.strip(),
        "issued_on": doc.issued_on.isoformat(),
        "effective_on": (doc.effective_on or doc.issued_on).isoformat(),
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class InformationPush:
    """Art. 22: one piece of public credit information the organ produced or obtained.

    ``record_id`` is the organ's own id for it (corrections name it later); ``category`` a
    category of the public credit information catalogue (Art. 19 ¶1: nothing outside it may be
    recorded); ``produced_on`` the day it was produced or obtained, from which the five working
    days run; ``document`` the effective legal document that goes with it.
    """

    record_id: str
    category: str
    summary: str
    produced_on: dt.date
    document: BasisDocument

    def __post_init__(self) -> None:
        rule = "art22_push"
        _token(self.record_id, "record_id", rule)
        _token(self.category, "category", rule)
        _text(self.summary, "summary", rule)
        _day(self.produced_on, "produced_on")
        _document(self.document, "document", on=self.produced_on, rule=rule)

    @property
    def starts_on(self) -> dt.date:
        return self.produced_on

    def body(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id.strip(),
            "category": self.category.strip(),
            "summary": self.summary.strip(),
            "produced_on": self.produced_on.isoformat(),
            "document": _document_json(self.document),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Correction:
    """Art. 52 ¶1: information pushed earlier (``record_id``) found wrong, invalid or changed
    on ``discovered_on``; ``corrected`` is what it says now (or why it is withdrawn)."""

    record_id: str
    category: str
    reason: CorrectionReason | str
    discovered_on: dt.date
    corrected: str
    document: BasisDocument | None = None

    def __post_init__(self) -> None:
        rule = "art52_correction"
        _token(self.record_id, "record_id", rule)
        _token(self.category, "category", rule)
        try:
            object.__setattr__(self, "reason", CorrectionReason(self.reason))
        except ValueError:
            raise _fail(
                "reason",
                "must be wrong, invalid or changed (错误、失效、发生变更, Art. 52 ¶1)",
                rule,
            ) from None
        _day(self.discovered_on, "discovered_on")
        _text(self.corrected, "corrected", rule)
        if self.document is not None:
            _document(self.document, "document", on=self.discovered_on, rule=rule)

    @property
    def starts_on(self) -> dt.date:
        return self.discovered_on

    def body(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id.strip(),
            "category": self.category.strip(),
            "reason": CorrectionReason(self.reason).value,
            "discovered_on": self.discovered_on.isoformat(),
            "corrected": self.corrected.strip(),
            "document": _document_json(self.document),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class BasisUpdateRequest:
    """Art. 52 ¶3: the basis of a dishonesty finding (``record_id``) was revoked, confirmed
    illegal or invalid, or changed on ``changed_on`` by ``document``; the platform must revoke
    or change the information."""

    record_id: str
    category: str
    change: BasisChange | str
    changed_on: dt.date
    document: BasisDocument

    def __post_init__(self) -> None:
        rule = "art52_basis_update"
        _token(self.record_id, "record_id", rule)
        _token(self.category, "category", rule)
        try:
            object.__setattr__(self, "change", BasisChange(self.change))
        except ValueError:
            raise _fail(
                "change",
                "must be revoked, confirmed_illegal, confirmed_invalid or changed "
                "(撤销、确认违法、确认无效、变更, Art. 52 ¶3)",
                rule,
            ) from None
        _day(self.changed_on, "changed_on")
        _document(self.document, "document", on=self.changed_on, rule=rule)

    @property
    def starts_on(self) -> dt.date:
        return self.changed_on

    def body(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id.strip(),
            "category": self.category.strip(),
            "change": BasisChange(self.change).value,
            "changed_on": self.changed_on.isoformat(),
            "document": _document_json(self.document),
        }


Duty = InformationPush | Correction | BasisUpdateRequest
_KIND_OF: dict[type, DutyKind] = {
    InformationPush: DutyKind.PUSH,
    Correction: DutyKind.CORRECTION,
    BasisUpdateRequest: DutyKind.BASIS_UPDATE,
}


@dataclass(frozen=True, slots=True)
class DutyReceipt:
    """A duty as queued: the outbox key, when it is due and whether that is already past.

    ``due`` counts the statutory working days from the day the period starts (the day itself
    not counted); ``due.provisional`` when a year's holiday arrangement is unknown. ``late``
    is true when the item was queued after its due date (it is queued and delivered anyway).
    The same duty asked again has the same ``idempotency_key`` and is not queued twice.
    """

    kind: DutyKind
    article: str
    record_id: str
    subject: str  # masked
    idempotency_key: str
    starts_on: dt.date
    due: DueDate
    late: bool

    @property
    def due_on(self) -> dt.date:
        return self.due.due


def duty_key(key: bytes, kind: DutyKind, subject: Identifier, body: Mapping[str, Any]) -> str:
    """The duty's idempotency key: an HMAC (under the pseudonym key) of its kind, its subject
    and its content, so the same duty asked twice is one item and the key reveals nothing."""
    material = canonical_json({"kind": kind.value, "body": dict(body)})
    mac = hmac.new(key, subject.pseudonym(key).encode() + b"\x1f" + material.encode(), "sha256")
    return f"{kind.value}-{mac.hexdigest()[:56]}"


_RULES = {
    DutyKind.PUSH: ("art22_push", "produced_on"),
    DutyKind.CORRECTION: ("art52_correction", "discovered_on"),
    DutyKind.BASIS_UPDATE: ("art52_basis_update", "changed_on"),
}


def build_duty(
    duty: Duty,
    subject: str | Identifier,
    *,
    organ: str,
    key: bytes,
    calendar: WorkingDayCalendar,
    today: dt.date,
    catalogue: InformationCatalogue,
) -> tuple[OutboxItem, DutyReceipt]:
    """Validate and turn a duty into its outbox item and receipt (pure: no I/O). A category
    the public credit information catalogue does not list is refused with
    :class:`~credit_sdk.CatalogError` (Art. 19 ¶1: such information may not be recorded)."""
    kind = _KIND_OF.get(type(duty))
    if kind is None:
        raise TypeError("duty must be an InformationPush, a Correction or a BasisUpdateRequest")
    ident = parse_identifier(subject) if not isinstance(subject, Identifier) else subject
    rule, start_name = _RULES[kind]
    catalogue.require(duty.category.strip())
    organ_text = _token(organ, "organ", rule)
    if duty.starts_on > today:
        raise _fail(start_name, "lies in the future", rule)
    due = calendar.due_date(duty.starts_on, kind.working_days)
    body = duty.body() | {"organ": organ_text, "due_on": due.due.isoformat()}
    idem = duty_key(key, kind, ident, duty.body() | {"organ": organ_text})
    item = OutboxItem(
        kind=kind.value,
        idempotency_key=idem,
        payload=canonical_json(body | {"subject_display": ident.masked}),
        subject=canonical_json(_subject_json(ident)),
        subject_pseudonym=ident.pseudonym(key),
        due_on=due.due,
    )
    receipt = DutyReceipt(
        kind=kind,
        article=kind.article,
        record_id=body["record_id"],
        subject=ident.masked,
        idempotency_key=idem,
        starts_on=duty.starts_on,
        due=due,
        late=today > due.due,
    )
    return item, receipt


def _subject_json(ident: Identifier) -> dict[str, str]:
    if isinstance(ident, OtherId):
        return {
            "kind": "other",
            "number": ident.reveal().split(":", 1)[1],
            "id_type": ident.id_type,
        }
    return {"kind": ident.kind.value, "number": ident.reveal()}


def duty_item(item: OutboxItem) -> DutyItem:
    """The duty an outbox item holds, ready for a provider."""
    if item.subject is None:
        raise InvalidQuery("the outbox item no longer holds its subject", rule="outbox")
    subj = json.loads(item.subject)
    ident = parse_identifier(subj["number"], subj["kind"], id_type=subj.get("id_type"))
    body = item.data()
    body.pop("subject_display", None)
    return DutyItem(DutyKind(item.kind).value, ident, body, item.idempotency_key)


def _send(provider: Provider, items: Sequence[OutboxItem], key: str) -> FeedbackAck:
    (item,) = items
    ack: DutyAck = provider.send_duty(duty_item(item), key)
    return FeedbackAck(1, int(ack.duplicate))


async def _asend(provider: AsyncProvider, items: Sequence[OutboxItem], key: str) -> FeedbackAck:
    (item,) = items
    ack: DutyAck = await provider.send_duty(duty_item(item), key)
    return FeedbackAck(1, int(ack.duplicate))


for _kind, _prefix in ((DutyKind.PUSH, "pu-"), (DutyKind.CORRECTION, "co-"),
                       (DutyKind.BASIS_UPDATE, "bu-")):  # fmt: skip
    register_outbox_kind(OutboxKind(_kind.value, _send, _asend, key_prefix=_prefix))
