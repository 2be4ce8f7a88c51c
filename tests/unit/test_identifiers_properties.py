"""Property tests for identifier parsing (hypothesis)."""

from __future__ import annotations

import contextlib
import datetime
import string

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from credit_sdk import InvalidIdentifier, OtherId, ResidentId, Uscc, parse_identifier
from credit_sdk._identifiers import compute_resident_check, compute_uscc_check

PROVINCES = [
    *(f"{n}" for n in range(11, 16)),
    *(f"{n}" for n in range(21, 24)),
    *(f"{n}" for n in range(31, 38)),
    *(f"{n}" for n in range(41, 47)),
    *(f"{n}" for n in range(50, 55)),
    *(f"{n}" for n in range(61, 66)),
    "71",
    "81",
    "82",
]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_TYPES = {
    "1": "1239", "2": "19", "3": "123459", "4": "19", "5": "1239", "6": "129",
    "7": "129", "8": "19", "9": "123", "A": "19", "N": "1239", "Y": "1",
}  # fmt: skip
TODAY = datetime.date.today()


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(PROVINCES)) + draw(st.text(string.digits, min_size=4, max_size=4))
    birth = draw(st.dates(datetime.date(1900, 1, 1), TODAY))
    seq = draw(st.text(string.digits, min_size=3, max_size=3))
    body = f"{region}{birth:%Y%m%d}{seq}"
    return body + compute_resident_check(body)


@st.composite
def legacy_resident_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(PROVINCES)) + draw(st.text(string.digits, min_size=4, max_size=4))
    birth = draw(st.dates(datetime.date(1900, 1, 1), datetime.date(1999, 12, 31)))
    seq = draw(st.text(string.digits, min_size=3, max_size=3))
    return f"{region}{birth:%y%m%d}{seq}"


@st.composite
def usccs(draw: st.DrawFn) -> str:
    authority = draw(st.sampled_from(sorted(USCC_TYPES)))
    kind = draw(st.sampled_from(USCC_TYPES[authority]))
    province = draw(st.sampled_from([*PROVINCES, "10"]))
    region = province + draw(st.text(string.digits, min_size=4, max_size=4))
    subject = draw(st.text(USCC_ALPHABET, min_size=9, max_size=9))
    body = f"{authority}{kind}{region}{subject}"
    return body + compute_uscc_check(body)


def noisy(data: st.DataObject, number: str) -> str:
    """Spread whitespace and full-width forms over a number, as pasted from forms."""
    out = []
    for c in number:
        if data.draw(st.booleans()):
            c = chr(ord(c) + 0xFEE0)  # full-width form of an ASCII digit or letter
        if data.draw(st.booleans()):
            c += data.draw(st.sampled_from([" ", "\t", "\u00a0", "\u3000"]))
        out.append(c)
    return data.draw(st.sampled_from(["", " ", "\u3000"])) + "".join(out) + "\n"


# --- the check functions agree with independent reference implementations ----------------------


@given(st.text(string.digits, min_size=17, max_size=17))
def test_resident_check_matches_recursive_mod11_2(body: str) -> None:
    p = 0  # ISO 7064 MOD 11-2, recursive (Horner) form: no weight table involved
    for c in body:
        p = (p + int(c)) * 2 % 11
    assert compute_resident_check(body) == "0123456789X"[(1 - p) % 11]


@given(st.text(USCC_ALPHABET, min_size=17, max_size=17))
def test_uscc_check_matches_definition(body: str) -> None:
    total = sum(USCC_ALPHABET.index(c) * 3**i for i, c in enumerate(body))
    assert compute_uscc_check(body) == USCC_ALPHABET[-total % 31]


# --- valid numbers always parse and round-trip ----------------------------------------------------


@given(resident_ids())
@example("360426199101010071")
@example("44011320141005001X")
def test_valid_resident_ids_round_trip(number: str) -> None:
    rid = parse_identifier(number, "resident_id")
    assert isinstance(rid, ResidentId)
    assert rid.reveal() == number
    assert parse_identifier(rid.reveal()) == rid  # auto-detection prefers the resident ID
    assert parse_identifier(number.lower()) == rid
    assert rid.birth_date.strftime("%Y%m%d") == number[6:14]
    assert number[4:14] not in repr(rid)


@given(st.data(), resident_ids())
def test_noisy_resident_ids_normalise(data: st.DataObject, number: str) -> None:
    assert parse_identifier(noisy(data, number)).reveal() == number


