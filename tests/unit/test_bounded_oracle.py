"""The bounded decoder gives the answers of the reader it replaced, on generated documents.

The reader below is the one the SDK used before the decoder walked the tree once, level by
level, and watched for Art. 20 keys on the way: the standard library's decoder with a hook for
every object and number, then a separate walk for the limits. Every generated document (deep,
wide, huge, duplicated keys, ``NaN``, ``1e999``, big integers, bad UTF-8, lone surrogates,
brackets and quotes inside strings) must be accepted with the same value or refused by both;
a rule broken while decoding must be named the same, and a rule of the limits walk must be
one of the limits walk's. What the screen flags is what the plain recursive definition finds.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_sdk._bounded import (
    LIMITS,
    KeyScreen,
    Limits,
    _nesting_exceeds,
    load_flagged,
    loads,
)
from credit_sdk._privacy import _prohibited

# -- the reader it replaced (the oracle) ------------------------------------------------------


class _OldRefused(Exception):
    def __init__(self, rule: str, text: str) -> None:
        super().__init__(text)
        self.rule = rule


def _old_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _OldRefused("json.duplicate_key", "duplicate key in an object")
    return out


def _old_constant(name: str) -> Any:
    raise _OldRefused("json.non_finite", "NaN and Infinity are not JSON numbers")


def _old_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _OldRefused("json.non_finite", "a number is out of the finite range")
    return value


def _old_int_parser(limit: int) -> Callable[[str], int]:
    digits = len(str(limit)) + 1

    def parse(text: str) -> int:
        if len(text) > digits or abs(value := int(text)) > limit:
            raise _OldRefused("json.number_range", f"an integer is outside ±{limit}")
        return value

    return parse


def _old_text(data: str | bytes, limits: Limits) -> str:
    if isinstance(data, str):
        if len(data) > limits.max_bytes:
            raise _OldRefused("json.size", "size")
        if data.startswith("\ufeff"):
            raise _OldRefused("json.bom", "bom")
        if not data.isascii():
            try:
                data.encode("utf-8")
            except UnicodeEncodeError:
                raise _OldRefused("json.surrogate", "surrogate") from None
        return data
    if len(data) > limits.max_bytes:
        raise _OldRefused("json.size", "size")
    if data.startswith(b"\xef\xbb\xbf"):
        raise _OldRefused("json.bom", "bom")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _OldRefused("json.utf8", "utf8") from None


def _old_string(text: str, max_string: int) -> None:
    if len(text) > max_string:
        raise _OldRefused("json.string_length", "string")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _OldRefused("json.surrogate", "surrogate") from None


def _old_check_tree(value: Any, limits: Limits) -> None:
    max_depth, max_string, max_int = limits.max_depth, limits.max_string, limits.max_int
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise _OldRefused("json.depth", "depth")
        if isinstance(item, dict):
            if len(item) > limits.max_members:
                raise _OldRefused("json.members", "members")
            for key in item:
                if type(key) is not str:
                    raise _OldRefused("json.key_type", "key")
                _old_string(key, max_string)
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            if len(item) > limits.max_array:
                raise _OldRefused("json.array_length", "array")
            children = item
        else:
            children = (item,)
            depth -= 1
        for child in children:
            if isinstance(child, str):
                _old_string(child, max_string)
            elif isinstance(child, dict | list | tuple):
                stack.append((child, depth + 1))
            elif isinstance(child, float) and not math.isfinite(child):
                raise _OldRefused("json.non_finite", "float")
            elif (
                isinstance(child, int)
                and not isinstance(child, bool)
                and not -max_int <= child <= max_int
            ):
                raise _OldRefused("json.number_range", "int")


def old_loads(data: str | bytes, limits: Limits = LIMITS) -> Any:
    """Raises ``_OldRefused`` with ``stage`` set to ``decode`` or ``walk``."""
    try:
        text = _old_text(data, limits)
        decoder = json.JSONDecoder(
            object_pairs_hook=_old_pairs,
            parse_constant=_old_constant,
            parse_float=_old_float,
            parse_int=_old_int_parser(limits.max_int),
        )
        try:
            value = decoder.decode(text)
        except RecursionError:
            raise _OldRefused("json.depth", "depth") from None
        except json.JSONDecodeError:
            raise _OldRefused("json.syntax", "syntax") from None
        except ValueError:
            raise _OldRefused("json.number_range", "number") from None
    except _OldRefused as refused:
        refused.stage = "decode"  # type: ignore[attr-defined]
        raise
    try:
        _old_check_tree(value, limits)
    except _OldRefused as refused:
        refused.stage = "walk"  # type: ignore[attr-defined]
        raise
    return value


def _reference_contains(node: Any) -> bool:
    if isinstance(node, Mapping):
        return any(_prohibited(k) or _reference_contains(v) for k, v in node.items())
    if isinstance(node, list):
        return any(_reference_contains(item) for item in node)
    return False


# -- generated documents ------------------------------------------------------------------------

WALK_RULES = {
    "json.depth",
    "json.members",
    "json.array_length",
    "json.string_length",
    "json.surrogate",
}
SMALL = Limits(max_depth=4, max_string=8, max_array=5, max_members=4, max_int=1000)

_KEY_NAMES = st.sampled_from(
    ["a", "b", "records", "blood_type", "Income", "tax-amount", "RELIGION", "iris", "title",
     "名称", "x" * 300, "k\\ud800", "k\\\"]", "[{", "}", ":", "\\\\", ""]
)  # fmt: skip
_TEXTS = st.text(
    alphabet=st.sampled_from(["a", '"', "\\", "[", "]", "{", "}", ":", ",", "张", "\n", "😀"]),
    max_size=12,
) | st.sampled_from(["", "ok"])
_NUMBERS = st.sampled_from(
    ["0", "-0", "1.5", "-2.25e3", "1e999", "-1e999", "NaN", "Infinity", "-Infinity",
     str(2**53), str(-(2**53)), str(2**53 + 1), "9" * 17, "9" * 400, "1000", "1001", "0.1e1"]
) | st.integers().map(str) | st.floats(allow_nan=False, allow_infinity=False).map(repr)  # fmt: skip
_STRINGS = (
    _TEXTS.map(lambda t: json.dumps(t, ensure_ascii=False))
    | _TEXTS.map(lambda t: json.dumps(t, ensure_ascii=True))
    | st.sampled_from(['"\\ud800"', '"a\\udfff"', '"\\ud83d\\ude00"', '"\\\\ud800"', '"123456789"'])
)
_SCALARS = _NUMBERS | _STRINGS | st.sampled_from(["true", "false", "null"])


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f'"{k}": {v}' for k, v in pairs) + "}"


_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=7).map(lambda items: "[" + ",".join(items) + "]")
        | st.lists(st.tuples(_KEY_NAMES, inner), max_size=6).map(_object)
    ),
    max_leaves=40,
)


def _nested(depth: int, leaf: str) -> str:
    for k in range(depth):
        leaf = f'{{"a":{leaf}}}' if k % 3 else f"[{leaf}]"
    return leaf


_DOCUMENTS = (
    _VALUES
    | st.builds(_nested, st.integers(1, 40), _VALUES)
    | st.sampled_from(
        [
            "[" * 3000 + "]" * 3000,
            "[" * 5000,
            "[" * 33 + "]" * 33,
            "[" * 32 + "]" * 32,
            "[" + ",".join(["0"] * 10_001) + "]",
            "[" + ",".join(["0"] * 10_000) + "]",
            _object([(f"k{i}", "0") for i in range(1001)]),
            _object([(f"k{i}", "0") for i in range(1000)]),
            json.dumps("x" * 65_537),
            json.dumps(["x" * 65_536, "y"]),
            "[" + "9" * 5000 + "]",
            '{"a": 1, "a": 1}',
            '{"a":1,"a" :2}',
            '{"a\\"":1,"a\\"":2}',
            '[{"a":{"b":1,"b":2}},{"c":[{"d":1}]}]',
            '{":":0,"a":{":":1}}',
            "\ufeff[]",
            "",
            "[1,]",
        ]
    )
)


def _encodings(doc: str) -> st.SearchStrategy[str | bytes]:
    raw = doc.encode("utf-8", "surrogatepass")
    return st.sampled_from([doc, raw]) | st.builds(
        lambda at, junk: raw[:at] + junk + raw[at:],
        st.integers(0, len(raw)),
        st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b" ", b"\n\t"]),
    )


def _outcome(read: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "accepted", read()
    except _OldRefused as refused:
        return refused.stage, refused.rule  # type: ignore[attr-defined]
    except ValueError as refused:
        return "refused", str(refused).rsplit("(rule ", 1)[1].rstrip(")")


def _same(data: str | bytes, limits: Limits) -> None:
    old = _outcome(lambda: old_loads(data, limits))
    new = _outcome(lambda: loads(data, what="doc", error=ValueError, limits=limits))
    if old[0] == "accepted":
        assert new[0] == "accepted", (old, new)
        assert repr(new[1]) == repr(old[1])
        flagged = load_flagged(data, what="doc", error=ValueError, screen=SCREEN, limits=limits)[1]
        assert flagged == _reference_contains(old[1])
    else:
        assert new[0] == "refused", (old, new)
        if old[0] == "decode":
            assert new[1] == old[1]
        else:
            assert new[1] in WALK_RULES, (old, new)


SCREEN = KeyScreen(_prohibited)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCUMENTS.flatmap(_encodings), st.sampled_from([LIMITS, SMALL]))
def test_generated_documents_get_the_answers_of_the_old_reader(
    data: str | bytes, limits: Limits
) -> None:
    _same(data, limits)


@pytest.mark.parametrize(
    ("doc", "rule"),
    [
        ("[" * 3000 + "]" * 3000, "json.depth"),
        ("[" * 33 + "]" * 33, "json.depth"),
        ('{"a": 1, "a": 2}', "json.duplicate_key"),
        ('{"a":1,"a":2}', "json.duplicate_key"),
        ('{"x":[{"a":{"b":1,"b":{}}}]}', "json.duplicate_key"),
        ('{"a":1,"a"\n:2}', "json.duplicate_key"),
        ('{"a\\"":1,"a\\"":2}', "json.duplicate_key"),
        ("[NaN]", "json.non_finite"),
        ("[1e999]", "json.non_finite"),
        ("[" + "9" * 5000 + "]", "json.number_range"),
        (f"[{2**53 + 1}]", "json.number_range"),
        ('["\\ud800"]', "json.surrogate"),
        ('{"\\udc00": 1}', "json.surrogate"),
        (json.dumps(["x" * 65_537]), "json.string_length"),
        (json.dumps({"x" * 65_537: 1}), "json.string_length"),
        ("[" + ",".join(["0"] * 10_001) + "]", "json.array_length"),
        (_object([(f"k{i}", "0") for i in range(1001)]), "json.members"),
        ("\ufeff[]", "json.bom"),
        ("[1,", "json.syntax"),
    ],
)
def test_each_rule_is_named_as_before(doc: str, rule: str) -> None:
    with pytest.raises(_OldRefused) as old:
        old_loads(doc)
    assert old.value.rule == rule
    with pytest.raises(ValueError, match=rf"\(rule {rule}\)$"):
        loads(doc, what="doc", error=ValueError)
    with pytest.raises(ValueError, match=rf"\(rule {rule}\)$"):
        loads(doc.encode("utf-8", "surrogatepass"), what="doc", error=ValueError)


def test_invalid_utf8_is_refused_as_before() -> None:
    with pytest.raises(ValueError, match=r"rule json\.utf8"):
        loads(b'["\xff"]', what="doc", error=ValueError)
    with pytest.raises(ValueError, match=r"rule json\.utf8"):
        loads(b'["\xed\xa0\x80"]', what="doc", error=ValueError)  # a surrogate in UTF-8


def test_a_remembered_key_is_not_a_pass_for_a_stricter_limit() -> None:
    # A key of 20 characters, valid under the default limits and remembered, is still too
    # long for a document read with a string limit of 8.
    doc = json.dumps({"k" * 20: 1})
    assert loads(doc, what="doc", error=ValueError) == {"k" * 20: 1}
    with pytest.raises(ValueError, match=r"rule json\.string_length"):
        loads(doc, what="doc", error=ValueError, limits=SMALL)
    # The same for a limit long enough to use remembered keys: a key longer than it was never
    # remembered.
    long_key = json.dumps({"k" * 400: 1})
    assert loads(long_key, what="doc", error=ValueError) == {"k" * 400: 1}
    with pytest.raises(ValueError, match=r"rule json\.string_length"):
        loads(long_key, what="doc", error=ValueError, limits=Limits(max_string=300))


def test_a_prohibited_key_is_flagged_every_time_it_is_seen() -> None:
    screen = KeyScreen(_prohibited)
    for _ in range(3):
        _, flagged = load_flagged(b'{"a": [{"Blood-Type": "O"}]}', what="d", error=ValueError,
                                  screen=screen)  # fmt: skip
        assert flagged
        _, flagged = load_flagged(b'{"a": [{"title": "O"}]}', what="d", error=ValueError,
                                  screen=screen)  # fmt: skip
        assert not flagged


# -- nesting measured before decoding (a host that raised the recursion limit) ----------------


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_TREES = st.recursive(
    st.none() | st.integers() | _TEXTS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXTS, inner, max_size=3),
    max_leaves=60,
)


@settings(max_examples=400, deadline=None)
@given(_TREES, st.integers(0, 12), st.booleans())
def test_nesting_measured_on_the_text_is_the_depth_of_the_document(
    tree: Any, extra: int, ascii_only: bool
) -> None:
    for _ in range(extra):
        tree = {'a\\"[': [tree]}
    raw = json.dumps(tree, ensure_ascii=ascii_only).encode()
    depth = _depth(tree)
    for limit in (depth - 1, depth, 8):
        if limit >= 0:
            assert _nesting_exceeds(raw, limit) == (depth > limit)


@contextmanager
def _recursion_limit(limit: int) -> Iterator[None]:
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def test_deep_documents_are_refused_before_decoding_under_a_raised_recursion_limit() -> None:
    # Under a recursion limit this high the C decoder would reach the end of the C stack on
    # 200,000 brackets before raising RecursionError; the text is measured first instead.
    with _recursion_limit(1_000_000):
        for doc in ("[" * 200_000 + "]" * 200_000, "[" * 200_000, '{"a":' * 200_000):
            with pytest.raises(ValueError, match=r"rule json\.depth"):
                loads(doc, what="doc", error=ValueError)
        assert loads(b"[" * 32 + b"]" * 32, what="doc", error=ValueError) is not None
        with pytest.raises(ValueError, match=r"rule json\.syntax"):
            loads(b"[" * 20, what="doc", error=ValueError)  # truncated, not too deep
        with pytest.raises(ValueError, match=r"rule json\.depth"):
            loads(b'["]]]]",' + b"[" * 40 + b"]" * 40 + b"]", what="doc", error=ValueError)
