"""Parse and validate the identifiers that key a credit subject (Art. 21).

Natural persons are keyed by their resident ID number (居民身份证号码, GB 11643-1999), or, when
they have none, by a passport or another valid certificate; organisations are keyed by their
unified social credit code (统一社会信用代码, GB 32100-2015). Everything is checked locally,
before any I/O, and a broken rule raises :class:`~credit_sdk.InvalidIdentifier` naming it.

An :class:`Identifier` never shows its raw value: ``str``, ``repr``, ``format``, pydantic
serialization and every error message use the masked form. :meth:`Identifier.reveal` is the
only way to get the raw value back, and :meth:`Identifier.pseudonym` gives a keyed, stable
stand-in for logs and caches.

>>> rid = parse_identifier("360426199101010071")
>>> rid
ResidentId('3604**********0071')
>>> rid.birth_date, rid.legacy
(datetime.date(1991, 1, 1), False)
>>> parse_identifier("91110000600037341L").masked
'9111**********341L'
>>> parse_identifier("passport:E12345678").id_type
'passport'
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from enum import StrEnum
from operator import mul
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import CoreSchema, core_schema

from credit_sdk._errors import ConfigurationError, InvalidIdentifier

if TYPE_CHECKING:
    from pydantic.json_schema import JsonSchemaValue

__all__ = [
    "Identifier",
    "IdentifierKind",
    "OtherId",
    "ResidentId",
    "Uscc",
    "compute_resident_check",
    "compute_uscc_check",
    "parse_identifier",
]


class IdentifierKind(StrEnum):
    """Which standard an identifier follows."""

    RESIDENT_ID = "resident_id"
    USCC = "uscc"
    OTHER = "other"


# --- tables, built once at import -------------------------------------------------------------

# Province-level division codes (GB/T 2260): the first two digits of a resident ID's address code
# and of a USCC's region code. Only the province is checked: county codes change over time and a
# number keeps the code of the county at registration, so a county table would reject real people.
_PROVINCES = frozenset(
    f"{n:02d}"
    for lo, hi in ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65))
    for n in range(lo, hi + 1)
) | {"71", "81", "82"}
# A USCC issued by a central-level authority carries region code 100000.
_USCC_REGIONS = _PROVINCES | {"10"}

# ISO 7064 MOD 11-2 weights, w_i = 2^(17-i) mod 11.
_RESIDENT_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_RESIDENT_CHECK = "10X98765432"  # _RESIDENT_CHECK[sum % 11] is (12 - sum) % 11, 10 written X
# The sum is taken over the ASCII bytes ("0" is 48), which is cheaper than int() per character;
# the constant 48 * sum(weights) is subtracted afterwards.
_RESIDENT_OFFSET = 48 * sum(_RESIDENT_WEIGHTS)

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
# bytes.translate table: ASCII byte -> value in the alphabet, 255 for a character not in it.
_USCC_VALUE = bytes(
    _USCC_ALPHABET.index(chr(b)) if chr(b) in _USCC_ALPHABET else 255 for b in range(256)
)
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# Position 2 (institution type) allowed for each position 1 (registration authority).
_USCC_TYPES: dict[str, frozenset[str]] = {
    authority: frozenset(types)
    for authority, types in {
        "1": "1239", "2": "19", "3": "123459", "4": "19", "5": "1239", "6": "129",
        "7": "129", "8": "19", "9": "123", "A": "19", "N": "1239", "Y": "1",
    }.items()
}  # fmt: skip

_OTHER_TYPE = re.compile(r"[a-z][a-z0-9_]{1,31}")
_RESIDENT_LAST = frozenset("0123456789X")
_EARLIEST_BIRTH = datetime.date(1900, 1, 1)

# Whitespace removed anywhere: tab and every Unicode space separator (Zs: ASCII space, NBSP,
# U+2000-U+200A, U+3000 ideographic space...), because numbers are pasted from forms and PDFs
# grouped with them. Line breaks are removed only at the ends (by str.strip): inside, they
# usually mean two values were glued together, so they are rejected.
_INNER_WHITESPACE = (
    "\t\u0020\u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + ("\u202f\u205f\u3000")
)


def _build_translate() -> dict[int, int | None]:
    table: dict[int, int | None] = dict.fromkeys(map(ord, _INNER_WHITESPACE))
    # Full-width digits and Latin letters (typed with a Chinese IME) map to ASCII. NFKC is applied
    # to these three ranges only: applied blindly it would also "fix" superscripts, circled
    # digits and the like, which are not something a person meant to type.
    for lo, hi in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)):
        for cp in range(lo, hi + 1):
            table[cp] = ord(unicodedata.normalize("NFKC", chr(cp)))
    return table


_TRANSLATE = _build_translate()

_SHAPES = (
    "accepted shapes: an 18-character resident ID number, a 15-digit first-generation resident "
    "ID number, an 18-character unified social credit code, or TYPE:NUMBER for another "
    "certificate (e.g. passport:E12345678)"
)
_LABEL = {
    IdentifierKind.RESIDENT_ID: "resident ID number",
    IdentifierKind.USCC: "unified social credit code",
    IdentifierKind.OTHER: "certificate number",
}


# --- helpers -----------------------------------------------------------------------------------


def _fail(kind: IdentifierKind | None, rule: str, detail: str) -> NoReturn:
    label = _LABEL[kind] if kind is not None else "identifier"
    raise InvalidIdentifier(
        f"invalid {label} (rule {rule}): {detail}",
        rule=rule,
        kind=kind.value if kind is not None else None,
    )


def _mask(value: str, keep: int = 4) -> str:
    """Keep ``keep`` characters at each end; always hide at least half of the value."""
    keep = min(keep, len(value) // 4)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[len(value) - keep :]


def _normalise(text: str) -> str:
    if text.isascii() and text.isalnum():  # fast path: nothing to strip or map
        return text
    return text.strip().translate(_TRANSLATE)


def _is_ascii_alnum(s: str) -> bool:
    return s.isascii() and s.isalnum()


def compute_resident_check(body17: str) -> str:
    """Return the GB 11643 check character (ISO 7064 MOD 11-2) for 17 digits.

    >>> compute_resident_check("36042619910101007")
    '1'
    """
    if len(body17) != 17 or not (body17.isascii() and body17.isdigit()):
        raise InvalidIdentifier("the check body must be 17 digits", rule="length")
    return _resident_check(body17)


def _resident_check(body17: str) -> str:  # body17: 17 ASCII digits, already checked
    total = sum(map(mul, body17.encode(), _RESIDENT_WEIGHTS)) - _RESIDENT_OFFSET
    return _RESIDENT_CHECK[total % 11]


def compute_uscc_check(body17: str) -> str:
    """Return the GB 32100 check character (MOD 31 over the USCC alphabet) for 17 characters.

    >>> compute_uscc_check("91110000600037341")
    'L'
    """
    values = _uscc_values(body17)
    if len(values) != 17 or 255 in values:
        raise InvalidIdentifier(
            "the check body must be 17 characters of the USCC alphabet", rule="charset"
        )
    return _uscc_check(values)


def _uscc_values(s: str) -> bytes:
    """Each character's value in the USCC alphabet; 255 for a character outside it."""
    return s.encode("ascii").translate(_USCC_VALUE) if s.isascii() else b"\xff"