@given(legacy_resident_ids())
def test_legacy_numbers_equal_their_upgrade(number: str) -> None:
    old = parse_identifier(number)
    assert isinstance(old, ResidentId)
    assert old.legacy
    upgraded = number[:6] + "19" + number[6:]
    upgraded += compute_resident_check(upgraded)
    assert old.reveal() == upgraded
    assert old == parse_identifier(upgraded)
    assert old.pseudonym(b"k" * 16) == parse_identifier(upgraded).pseudonym(b"k" * 16)


@given(usccs())
@example("91110000600037341L")
def test_valid_usccs_round_trip(number: str) -> None:
    code = parse_identifier(number, "uscc")
    assert isinstance(code, Uscc)
    assert code.reveal() == number
    assert parse_identifier(number.lower(), "uscc") == code
    assert parse_identifier(number).reveal() == number
    assert code.registration_authority == number[0]
    assert number[4:14] not in repr(code)


@given(st.data(), usccs())
def test_noisy_usccs_normalise(data: st.DataObject, number: str) -> None:
    assert parse_identifier(noisy(data, number), "uscc").reveal() == number


@given(
    st.from_regex(r"[a-z][a-z0-9_]{1,31}", fullmatch=True),
    st.text(string.ascii_uppercase + string.digits, min_size=4, max_size=32),
)
def test_other_ids_round_trip(id_type: str, number: str) -> None:
    other = parse_identifier(f"{id_type}:{number}")
    assert isinstance(other, OtherId)
    assert other == parse_identifier(number.lower(), id_type=id_type)
    assert parse_identifier(other.reveal()) == other
    assert other.masked.startswith(f"{id_type}:")
    assert number not in other.masked[len(id_type) :]


# --- junk never escapes as another exception type -------------------------------------------------

kinds = st.sampled_from([None, "resident_id", "uscc", "other"])
alnum = string.digits + string.ascii_letters


@given(st.text(), kinds)
@example("", None)
@example(":", None)
@example("\u3000", "other")
def test_arbitrary_text_parses_or_raises_invalid_identifier(text: str, kind: str | None) -> None:
    with contextlib.suppress(InvalidIdentifier):
        parse_identifier(text, kind)


@given(st.sampled_from([15, 18]).flatmap(lambda n: st.text(alnum, min_size=n, max_size=n)), kinds)
def test_identifier_shaped_junk_parses_or_raises_invalid_identifier(
    text: str, kind: str | None
) -> None:
    with contextlib.suppress(InvalidIdentifier):
        parse_identifier(text, kind)


@given(st.text(string.digits, min_size=12, max_size=40))
def test_error_messages_never_contain_long_digit_inputs(text: str) -> None:
    try:
        parse_identifier(text)
    except InvalidIdentifier as err:
        message = str(err)
    else:
        return
    assert text not in message


# --- the check character catches every single substitution ----------------------------------------


@given(resident_ids(), st.integers(0, 17), st.data())
def test_resident_check_catches_single_substitutions(
    number: str, position: int, data: st.DataObject
) -> None:
    allowed = string.digits + ("X" if position == 17 else "")
    replacement = data.draw(st.sampled_from([c for c in allowed if c != number[position]]))
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidIdentifier) as info:
        parse_identifier(changed, "resident_id")
    assert info.value.rule == "check_character"


@given(usccs(), st.integers(0, 17), st.data())
def test_uscc_check_catches_single_substitutions(
    number: str, position: int, data: st.DataObject
) -> None:
    replacement = data.draw(st.sampled_from([c for c in USCC_ALPHABET if c != number[position]]))
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidIdentifier) as info:
        parse_identifier(changed, "uscc")
    assert info.value.rule == "check_character"


# Both systems weight neighbouring positions differently over a prime modulus (the check
# character itself has weight 1), so every adjacent transposition is caught too.


def swap(number: str, position: int) -> str:
    return number[:position] + number[position + 1] + number[position] + number[position + 2 :]


@given(resident_ids(), st.integers(0, 16))
def test_resident_adjacent_transpositions_are_detected(number: str, position: int) -> None:
    assume(number[position] != number[position + 1])
    with pytest.raises(InvalidIdentifier):
        parse_identifier(swap(number, position), "resident_id")


@given(usccs(), st.integers(0, 16))
def test_uscc_adjacent_transpositions_are_detected(number: str, position: int) -> None:
    assume(number[position] != number[position + 1])
    with pytest.raises(InvalidIdentifier) as info:
        parse_identifier(swap(number, position), "uscc")
    assert info.value.rule == "check_character"
