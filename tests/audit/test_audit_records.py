"""Record validation: required fields, formats, and no raw identifier anywhere (Art. 24, 25)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from credit_sdk import FeedbackItem, InvalidQuery, QueryCompletion, QueryIntent, new_query_id
from credit_sdk._identifiers import compute_uscc_check

from .conftest import make_completion, make_feedback, make_intent, resident_id, uscc

_USCC_BODY = "91230100MA1C2X3Y4"
_GOOD_USCC = _USCC_BODY + compute_uscc_check(_USCC_BODY)
_BAD_USCC = _USCC_BODY + ("0" if _GOOD_USCC[-1] != "0" else "1")
RAW_IDS = [resident_id(7), resident_id(8)[:-1] + "X", uscc(12345), _GOOD_USCC, "230102900101123"]


def test_valid_records_construct() -> None:
    intent = make_intent(1)
    assert intent.record_id == f"intent:{intent.query_id}"
    assert make_completion(intent).record_id == f"completion:{intent.query_id}"
    assert len(new_query_id()) == 32


@pytest.mark.parametrize("field", ["organ", "operator", "purpose", "scenario", "subject_kind"])
def test_required_intent_fields(field: str) -> None:
    with pytest.raises(InvalidQuery, match=f"QueryIntent.{field} is required") as info:
        dataclasses.replace(make_intent(1), **{field: "  "})
    assert info.value.rule == "required"


@pytest.mark.parametrize("raw", RAW_IDS)
@pytest.mark.parametrize(
    "field", ["purpose", "matter_code", "subject_display", "operator", "trace_id"]
)
def test_raw_identifiers_are_refused_without_echo(field: str, raw: str) -> None:
    with pytest.raises(InvalidQuery) as info:
        dataclasses.replace(make_intent(1), **{field: f"application of {raw} (urgent)"})
    message = str(info.value)
    assert field in message
    assert info.value.rule == "raw_identifier"
    assert raw not in message
    assert raw[6:14] not in message


@pytest.mark.parametrize("raw", RAW_IDS)
def test_raw_identifiers_refused_in_completion_and_feedback(raw: str) -> None:
    with pytest.raises(InvalidQuery):
        dataclasses.replace(make_completion(make_intent(1)), report_id=raw)
    with pytest.raises(InvalidQuery):
        dataclasses.replace(make_feedback(1), case_id=raw, idempotency_key="")
    with pytest.raises(InvalidQuery):
        make_intent(1, query_id=raw)


def test_innocent_codes_pass() -> None:
    # Long hex digests, uuids, phone-length numbers and USCC-shaped codes with a wrong check
    # character are not identifiers.
    for text in ["a" * 64, new_query_id(), "13800138000", "2026-118", _BAD_USCC]:
        dataclasses.replace(make_intent(1), purpose=f"matter {text}")


def test_intent_formats() -> None:
    base = make_intent(1)
    with pytest.raises(InvalidQuery, match="subject_pseudonym"):
        dataclasses.replace(base, subject_pseudonym="ABC")
    with pytest.raises(InvalidQuery, match="timezone"):
        dataclasses.replace(base, requested_at=datetime(2026, 1, 1))
    with pytest.raises(InvalidQuery, match="query_id"):
        dataclasses.replace(base, query_id="has space")
    with pytest.raises(InvalidQuery, match="NUL"):
        dataclasses.replace(base, purpose="a\x00b")
    with pytest.raises(InvalidQuery, match="longer"):
        dataclasses.replace(base, purpose="x" * 3000)
    shifted = dataclasses.replace(
        base, requested_at=datetime.fromisoformat("2026-01-01T08:00:00+08:00")
    )
    assert shifted.requested_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_completion_formats() -> None:
    base = make_completion(make_intent(1))
    with pytest.raises(InvalidQuery, match="outcome"):
        dataclasses.replace(base, outcome="MAYBE")
    with pytest.raises(InvalidQuery, match="lists"):
        dataclasses.replace(base, lists=(("l", "1", "nothex"),))
    with pytest.raises(InvalidQuery, match="flags"):
        dataclasses.replace(base, flags=("stale data",))
    with pytest.raises(InvalidQuery, match="error"):
        dataclasses.replace(base, error="boom: subject 1234")
    ok = dataclasses.replace(base, flags=["STALE_DATA"], error="PlatformUnavailable")  # type: ignore[arg-type]
    assert ok.flags == ("STALE_DATA",)


def test_feedback_rules() -> None:
    item = make_feedback(1)
    assert item.idempotency_key == make_feedback(1).idempotency_key
    assert item.idempotency_key != make_feedback(1, case_id="other").idempotency_key
    with pytest.raises(InvalidQuery, match="reason is required"):
        dataclasses.replace(item, applied=False, reason=None)
    with pytest.raises(InvalidQuery, match="Decimal"):
        dataclasses.replace(item, amount=1.5)
    with pytest.raises(InvalidQuery, match="finite"):
        dataclasses.replace(item, amount=Decimal("NaN"))
    assert dataclasses.replace(item, amount=3).amount == Decimal(3)
    explicit = FeedbackItem(**{**{f.name: getattr(item, f.name) for f in dataclasses.fields(item)},
                               "idempotency_key": "my-key-1"})  # fmt: skip
    assert explicit.idempotency_key == "my-key-1"


def test_reprs_hold_no_raw_identifier() -> None:
    raw = resident_id(3)
    intent = make_intent(3, raw_id=raw)
    for text in (repr(intent), str(intent)):
        assert raw not in text


def test_round_trip_through_body() -> None:
    intent = make_intent(1)
    assert QueryIntent.from_body(intent.to_body()) == intent
    completion = make_completion(intent, "RESTRICTED")
    assert QueryCompletion.from_body(completion.to_body()) == completion


@pytest.mark.parametrize(
    ("seq", "kind", "record_id", "prev", "at"),
    [
        (1, "intent", "intent:q1", "0" * 64, "2026-01-01T00:00:00.000000Z"),
        (10**12, "checkpoint", "checkpoint:99", "ab" * 32, "2026-12-31T23:59:59.999999Z"),
        (3, "intent", 'intent:"quoted"\\', "0" * 64, "2026-01-01T00:00:00.000000Z"),
        (4, "completion", "completion:数据", "0" * 64, "x"),
    ],
)
def test_fast_header_matches_canonical_json(
    seq: int, kind: str, record_id: str, prev: str, at: str
) -> None:
    import hashlib

    from credit_sdk._audit._chain import header_json, record_hash

    expected = hashlib.sha256(
        b"credit-sdk/query-log\x00" + header_json(seq, kind, record_id, prev, at).encode()
        + b"\n" + b"{}"
    ).hexdigest()  # fmt: skip
    assert (
        record_hash(
            seq=seq, kind=kind, record_id=record_id, prev_hash=prev, recorded_at=at, body="{}"
        )
        == expected
    )