def _uscc_check(values: bytes) -> str:  # values: 17 values from _uscc_values, all valid
    return _USCC_ALPHABET[-sum(map(mul, values, _USCC_WEIGHTS)) % 31]


# --- the value types ---------------------------------------------------------------------------


def _restore(cls: type[Identifier], state: tuple[tuple[str, object], ...]) -> Identifier:
    # Unpickling target: objects are immutable, so slots are filled with object.__setattr__.
    obj = object.__new__(cls)
    for name, value in state:
        object.__setattr__(obj, name, value)
    return obj


class _RedactedInput:
    """What pydantic shows as ``input_value`` when an identifier fails validation.

    pydantic prints the failing input in ``ValidationError`` messages; wrapping the input first
    means it prints this placeholder instead of the raw number.
    """

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __repr__(self) -> str:
        if isinstance(self.value, str):
            return f"<redacted identifier input, {len(self.value)} chars>"
        return f"<redacted identifier input, {type(self.value).__name__}>"

    __str__ = __repr__


class Identifier:
    """An identifier of a credit subject; abstract base of :class:`ResidentId`, :class:`Uscc`
    and :class:`OtherId`.

    Immutable and hashable; two identifiers are equal when their kind and canonical value are
    equal (a first-generation 15-digit resident ID equals its 18-digit upgrade). Only
    :meth:`reveal` returns the raw value; everything else shows :attr:`masked`.

    As a pydantic field type, ``Identifier`` (or a subclass) accepts a string (auto-detected
    with :func:`parse_identifier`), a mapping ``{"kind": ..., "number": ..., "id_type": ...}`` or
    an instance, and serializes to the masked form::

        class Subject(BaseModel):
            id: Identifier

        Subject(id="91110000600037341L").model_dump()  # {'id': '9111**********341L'}
    """

    __slots__ = ("_canonical",)
    kind: ClassVar[IdentifierKind]
    _canonical: str

    def __init__(self) -> None:
        raise TypeError("Identifier is abstract: use parse_identifier() or a subclass")

    def reveal(self) -> str:
        """Return the canonical raw value. Handle it as personal data."""
        return self._canonical

    @property
    def masked(self) -> str:
        """The first 4 and last 4 characters, the rest as ``*``: ``'3604**********0071'``."""
        return _mask(self._canonical)

    def pseudonym(self, key: bytes) -> str:
        """Hex HMAC-SHA256 of ``"{kind}:{canonical}"``: stable per key, differs per kind.

        The key must be at least 16 bytes (else :class:`~credit_sdk.ConfigurationError`).
        """
        if not isinstance(key, bytes | bytearray):
            raise TypeError("the pseudonym key must be bytes")
        if len(key) < 16:
            raise ConfigurationError("the pseudonym key must be at least 16 bytes")
        message = f"{self.kind.value}:{self._canonical}".encode()
        return hmac.new(bytes(key), message, hashlib.sha256).hexdigest()

    def _set(self, **fields: object) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Identifier):
            return NotImplemented
        return self.kind is other.kind and self._canonical == other._canonical

    def __hash__(self) -> int:
        return hash((self.kind, self._canonical))

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.masked!r})"

    def __format__(self, format_spec: str) -> str:
        return format(self.masked, format_spec)

    def __copy__(self) -> Identifier:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Identifier:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        slots = [s for c in type(self).__mro__ for s in c.__dict__.get("__slots__", ())]
        return (_restore, (type(self), tuple((s, getattr(self, s)) for s in slots)))

    # pydantic v2 integration

    @classmethod
    def _from_pydantic(cls, value: object) -> Identifier:
        if isinstance(value, _RedactedInput):
            value = value.value
        forced = None if cls is Identifier else cls.kind
        if isinstance(value, Identifier | str):
            ident = parse_identifier(value, forced)
        elif isinstance(value, Mapping):
            if not set(value) <= {"kind", "number", "id_type"} or "number" not in value:
                _fail(forced, "type", "a mapping needs 'number' and may have 'kind', 'id_type'")
            kind, number, id_type = value.get("kind"), value["number"], value.get("id_type")
            if not isinstance(number, str) or not isinstance(kind, str | None):
                _fail(forced, "type", "'number' and 'kind' must be strings")
            if not isinstance(id_type, str | None):
                _fail(forced, "type", "'id_type' must be a string")
            ident = parse_identifier(number, kind if kind is not None else forced, id_type=id_type)
        else:
            _fail(forced, "type", "expected a string, a mapping or an Identifier")
        if not isinstance(ident, cls):
            _fail(forced, "type", f"expected a {cls.kind.value} identifier, got {ident.kind.value}")
        return ident

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.chain_schema(
            [
                # First wrap the input so that error messages print a placeholder, not the number.
                core_schema.no_info_plain_validator_function(_RedactedInput),
                core_schema.no_info_plain_validator_function(cls._from_pydantic),
            ],
            serialization=core_schema.plain_serializer_function_ser_schema(
                _masked_of, when_used="always", return_schema=core_schema.str_schema()
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        masked: JsonSchemaValue = {"type": "string", "description": "masked identifier"}
        if handler.mode == "serialization":
            return masked
        mapping = {
            "type": "object",
            "properties": {k: {"type": "string"} for k in ("kind", "number", "id_type")},
            "required": ["number"],
            "additionalProperties": False,
        }
        return {"anyOf": [{"type": "string"}, mapping]}


def _masked_of(value: Identifier) -> str:
    return value.masked


class ResidentId(Identifier):
    """A resident ID number (居民身份证号码, GB 11643-1999).

    Checked: 18 characters, 17 digits then a digit or ``X`` (``x`` accepted); the ISO 7064
    MOD 11-2 check character; the birth date (a real date, 1900-01-01 to today); and the
    province of the address code. The county is not checked (codes change over time).

    A first-generation 15-digit number (YYMMDD birth date, no check character) is accepted,
    flagged ``legacy=True`` and canonicalised to its standard 18-digit upgrade (``19`` inserted
    before the year, check character computed), so :meth:`reveal`, equality and
    :meth:`pseudonym` match the same person's 18-digit number.

    >>> ResidentId("230103800101001") == ResidentId("230103198001010010")
    True
    """

    __slots__ = ("birth_date", "legacy", "region_code")
    kind: ClassVar[IdentifierKind] = IdentifierKind.RESIDENT_ID
    region_code: str
    birth_date: datetime.date
    legacy: bool

    def __init__(self, text: str, *, today: datetime.date | None = None) -> None:
        kind = IdentifierKind.RESIDENT_ID
        s = _normalise(text).upper()
        if not s:
            _fail(kind, "empty", "nothing left after removing whitespace")
        if not _is_ascii_alnum(s):
            _fail(kind, "charset", "only digits and a final X are allowed")
        legacy = len(s) == 15
        if legacy:
            if not s.isdigit():
                _fail(kind, "charset", "a 15-character number must be all digits")
            s = s[:6] + "19" + s[6:]
            s += _resident_check(s)
        elif len(s) != 18:
            _fail(kind, "length", f"expected 18 characters (or 15 digits), got {len(s)}")
        elif not (s[:17].isdigit() and s[17] in _RESIDENT_LAST):
            _fail(kind, "charset", "expected 17 digits then a digit or X")
        # The check character comes first: it is the standard's typo detector, so when it
        # fails the best advice is "re-type it"; date and region failures on a number with a
        # good check character mean the number itself cannot have been issued.
        elif _resident_check(s[:17]) != s[17]:
            _fail(kind, "check_character", f"check character does not match ({_mask(s)})")
        try:
            birth = datetime.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
        except ValueError:
            _fail(kind, "date", f"the birth date is not a calendar date ({_mask(s)})")
        if birth > (today or datetime.date.today()):
            _fail(kind, "date", f"the birth date is in the future ({_mask(s)})")
        if birth < _EARLIEST_BIRTH:
            _fail(kind, "date", f"the birth date is before 1900-01-01 ({_mask(s)})")
        if s[:2] not in _PROVINCES:
            _fail(kind, "region", f"unknown province in the address code ({_mask(s)})")
        self._set(_canonical=s, region_code=s[:6], birth_date=birth, legacy=legacy)


class Uscc(Identifier):
    """A unified social credit code (统一社会信用代码, GB 32100-2015).

    Checked: 18 characters of ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, Z, S, V; lower
    case accepted); the MOD 31 check character; the registration authority (position 1:
    ``1``-``9``, ``A``, ``N``, ``Y``); the institution type allowed for that authority
    (position 2); and the province of the region code (positions 3-8; ``10`` = central level).

    >>> Uscc("91110000600037341L").registration_authority
    '9'
    """

    __slots__ = ("institution_type", "region_code", "registration_authority")
    kind: ClassVar[IdentifierKind] = IdentifierKind.USCC
    registration_authority: str
    institution_type: str
    region_code: str

    def __init__(self, text: str) -> None:
        kind = IdentifierKind.USCC
        s = _normalise(text).upper()
        if not s:
            _fail(kind, "empty", "nothing left after removing whitespace")
        if not _is_ascii_alnum(s):
            _fail(kind, "charset", "only digits and upper-case letters are allowed")
        if len(s) != 18:
            _fail(kind, "length", f"expected 18 characters, got {len(s)}")
        values = _uscc_values(s)
        if 255 in values:
            _fail(kind, "charset", "the letters I, O, Z, S and V are not used")
        # Same order as for resident IDs: typo detector first.
        if _uscc_check(values[:17]) != s[17]:
            _fail(kind, "check_character", f"check character does not match ({_mask(s)})")
        types = _USCC_TYPES.get(s[0])
        if types is None:
            _fail(kind, "registration_authority", "position 1 must be 1-9, A, N or Y")
        if s[1] not in types:
            _fail(kind, "institution_type", "position 2 is not a type of that authority")
        if not (s[2:8].isdigit() and s[2:4] in _USCC_REGIONS):
            _fail(kind, "region", "positions 3-8 must be a division code")
        # Positions 9-17 embed a GB 11714 organisation code with its own check character. It is
        # deliberately not verified: GB 32100 does not require it and codes assigned without a
        # prior organisation code could be rejected; the MOD 31 check already covers all 17.
        self._set(
            _canonical=s, registration_authority=s[0], institution_type=s[1], region_code=s[2:8]
        )


class OtherId(Identifier):
    """A passport or another valid certificate (Art. 21); only its shape is checked.

    ``id_type`` is a lower_snake name (``passport``, ``hk_macao_permit``, ``taiwan_permit``,
    ``foreign_permanent_residence``...; case-insensitive on input); the number has 4-32
    characters of ``A-Z0-9`` after normalisation. The canonical value is ``"id_type:NUMBER"``.

    >>> OtherId("e 1234 5678", id_type="passport")
    OtherId('passport:E1*****78')
    """

    __slots__ = ("_number", "id_type")
    kind: ClassVar[IdentifierKind] = IdentifierKind.OTHER
    id_type: str
    _number: str

    def __init__(self, text: str, *, id_type: str | None = None) -> None:
        kind = IdentifierKind.OTHER
        s = _normalise(text)
        prefix, colon, number = s.partition(":")
        if not colon:
            prefix, number = "", s
        if id_type is None:
            if not colon:
                _fail(kind, "type", "give id_type or use the TYPE:NUMBER form")
            id_type = prefix
        elif colon and prefix.lower() != id_type.lower():
            _fail(kind, "type", "the TYPE: prefix differs from id_type")
        id_type = id_type.lower()
        if not _OTHER_TYPE.fullmatch(id_type):
            _fail(kind, "type", "id_type must be lower_snake, 2-32 characters")
        number = number.upper()
        if not number:
            _fail(kind, "empty", "the number is empty")
        if not _is_ascii_alnum(number):
            _fail(kind, "charset", "the number may contain only A-Z and 0-9")
        if not 4 <= len(number) <= 32:
            _fail(kind, "length", f"the number must have 4-32 characters, got {len(number)}")
        self._set(_canonical=f"{id_type}:{number}", id_type=id_type, _number=number)

    @property
    def masked(self) -> str:
        """The type, then the number's first and last 2 characters: ``'passport:E1*****78'``.

        Numbers shorter than 8 characters keep only 1 at each end.
        """
        return f"{self.id_type}:{_mask(self._number, 2)}"


# --- entry point -------------------------------------------------------------------------------


def _resident_shaped(s: str) -> bool:
    return len(s) == 18 and s[:17].isdigit() and s[17] in "0123456789Xx"


def parse_identifier(
    text: str | Identifier,
    kind: IdentifierKind | str | None = None,
    *,
    id_type: str | None = None,
    today: datetime.date | None = None,
) -> ResidentId | Uscc | OtherId:
    """Parse and validate an identifier; raise :class:`~credit_sdk.InvalidIdentifier` naming
    the broken rule.

    Whitespace (incl. NBSP and U+3000) is removed and full-width digits and letters are mapped
    to ASCII; anything else that is not a digit or letter is rejected, never "fixed".

    With ``kind=None`` the shape decides: 18 digits (or 17 and ``X``) is a resident ID number,
    15 digits a first-generation one, 18 characters of the USCC alphabet a unified social
    credit code, ``TYPE:NUMBER`` (or an ``id_type``) another certificate. An all-digit
    18-character value that fails as a resident ID but is a valid USCC is returned as a
    :class:`Uscc` (such codes are common). An explicit ``kind`` forces the type, and errors then
    name that type's rules. ``today`` (default: the current date) bounds birth dates.

    >>> parse_identifier("４４０１１３２０１４１００５００１ｘ")
    ResidentId('4401**********001X')
    >>> parse_identifier("E12345678", "other", id_type="passport").reveal()
    'passport:E12345678'
    """
    from credit_sdk._errors import require_type

    require_type(text, (str, Identifier), "text")
    if kind is not None:
        require_type(kind, (str, IdentifierKind), "kind")
    if id_type is not None:
        require_type(id_type, str, "id_type")
    if today is not None:
        require_type(today, datetime.date, "today")
    if kind is not None and not isinstance(kind, IdentifierKind):
        try:
            kind = IdentifierKind(kind)
        except ValueError:
            _fail(None, "type", "kind must be one of resident_id, uscc, other")
    if id_type is not None:
        if kind not in (None, IdentifierKind.OTHER):
            _fail(kind, "type", "id_type applies only to kind 'other'")
        kind = IdentifierKind.OTHER

    if isinstance(text, Identifier):
        if kind is not None and text.kind is not kind:
            _fail(kind, "type", f"got a {text.kind.value} identifier")
        if id_type is not None and isinstance(text, OtherId) and text.id_type != id_type.lower():
            _fail(kind, "type", "the identifier's id_type differs")
        if not isinstance(text, ResidentId | Uscc | OtherId):
            raise TypeError("unsupported Identifier subclass")
        return text
    if not isinstance(text, str):
        raise TypeError(f"expected str or Identifier, got {type(text).__name__}")

    if kind is IdentifierKind.RESIDENT_ID:
        return ResidentId(text, today=today)
    if kind is IdentifierKind.USCC:
        return Uscc(text)
    if kind is IdentifierKind.OTHER:
        return OtherId(text, id_type=id_type)

    s = _normalise(text)
    if ":" in s:
        return OtherId(s)
    if not s:
        _fail(None, "empty", f"nothing left after removing whitespace; {_SHAPES}")
    if not _is_ascii_alnum(s):
        _fail(None, "charset", f"only digits and letters are allowed; {_SHAPES}")
    if len(s) == 15:
        return ResidentId(s, today=today)
    if len(s) != 18:
        _fail(None, "length", f"got {len(s)} characters; {_SHAPES}")
    if not _resident_shaped(s):
        return Uscc(s)
    try:
        return ResidentId(s, today=today)
    except InvalidIdentifier as resident_error:
        try:
            return Uscc(s)
        except InvalidIdentifier:
            raise resident_error from None
