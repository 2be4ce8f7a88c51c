"""Every foreign document is decoded within bounds, into the SDK's typed errors.

Each case is a document a platform, a file or a caller could hand the SDK; each must end in the
error of its kind (``ReportError``, ``CatalogError``, ``PolicyError``, ``PlatformProtocolError``),
never ``RecursionError``, ``OverflowError``, ``UnicodeError``, ``KeyError`` or a pydantic
``ValidationError``, and the message must not carry the document.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from credit_sdk import (
    CatalogError,
    CreditReport,
    MeasureList,
    PlatformError,
    PlatformProtocolError,
    PolicyError,
    PolicyProfile,
    ReportError,
    parse_identifier,
)
from credit_sdk._bounded import LIMITS
from credit_sdk._data import DATA_DIR
from credit_sdk._providers import ListIndexEntry, decode_batch, decode_index, verify_list
from credit_sdk._transport import Response, _AttemptFailed, classify
from tests.client.conftest import COMPANY, report_dict

SECRET = "110101199003077777"  # an ID-number-shaped value that must never be echoed
GOOD = json.dumps(report_dict(COMPANY)).encode()


def _with(extra: str) -> bytes:
    return GOOD[:-1] + b', "extra": ' + extra.encode() + b"}"


HOSTILE: dict[str, bytes] = {
    "3000 nested brackets": _with("[" * 3000 + "]" * 3000),
    "nesting past the depth limit": _with(
        "[" * (LIMITS.max_depth + 2) + "]" * (LIMITS.max_depth + 2)
    ),
    "a whole document of brackets": b"[" * 100_000,
    "invalid UTF-8": GOOD.replace(b"client-test", b"client-\xff\xfe"),
    "a lone surrogate escape": GOOD.replace(b"client-test", b"client-\\ud800"),
    "a BOM": b"\xef\xbb\xbf" + GOOD,
    "NaN": _with("NaN"),
    "Infinity": _with("-Infinity"),
    "1e999": _with("1e999"),
    "a 5000-digit integer": _with("9" * 5000),
    "an integer past 2**53": _with(str(2**60)),
    "a duplicate key": GOOD.replace(
        b'"report_id": "client-test"', b'"report_id": "a", "report_id": "b"'
    ),
    "a string past the limit": _with(json.dumps("x" * (LIMITS.max_string + 1))),
    "an array past the limit": _with(json.dumps([0] * (LIMITS.max_array + 1))),
    "an object with too many members": _with(
        json.dumps({f"k{i}": 0 for i in range(LIMITS.max_members + 1)})
    ),
    "truncated": GOOD[: len(GOOD) // 2],
    "empty": b"",
    "not an object": b"[1, 2, 3]",
    "the secret as a bare string": json.dumps(SECRET).encode(),
    "the secret as a key": _with(json.dumps({SECRET: [SECRET]})),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_reports_are_report_errors(name: str) -> None:
    raw = HOSTILE[name]
    # As bytes, and as text (invalid UTF-8 then becomes lone surrogates, refused as such).
    for form in (raw, raw.decode("utf-8", "surrogateescape")):
        if name == "the secret as a key":  # an unknown field: ignored, never echoed
            assert SECRET not in repr(CreditReport.parse(form))
            continue
        with pytest.raises(ReportError) as err:
            CreditReport.parse(form)
        assert SECRET not in str(err.value)


def test_deep_dicts_and_cycles_given_as_python_values_are_report_errors() -> None:
    deep: dict[str, Any] = {}
    cur = deep
    for _ in range(5000):
        cur["a"] = {}
        cur = cur["a"]
    with pytest.raises(ReportError, match=r"json\.depth"):
        CreditReport.parse({**report_dict(COMPANY), "extra": deep})
    cyclic: dict[str, Any] = report_dict(COMPANY)
    cyclic["extra"] = cyclic
    with pytest.raises(ReportError, match=r"json\.depth"):
        CreditReport.parse(cyclic)
    with pytest.raises(ReportError, match="non_finite"):
        CreditReport.parse({**report_dict(COMPANY), "extra": float("nan")})


def test_wrong_python_types_are_type_errors_naming_the_parameter() -> None:
    with pytest.raises(TypeError, match="data must be"):
        CreditReport.parse(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="data must be"):
        MeasureList.from_json(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="kind must be"):
        parse_identifier(COMPANY, 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="id_type must be"):
        parse_identifier("E12345678", "other", id_type=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="text must be"):
        parse_identifier(91230100)  # type: ignore[arg-type]


def _list_bytes() -> bytes:
    return (DATA_DIR / "lists" / "hlj-incentive-sample.json").read_bytes()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_measure_lists_are_catalog_errors(name: str) -> None:
    raw = HOSTILE[name]
    if name in ("truncated", "empty", "not an object", "the secret as a bare string"):
        doc = raw
    else:
        doc = _list_bytes()[:-2] + raw[len(GOOD) - 1 :] if raw.startswith(GOOD[:-1]) else raw
    with pytest.raises(CatalogError) as err:
        MeasureList.from_json(doc, source="hostile")
    assert SECRET not in str(err.value)


@pytest.mark.parametrize(
    "name", ["3000 nested brackets", "NaN", "a duplicate key", "a BOM", "invalid UTF-8"]
)
def test_hostile_policy_profiles_are_policy_errors(name: str, tmp_path: Path) -> None:
    shipped = (DATA_DIR / "policies" / "hlj-draft-2021.json").read_bytes().rstrip()
    raw = HOSTILE[name]
    doc = shipped[:-1] + raw[len(GOOD) - 1 :] if raw.startswith(GOOD[:-1]) else raw
    path = tmp_path / "profile.json"
    path.write_bytes(doc)
    with pytest.raises(PolicyError):
        PolicyProfile.load(path)


def _response(body: bytes, ctype: str = "application/json", status: int = 200) -> Response:
    return Response(status, httpx.Headers({"content-type": ctype}), body, None)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_list_indexes_are_protocol_errors(name: str) -> None:
    with pytest.raises(PlatformProtocolError) as err:
        decode_index(_response(HOSTILE[name]))
    assert SECRET not in str(err.value)


@pytest.mark.parametrize(
    "entry",
    [
        {"list_id": "../../etc", "version": "1", "sha256": "a" * 64},
        {"list_id": "x", "version": "1/2", "sha256": "a" * 64},
        {"list_id": "x", "version": "1", "sha256": "g" * 64},
        {"list_id": SECRET, "version": {"a": 1}, "sha256": "a" * 64},
        {"list_id": "x", "version": "1", "sha256": "a" * 64, "effective_from": ["x"]},
        "not an entry",
        {"version": "1", "sha256": "a" * 64},
    ],
)
def test_list_index_entries_are_plain_tokens(entry: Any) -> None:
    body = json.dumps({"lists": [entry]}).encode()
    with pytest.raises(PlatformProtocolError) as err:
        decode_index(_response(body))
    assert SECRET not in str(err.value)


def test_a_list_edition_that_is_hostile_is_a_protocol_error() -> None:
    entry = ListIndexEntry("x", "1", "a" * 64)
    with pytest.raises(PlatformError):
        verify_list(HOSTILE["3000 nested brackets"], entry)


def test_batch_answers_are_decoded_within_bounds() -> None:
    from credit_sdk import QueryContext, Scenario
    from credit_sdk._providers import ReportQuery

    ctx = QueryContext(organ="o", operator="u", matter_code="m", purpose="p")
    q = ReportQuery("q1", parse_identifier(COMPANY), Scenario.BIDDING, ctx)
    for name in ("3000 nested brackets", "NaN", "a duplicate key", "invalid UTF-8"):
        with pytest.raises(PlatformProtocolError):
            decode_batch(_response(HOSTILE[name]), [q])


@pytest.mark.parametrize("name", list(HOSTILE))
def test_problem_documents_never_reach_the_message(name: str) -> None:
    body = HOSTILE[name]
    with pytest.raises(_AttemptFailed) as failed:
        classify(
            "POST", "/v1/reports:query", 422, {"content-type": "application/problem+json"}, body
        )
    assert isinstance(failed.value.error, PlatformError)
    assert SECRET not in str(failed.value.error)


def test_problem_detail_is_kept_on_the_exception_only() -> None:
    body = json.dumps(
        {
            "type": "https://platform.example/problems/subject-unknown",
            "title": "张三 未找到",
            "detail": f"证件号 {SECRET} 电话 13800138000",
        }
    ).encode()
    with pytest.raises(_AttemptFailed) as failed:
        classify(
            "POST", "/v1/reports:query", 404, {"content-type": "application/problem+json"}, body
        )
    err = failed.value.error
    assert str(err) == "POST /v1/reports:query: HTTP 404 (subject-unknown)"
    assert err.problem_type == "subject-unknown"
    assert err.title == "张三 未找到"
    assert err.detail is not None
    assert "电话" in err.detail  # kept for whoever may read it ...
    assert SECRET not in err.detail  # ... with identifier-shaped tokens redacted
    assert "13800138000" not in err.detail  # ... and mobile numbers too (Art. 24)


def test_request_ids_that_are_not_tokens_stay_out_of_messages() -> None:
    headers = {"content-type": "application/problem+json", "x-request-id": f"r {SECRET}"}
    with pytest.raises(_AttemptFailed) as failed:
        classify("GET", "/v1/health", 400, headers, b"{}")
    assert SECRET not in str(failed.value.error)
    assert failed.value.error.request_id is None


ENV = {
    "CREDIT_SDK_BASE_URL": "https://credit.example.gov.cn",
    "CREDIT_SDK_TOKEN": "t",
    "CREDIT_SDK_AUDIT_DB": "/nonexistent/a.db",
    "CREDIT_SDK_PSEUDONYM_KEY": "00" * 16,
}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CREDIT_SDK_CONNECT_TIMEOUT", "nan"),
        ("CREDIT_SDK_READ_TIMEOUT", "inf"),
        ("CREDIT_SDK_CACHE_TTL", "1e999"),
        ("CREDIT_SDK_MAX_STALENESS", "-1"),
        ("CREDIT_SDK_MAX_LIST_STALENESS", "99999999999"),
        ("CREDIT_SDK_DEADLINE", "0"),
        ("CREDIT_SDK_DEADLINE", "86400"),
        ("CREDIT_SDK_CONNECT_TIMEOUT", SECRET),
        ("CREDIT_SDK_MAX_RETRIES", "1000000"),
        ("CREDIT_SDK_MAX_RETRIES", "-1"),
        ("CREDIT_SDK_MAX_RETRIES", "9" * 5000),
        ("CREDIT_SDK_RAISE_ON_UNAVAILABLE", SECRET),
    ],
)
def test_environment_values_are_bounded_and_never_echoed(name: str, value: str) -> None:
    from credit_sdk import ConfigurationError
    from credit_sdk._client import _env_kwargs

    env = {**ENV, name: value}
    if name == "CREDIT_SDK_MAX_STALENESS":
        env["CREDIT_SDK_FAILURE_POLICY"] = "serve_stale"
    with pytest.raises(ConfigurationError) as err:
        _env_kwargs(env)
    assert name in str(err.value)
    assert value not in str(err.value) or value in ("0", "-1")


@pytest.mark.parametrize("report", [[1, 2], 42, True, "not json", "[1]"])
def test_a_batch_item_whose_report_is_no_object_fails_that_item_only(report: Any) -> None:
    # Only that item fails (as a protocol error naming no value); the rest of the answer is
    # used. A report that is no JSON object used to escape as a TypeError from the parser.
    from credit_sdk import QueryContext, Scenario
    from credit_sdk._providers import ReportQuery

    ctx = QueryContext(organ="o", operator="u", matter_code="m", purpose="p")
    queries = [
        ReportQuery(f"q{n}", parse_identifier(COMPANY), Scenario.BIDDING, ctx) for n in (1, 2)
    ]
    body = json.dumps(
        {
            "results": [
                {"query_id": "q1", "status": 200, "report": report},
                {"query_id": "q2", "status": 200, "report": report_dict(COMPANY)},
            ]
        }
    ).encode()
    first, second = decode_batch(_response(body), queries)
    assert isinstance(first, PlatformProtocolError)
    assert "report" in str(first)
    assert isinstance(second, CreditReport)
