"""The Art. 20 screen and the one-pass report parse: the same answers as the plain definitions.

The screen walks iteratively and remembers allowed field names; parsing decodes and screens a
report once and takes its digest from the same screened objects. These properties hold them to
the plain recursive definition and to a digest computed from scratch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from credit_sdk import CreditReport
from credit_sdk._models import sample_report_path
from credit_sdk._privacy import _contains_prohibited, _prohibited, drop_prohibited_fields
from credit_sdk._replay import report_bytes, report_digest


def _reference_contains(node: Any) -> bool:
    if isinstance(node, Mapping):
        return any(_prohibited(k) or _reference_contains(v) for k, v in node.items())
    if isinstance(node, list | tuple):
        return any(_reference_contains(item) for item in node)
    return False


_KEYS = st.sampled_from(
    ["a", "records", "name", "kind", "blood_type", "Income", "tax-amount", "RELIGION", "iris",
     "irises", "deposit_x", "title"]
) | st.text(max_size=8)  # fmt: skip
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(_KEYS, inner, max_size=4)
        | st.tuples(inner, inner)
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(_JSON)
def test_screen_finds_exactly_what_the_recursive_definition_finds(data: Any) -> None:
    cleaned, dropped = drop_prohibited_fields(data)
    assert bool(dropped) == _reference_contains(data)
    assert not _reference_contains(cleaned)
    if not dropped:
        assert cleaned is data


def test_the_check_has_no_recursion_limit_of_its_own() -> None:
    def nested(leaf: Any) -> Any:
        for _ in range(5000):
            leaf = {"a": [leaf]}
        return leaf

    assert _contains_prohibited(nested({"blood_type": "O"}))
    assert not _contains_prohibited(nested({"title": "O"}))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["clean", "severe_list", "prohibited_fields", "linked_person"]))
def test_one_pass_parse_gives_the_digest_of_a_parse_from_scratch(state: str) -> None:
    raw = sample_report_path(state).read_bytes()
    once = CreditReport.parse(raw)
    fresh = CreditReport.parse(raw)
    fresh._screened = None  # the digest then decodes and screens the received bytes again
    assert once == fresh
    assert report_bytes(once) == report_bytes(fresh)
    assert report_digest(once) == report_digest(fresh)
    from_dict = CreditReport.parse(json.loads(raw))
    assert report_digest(from_dict) == report_digest(once)
    assert from_dict == once


# -- the batch path: decoded and screened once for the whole answer --------------------------

_SAMPLES = ["clean", "severe_list", "prohibited_fields", "linked_person", "red_list"]
_PROHIBITED_NAMES = st.sampled_from(["blood_type", "Income", "tax-amount", "RELIGION", "iris"])


def _inject(doc: Any, name: str, where: int) -> None:
    """Put a prohibited field into the ``where``-th object of ``doc`` (walk order)."""
    objects: list[dict[str, Any]] = []
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            objects.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    objects[where % len(objects)][name] = "never-kept"


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_SAMPLES),
            st.one_of(st.none(), st.tuples(_PROHIBITED_NAMES, st.integers(0, 200))),
        ),
        min_size=1,
        max_size=4,
    ),
    st.booleans(),
)
def test_a_batch_answer_gives_each_report_as_parsing_it_alone_does(
    items: list[tuple[str, tuple[str, int] | None]], failed_item_with_field: bool
) -> None:
    # The answer is decoded and watched for prohibited fields once; its reports must come out
    # as CreditReport.parse makes them from each report's own text: the same values, the same
    # dropped paths, the same digest, whichever item (or a failed item's problem) held a field.
    import httpx

    from credit_sdk import QueryContext, Scenario, parse_identifier
    from credit_sdk._providers import ReportQuery, decode_batch
    from credit_sdk._transport import Response

    ctx = QueryContext(organ="o", operator="u", matter_code="m", purpose="p")
    docs, queries, results = [], [], []
    for n, (state, field) in enumerate(items):
        doc = json.loads(sample_report_path(state).read_bytes())
        if field is not None:
            _inject(doc, *field)
        docs.append(doc)
        subject = parse_identifier(doc["subject"]["identifier"])
        queries.append(ReportQuery(f"q{n}", subject, Scenario.BIDDING, ctx))
        results.append({"query_id": f"q{n}", "status": 200, "report": doc})
    if failed_item_with_field:
        subject = parse_identifier(docs[0]["subject"]["identifier"])
        queries.append(ReportQuery("qx", subject, Scenario.BIDDING, ctx))
        results.append({"query_id": "qx", "status": 404, "problem": {"income": 1}})
    body = json.dumps({"results": results}, ensure_ascii=False).encode()
    answer = decode_batch(Response(200, httpx.Headers(), body, None), queries)
    for doc, got in zip(docs, answer, strict=False):
        alone = CreditReport.parse(json.dumps(doc, ensure_ascii=False))
        assert isinstance(got, CreditReport)
        assert got == alone
        assert got.prohibited_fields_dropped == alone.prohibited_fields_dropped
        assert report_digest(got) == report_digest(alone)
        assert b"never-kept" not in (report_bytes(got) or b"")


_TREES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.dates(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _TREES, max_size=5), st.lists(st.text(), max_size=2))
def test_canonical_bytes_are_those_of_the_plain_encoder(
    tree: dict[str, Any], dropped: list[str]
) -> None:
    # The digest's canonical bytes come from the C encoder made once; they must be exactly
    # what JSONEncoder(sort_keys, compact, ensure_ascii=False).encode makes, dates included.
    from credit_sdk._models import _ENCODE, canonical_report_bytes

    expected = {k: v for k, v in tree.items() if k != "prohibited_fields_dropped"}
    if dropped:
        expected["prohibited_fields_dropped"] = dropped
    assert canonical_report_bytes(tree, tuple(dropped)) == _ENCODE(expected).encode("utf-8")
