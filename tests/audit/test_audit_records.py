"""Record validation: required fields, formats, and no raw identifier anywhere (Art. 24, 25)."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credit_sdk import (
    FeedbackItem,
    InvalidQuery,
    ListSnapshot,
    QueryCompletion,
    QueryIntent,
    new_query_id,
)
from credit_sdk._audit._chain import encode
from credit_sdk._audit._types import OUTCOMES, canonical_json, looks_like_raw_identifier
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
    # Long hex digests, uuids, 11-digit numbers that are no mobile number and USCC-shaped codes
    # with a wrong check character are not identifiers. (A mobile number is a personal field,
    # Art. 24, and is refused: tests/unit/test_phone_numbers_in_text.py.)
    for text in ["a" * 64, new_query_id(), "12800138000", "2026-118", _BAD_USCC]:
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


# -- the hashed bytes, built field by field, equal the reference canonical JSON -----------------

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() != "" and not looks_like_raw_identifier(s))
_OPT_TEXT = st.none() | _TEXT
_TIMES = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
)
_HEX64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
_QUERY_IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,40}", fullmatch=True).filter(
    lambda s: not looks_like_raw_identifier(s)
)


@settings(max_examples=300, deadline=None)
@given(
    query_id=_QUERY_IDS, at=_TIMES, organ=_TEXT, operator=_TEXT, matter=st.just("") | _TEXT,
    purpose=_TEXT, scenario=_TEXT, pseudonym=_HEX64, display=_TEXT, kind=_TEXT,
    authorization=_OPT_TEXT, trace=_OPT_TEXT,
)  # fmt: skip
def test_intent_canonical_body_is_canonical_json(
    query_id: str, at: datetime, organ: str, operator: str, matter: str, purpose: str,
    scenario: str, pseudonym: str, display: str, kind: str, authorization: str | None,
    trace: str | None,
) -> None:  # fmt: skip
    intent = QueryIntent(
        query_id=query_id, requested_at=at, organ=organ, operator=operator, matter_code=matter,
        purpose=purpose, scenario=scenario, subject_pseudonym=pseudonym, subject_display=display,
        subject_kind=kind, authorization_id=authorization, trace_id=trace,
    )  # fmt: skip
    assert intent.canonical_body() == canonical_json(intent.to_body())
    pending = encode(intent)
    assert pending.body == intent.canonical_body()
    assert pending.columns[3] == intent.to_body()["requested_at"]


@settings(max_examples=300, deadline=None)
@given(
    query_id=_QUERY_IDS, at=_TIMES, outcome=st.sampled_from(sorted(OUTCOMES)), profile=_TEXT,
    measures=st.lists(_TEXT, max_size=3), report=_OPT_TEXT,
    lists=st.lists(st.tuples(_TEXT, _TEXT, _HEX64), max_size=3), version=_TEXT, trace=_OPT_TEXT,
    flags=st.lists(st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True), max_size=3),
    error=st.none() | st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,20}", fullmatch=True),
)  # fmt: skip
def test_completion_canonical_body_is_canonical_json(
    query_id: str, at: datetime, outcome: str, profile: str, measures: list[str],
    report: str | None, lists: list[tuple[str, str, str]], version: str, trace: str | None,
    flags: list[str], error: str | None,
) -> None:  # fmt: skip
    completion = QueryCompletion(
        query_id=query_id, completed_at=at, outcome=outcome, policy_profile=profile,
        applied_measure_ids=tuple(measures), report_id=report,
        lists=tuple(ListSnapshot(*item) for item in lists), sdk_version=version, trace_id=trace,
        flags=tuple(flags), error=error,
    )  # fmt: skip
    assert completion.canonical_body() == canonical_json(completion.to_body())
    assert encode(completion).body == completion.canonical_body()


@settings(max_examples=200, deadline=None)
@given(
    seq=st.integers(min_value=0, max_value=2**62), kind=_TEXT, record_id=_TEXT, prev=_TEXT,
    at=_TEXT, body=st.text(max_size=50), count=st.integers(min_value=1, max_value=4),
)  # fmt: skip
def test_linked_hashes_are_the_documented_digest(
    seq: int, kind: str, record_id: str, prev: str, at: str, body: str, count: int
) -> None:
    """``link`` hashes bytes it assembles from parts prepared ahead; each digest must be the
    one the format defines (domain, header_json, LF, body), whatever the strings hold."""
    from credit_sdk._audit._chain import PendingRecord, header_json, link

    pending = [
        PendingRecord(f"{record_id}{i}", kind, None, None, None, None, None, body)  # type: ignore[arg-type]
        for i in range(count)
    ]
    expected_prev = prev
    for i, row in enumerate(link(pending, seq, prev, at)):
        header = header_json(seq + i + 1, kind, f"{record_id}{i}", expected_prev, at)
        digest = hashlib.sha256(
            b"credit-sdk/query-log\x00" + header.encode() + b"\n" + body.encode()
        ).hexdigest()
        assert row[-4:] == (at, seq + i + 1, expected_prev, digest)
        expected_prev = digest


def test_a_text_checked_once_is_not_a_pass_for_other_texts() -> None:
    # Record fields are checked once per distinct value (the values of a batch repeat); a
    # remembered value never lets another one through, nor a blank one into a required field.
    import datetime as dt

    from credit_sdk import InvalidQuery, QueryIntent
    from credit_sdk._audit._types import iso

    def intent(purpose: str, matter_code: str = "M-1") -> QueryIntent:
        return QueryIntent(
            query_id="q" + purpose[:3].strip().replace(" ", "") + "1",
            requested_at=dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
            organ="230100-GGZY", operator="u1", matter_code=matter_code, purpose=purpose,
            scenario="bidding", subject_pseudonym="0" * 64,
            subject_display="9123**********Y4K", subject_kind="uscc",
        )  # fmt: skip

    intent("tender 2026-17")
    intent("tender 2026-17", matter_code="")  # blank is allowed where not required...
    with pytest.raises(InvalidQuery):
        intent("")  # ...and still refused where it is
    with pytest.raises(InvalidQuery):
        intent("tender of 91230100MA1EXA017F")  # a valid USCC in text
    a = dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    b = dt.datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=dt.UTC)
    assert [iso(a), iso(b), iso(a)] == [
        "2026-01-02T03:04:05.000006Z",
        "2026-01-02T03:04:05.000007Z",
        "2026-01-02T03:04:05.000006Z",
    ]


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_stored_times_read_back_exactly(value: datetime) -> None:
    from credit_sdk._audit._types import iso, parse_iso

    text = iso(value.replace(tzinfo=UTC))
    assert parse_iso(text) == value.replace(tzinfo=UTC)
    assert iso(parse_iso(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-29 01:02:04.000000Z",  # another separator
        "2026-11-29T01:02:04Z",  # no microseconds
        "2026-11-29T01:02:04.000000+00:00",  # an offset instead of Z
        "٢٠٢٦-11-29T01:02:04.000000Z",  # digits of another script
        "2026-02-30T01:02:04.000000Z",  # no such day
        "2026-11-29T01:02:04.000000Z ",
    ],
)
def test_a_stored_time_in_another_form_is_refused(text: str) -> None:
    from credit_sdk._audit._types import parse_iso

    with pytest.raises(ValueError):  # noqa: PT011 -- the message is the parser's own
        parse_iso(text)
