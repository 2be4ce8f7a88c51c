"""Decoding foreign JSON within bounds: the one door every platform or file document goes through.

Reports, batch answers, measure lists, list indexes, policy profiles and problem documents come
from outside the process. Python's decoders have edges that are not the SDK's errors: 3,000
nested brackets raise ``RecursionError``, ``1e999`` becomes infinity, ``NaN`` is accepted,
a duplicated key silently keeps its last value, ``\\ud800`` yields a string that cannot be
encoded again, a 5,000-digit number costs quadratic time. :func:`loads` turns every one of them
into one typed error chosen by the caller (``ReportError``, ``CatalogError``,
``PlatformProtocolError``...) whose message names the rule and never quotes the document.

The limits (:data:`LIMITS`) are far above anything the contract needs:

=================  ==========  ===========================================================
bound              value       why
=================  ==========  ===========================================================
nesting depth      32          a report is 5 levels deep; a measure list 6
string length      65,536      the longest free text of the contract (a measure's content)
array length       10,000      a measure list of the national size is a few hundred entries
object members     1,000       the widest object of the contract has about 30
integers           ±2**53      amounts and counts; beyond that JSON loses precision anyway
numbers            finite      ``NaN``, ``Infinity`` and ``1e999`` are refused
=================  ==========  ===========================================================

How: the C decoder of the standard library reads the text, with hooks only where it has no
rule of its own (duplicate keys, ``NaN``, numbers); then one iterative walk, level by level,
checks the depth, the lengths and the object keys, and tells whether any key is one a
:class:`KeyScreen` flags (the Art. 20 screen, :mod:`credit_sdk._privacy`), so that a caller
needs no second walk. Keys seen before are checked by one set operation per object; strings
are checked one by one only where the text could hold a bad one (a text longer than the string
limit, or one with a surrogate escape). The C decoder stops at the interpreter's recursion
limit (``RecursionError``, refused as ``json.depth``); if a host raised that limit, the text's
nesting is measured before it is decoded.

>>> loads(b'{"a": [1, 2.5, "x"]}', what="example", error=ValueError)
{'a': [1, 2.5, 'x']}
>>> loads(b'{"a": 1, "a": 2}', what="example", error=ValueError)
Traceback (most recent call last):
...
ValueError: example: duplicate key in an object (rule json.duplicate_key)
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["LIMITS", "KeyScreen", "Limits", "check", "check_tree", "load_flagged", "loads"]


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 32
    max_string: int = 65_536
    max_array: int = 10_000
    max_members: int = 1_000
    max_int: int = 2**53
    max_bytes: int = 16 * 1024 * 1024


LIMITS = Limits()


class _Refused(Exception):
    """Internal: a rule broken while decoding (converted to the caller's error)."""

    def __init__(self, rule: str, text: str) -> None:
        super().__init__(text)
        self.rule = rule


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Refused("json.duplicate_key", "duplicate key in an object")
    return out


def _constant(name: str) -> Any:
    raise _Refused("json.non_finite", "NaN and Infinity are not JSON numbers")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("json.non_finite", "a number is out of the finite range")
    return value


def _int_parser(limit: int) -> Callable[[str], int]:
    digits = len(str(limit)) + 1

    def parse(text: str) -> int:
        if len(text) > digits or abs(value := int(text)) > limit:
            raise _Refused("json.number_range", f"an integer is outside ±{limit}")
        return value

    return parse


_DECODERS: dict[Limits, json.JSONDecoder] = {}


def _decoder(limits: Limits) -> json.JSONDecoder:
    """The standard library's (C) decoder, with hooks for the rules it has none of: duplicate
    keys, ``NaN``/``Infinity``, numbers out of range (checked before they are converted)."""
    decoder = _DECODERS.get(limits)
    if decoder is None:
        decoder = json.JSONDecoder(
            object_pairs_hook=_pairs,
            parse_constant=_constant,
            parse_float=_float,
            parse_int=_int_parser(limits.max_int),
        )
        _DECODERS[limits] = decoder
    return decoder


def _text(data: str | bytes | bytearray | memoryview, limits: Limits) -> str:
    if isinstance(data, str):
        if len(data) > limits.max_bytes:
            raise _Refused("json.size", f"the document exceeds {limits.max_bytes} characters")
        if data.startswith("\ufeff"):
            raise _Refused("json.bom", "the document starts with a byte order mark")
        if not data.isascii():
            try:
                data.encode("utf-8")
            except UnicodeEncodeError:
                raise _Refused("json.surrogate", "the document holds a lone surrogate") from None
        return data
    raw = bytes(data)
    if len(raw) > limits.max_bytes:
        raise _Refused("json.size", f"the document exceeds {limits.max_bytes} bytes")
    if raw.startswith(b"\xef\xbb\xbf"):
        raise _Refused("json.bom", "the document starts with a byte order mark")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused("json.utf8", "the document is not valid UTF-8") from None


def check_tree(value: Any, limits: Limits = LIMITS) -> None:
    """Walk a decoded (or caller-built) tree without recursion and enforce the limits.

    Raises ``_Refused``; used by :func:`loads` and, through :func:`check`, for values that did
    not come from bytes (a ``dict`` passed to ``CreditReport.parse``). Written for speed: one
    pass, containers only on the stack, scalars checked where they are met."""
    max_depth, max_string, max_int = limits.max_depth, limits.max_string, limits.max_int
    stack: list[tuple[Any, int]] = [(value, 1)]
    push = stack.append
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise _Refused("json.depth", f"nested deeper than {max_depth} levels")
        if isinstance(item, dict):
            if len(item) > limits.max_members:
                raise _Refused("json.members", f"an object has more than {limits.max_members}")
            for key in item:
                if type(key) is not str:
                    raise _Refused("json.key_type", "an object key is not a string")
                _string(key, max_string)
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            if len(item) > limits.max_array:
                raise _Refused("json.array_length", f"an array exceeds {limits.max_array} items")
            children = item
        else:
            children = (item,)
            depth -= 1
        for child in children:
            kind = type(child)
            if kind is str:
                if len(child) > max_string or not child.isascii():
                    _string(child, max_string)
            elif kind is dict or kind is list or kind is tuple:
                push((child, depth + 1))
            elif kind is int:
                if not -max_int <= child <= max_int:
                    raise _Refused("json.number_range", f"an integer is outside ±{max_int}")
            elif kind is float:
                if not math.isfinite(child):
                    raise _Refused("json.non_finite", "a number is not finite")
            elif child is None or kind is bool:
                pass
            elif isinstance(child, str):
                _string(child, max_string)
            elif isinstance(child, dict | list | tuple):
                push((child, depth + 1))
            elif isinstance(child, float) and not math.isfinite(child):
                raise _Refused("json.non_finite", "a number is not finite")
            elif (
                isinstance(child, int)
                and not isinstance(child, bool)
                and not -max_int <= child <= max_int
            ):
                raise _Refused("json.number_range", f"an integer is outside ±{max_int}")


def _string(text: str, max_string: int) -> None:
    if len(text) > max_string:
        raise _Refused("json.string_length", f"a string exceeds {max_string} characters")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _Refused("json.surrogate", "a string holds a lone surrogate") from None


class KeyScreen:
    """Object keys that a decoding walk watches for: ``flag(key)`` is true for a key the caller
    must act on (an Art. 20 prohibited field name). Keys found valid and not flagged are
    remembered (a bounded set: keys come from outside), so an object whose keys are all known
    costs one set operation. One screen per predicate, shared by every call that uses it.

    >>> screen = KeyScreen(lambda key: key == "secret")
    >>> load_flagged(b'{"a": {"secret": 1}}', what="example", error=ValueError, screen=screen)
    ({'a': {'secret': 1}}, True)
    """

    __slots__ = ("flag", "known")

    def __init__(self, flag: Callable[[str], bool] | None) -> None:
        self.flag = flag
        self.known: set[str] = set()


_PLAIN = KeyScreen(None)
# Keys up to this length are remembered (so the string limit of any Limits at least this long
# holds for them); at most this many, as the key caches of credit_sdk._privacy.
_KEY_LENGTH = 256
_KNOWN_LIMIT = 65_536
# Beyond this recursion limit (the interpreter's default is 1,000) the C decoder could exhaust
# the C stack before it raises RecursionError: nesting is then measured first.
_SAFE_RECURSION = 4_000
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _new_keys(item: dict[str, Any], screen: KeyScreen, max_string: int) -> bool:
    """Check the keys of ``item`` that ``screen`` does not know; true if one is flagged."""
    known, flag = screen.known, screen.flag
    flagged = False
    for key in item:
        if key in known:
            continue
        _string(key, max_string)
        if flag is not None and flag(key):
            flagged = True
        elif len(key) <= _KEY_LENGTH and len(known) < _KNOWN_LIMIT:
            known.add(key)
    return flagged


def _walk(value: Any, limits: Limits, screen: KeyScreen, strings: bool) -> bool:
    """Enforce ``limits`` on a tree the JSON decoder built (dicts with ``str`` keys, lists,
    ``str``, numbers the hooks checked, ``True``/``False``/``None``), one nesting level at a
    time; true if ``screen`` flags a key. ``strings``: check every string's length and
    encoding (else only keys not seen before: the text cannot hold a bad string)."""
    kind = type(value)
    if kind is not dict and kind is not list:
        if kind is str and strings:
            _string(value, limits.max_string)
        return False
    if limits.max_string < _KEY_LENGTH:
        screen = KeyScreen(screen.flag)  # remembered keys are only known to fit this long
    max_depth, max_members, max_array = limits.max_depth, limits.max_members, limits.max_array
    max_string = limits.max_string
    known = screen.known
    flagged = False
    level: list[Any] = [value]
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            raise _Refused("json.depth", f"nested deeper than {max_depth} levels")
        below: list[Any] = []
        push = below.append
        for item in level:
            if type(item) is dict:
                if len(item) > max_members:
                    raise _Refused("json.members", f"an object has more than {max_members}")
                if not known.issuperset(item) and _new_keys(item, screen, max_string):
                    flagged = True
                children: Any = item.values()
            else:
                if len(item) > max_array:
                    raise _Refused("json.array_length", f"an array exceeds {max_array} items")
                children = item
            if strings:
                for child in children:
                    kind = type(child)
                    if kind is str:
                        if len(child) > max_string or not child.isascii():
                            _string(child, max_string)
                    elif kind is dict or kind is list:
                        push(child)
            else:
                for child in children:
                    kind = type(child)
                    if kind is dict or kind is list:
                        push(child)
        level = below
    return flagged


_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_FOLD = bytes.maketrans(b"{}", b"[]")


def _nesting_exceeds(raw: bytes, limit: int) -> bool:
    """Whether the brackets of ``raw`` (outside strings) nest deeper than ``limit`` anywhere,
    measured without decoding: escaped backslashes and quotes are removed, everything but
    quotes and brackets deleted, strings cut out, and matched innermost pairs removed level by
    level; a pair left after ``limit`` rounds, or more than ``limit`` brackets never closed,
    is too deep."""
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = raw.translate(None, _NOT_STRUCTURE)
    brackets = b"".join(skeleton.split(b'"')[::2]).translate(_FOLD)
    for _ in range(limit):
        if b"[]" not in brackets:
            break
        brackets = brackets.replace(b"[]", b"")
    return b"[]" in brackets or brackets.count(b"[") > limit


def _decode(
    data: str | bytes | bytearray | memoryview, limits: Limits, screen: KeyScreen
) -> tuple[Any, bool]:
    text = _text(data, limits)
    if sys.getrecursionlimit() > _SAFE_RECURSION:
        raw = text.encode("utf-8") if isinstance(data, str) else bytes(data)
        if _nesting_exceeds(raw, limits.max_depth):
            raise _Refused("json.depth", f"nested deeper than {limits.max_depth} levels")
    try:
        value = _decoder(limits).decode(text)
    except RecursionError:
        raise _Refused("json.depth", f"nested deeper than {limits.max_depth} levels") from None
    except json.JSONDecodeError as err:
        raise _Refused("json.syntax", f"not valid JSON ({err.msg} at line {err.lineno})") from None
    except ValueError:  # int() beyond sys.get_int_max_str_digits
        raise _Refused("json.number_range", "a number is out of range") from None
    # Strings need a look of their own only where the text could hold a bad one: longer than
    # the limit, or with an escape that decodes to a lone surrogate (the UTF-8 check above
    # refused every other way to one).
    strings = len(text) > limits.max_string or (
        "\\u" in text and _SURROGATE_ESCAPE.search(text) is not None
    )
    return value, _walk(value, limits, screen, strings)


def loads(
    data: str | bytes | bytearray | memoryview,
    *,
    what: str,
    error: Callable[[str], Exception],
    limits: Limits = LIMITS,
) -> Any:
    """Decode ``data`` as JSON within ``limits``, or raise ``error(message)`` naming ``what``
    and the rule (``json.depth``, ``json.duplicate_key``, ``json.utf8``...), never the data."""
    try:
        return _decode(data, limits, _PLAIN)[0]
    except _Refused as refused:
        raise error(f"{what}: {refused} (rule {refused.rule})") from None


def load_flagged(
    data: str | bytes | bytearray | memoryview,
    *,
    what: str,
    error: Callable[[str], Exception],
    screen: KeyScreen,
    limits: Limits = LIMITS,
) -> tuple[Any, bool]:
    """:func:`loads`, and whether ``screen`` flags any object key at any depth (found by the
    same walk that checks the limits)."""
    try:
        return _decode(data, limits, screen)
    except _Refused as refused:
        raise error(f"{what}: {refused} (rule {refused.rule})") from None


def check(
    value: Any, *, what: str, error: Callable[[str], Exception], limits: Limits = LIMITS
) -> None:
    """:func:`check_tree` for a value built by the caller, raising ``error`` like :func:`loads`."""
    try:
        check_tree(value, limits)
    except _Refused as refused:
        raise error(f"{what}: {refused} (rule {refused.rule})") from None
    except RecursionError:  # a cyclic or pathological object graph reached through __eq__...
        raise error(f"{what}: nested too deeply (rule json.depth)") from None


def load_object(
    data: object, *, what: str, error: Callable[[str], Exception], limits: Limits = LIMITS
) -> dict[str, Any]:
    """A JSON object given as text, bytes or a mapping, as a new ``dict`` within ``limits``;
    ``error(message)`` when it breaks them or is no object, ``TypeError`` for any other type.

    The one way a document the SDK is handed (a measure list, an information catalogue) is
    read, whatever form the caller gives it in.
    """
    if isinstance(data, str | bytes | bytearray):
        raw = loads(data, what=what, error=error, limits=limits)
    elif isinstance(data, Mapping):
        check(data, what=what, error=error, limits=limits)
        raw = dict(data)
    else:
        raise TypeError(f"data must be JSON text, bytes or a mapping, not {type(data).__name__}")
    if not isinstance(raw, dict):
        raise error(f"{what} is not a JSON object")
    return raw
