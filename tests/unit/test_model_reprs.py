"""No platform text in the repr or str of a report or of anything in it (house rule: reprs
reach tracebacks and debug logs).

The report is built by walking the models' fields, so a str field added later is planted with
personal data too, and must be hidden, without touching this test.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from enum import Enum
from typing import Any

from pydantic import BaseModel

from credit_sdk import ResidentId
from credit_sdk._catalog import Ground
from credit_sdk._decision import TriggerRef
from credit_sdk._identifiers import Identifier
from credit_sdk._models import CreditReport, Penalty, Subject, _Value
from credit_sdk._privacy import PersonalText
from credit_sdk.testing import fake_resident_id, fake_uscc

NAME = "张三丰"
PHONE = "13912345678"
RESIDENT_ID = fake_resident_id(7)
PLANTED = (NAME, PHONE, RESIDENT_ID)
# Every free-text field carries all three; each field differently, so nothing is deduplicated.
_count = iter(range(1_000_000))


def _planted() -> str:
    return f"{NAME}（{PHONE}，{RESIDENT_ID}）#{next(_count)}"


def _value(model: type[BaseModel], name: str, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _value(model, name, inner[0])
    if origin is tuple:
        return [_value(model, name, args[0])]
    if origin is frozenset:
        return [_value(model, name, args[0])]
    if isinstance(annotation, type):
        if issubclass(annotation, _Value):
            return _build(annotation)
        if issubclass(annotation, Enum):
            return next(iter(annotation)).value
        if annotation is str:
            if model is Penalty and name == "procedure":
                return "general"  # constrained to ^(simple|general)$: cannot carry text
            if name in getattr(model, "_repr_ids", ()):
                return f"ID-{name}-{next(_count)}"  # ids are shown: they must be id-like
            if model is CreditReport and name == "schema_version":
                return f"1.{_planted()}"  # a major version 1 with text after it
            return _planted()
        if annotation is bool:
            return False
        if annotation is int:
            return 12
        if annotation is dt.datetime:
            return "2026-11-29T09:00:00+08:00"
        if annotation is dt.date:
            return "2026-03-20"
        if issubclass(annotation, PersonalText):
            return _planted()
        if issubclass(annotation, Identifier):
            return RESIDENT_ID if model is Subject else fake_uscc(3)
    raise AssertionError(f"no planted value for {model.__name__}.{name}: {annotation!r}")


def _build(model: type[BaseModel]) -> dict[str, Any]:
    return {
        name: _value(model, name, field.annotation) for name, field in model.model_fields.items()
    }


def _nested(value: Any) -> typing.Iterator[Any]:
    """``value`` and every model, tuple item and set item inside it."""
    yield value
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _nested(getattr(value, name))
    elif isinstance(value, tuple | frozenset):
        for item in value:
            yield from _nested(item)


def _report() -> CreditReport:
    return CreditReport.parse(json.dumps(_build(CreditReport), ensure_ascii=False))


def _str_fields(value: Any) -> int:
    return sum(
        1
        for item in _nested(value)
        if isinstance(item, str) and not isinstance(item, Enum) and NAME in item
    )


def test_every_free_text_field_is_planted() -> None:
    report = _report()
    # The walk reached every model and every str field of the report
    assert report.subject.identifier == ResidentId(RESIDENT_ID)
    assert report.records[0].basis is not None
    assert report.records[0].penalty is not None
    assert report.linked_parties[0].memberships[0].decision is not None
    assert report.integrity_points is not None
    assert report.records[0].objection is not None
    assert _str_fields(report) >= 20


def test_no_planted_text_in_the_repr_or_str_of_a_report_or_anything_in_it() -> None:
    report = _report()
    shown = 0
    for item in _nested(report):
        # models, and tuples of models (a tuple of str is a field's value itself, not a repr)
        if not isinstance(item, BaseModel) and not (
            isinstance(item, tuple) and item and all(isinstance(i, BaseModel) for i in item)
        ):
            continue
        for text in (repr(item), str(item)):
            shown += 1
            for secret in PLANTED:
                assert secret not in text, f"{type(item).__name__} shows planted text"
    assert shown > 40
    # Ids, enum values, dates and flags are still there to debug with; the text says its length.
    text = repr(report)
    assert "ID-record_id-" in text
    assert "ID-membership_id-" in text
    assert "<RecordKind." in text
    assert "procedure='general'" in text
    assert "datetime.date(2026, 3, 20)" in text
    assert "<text: " in text


def test_trigger_refs_hide_the_platform_text_they_carry() -> None:
    trigger = TriggerRef(
        "record",
        "REC-1",
        next(iter(Ground)),
        category=_planted(),
        domain=_planted(),
        found_by=_planted(),
        document=_planted(),
    )
    for text in (repr(trigger), str(trigger), repr((trigger,))):
        for secret in PLANTED:
            assert secret not in text
    assert "REC-1" in repr(trigger)
