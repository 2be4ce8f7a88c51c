"""Identifier parsing and validation (Art. 21; GB 11643-1999, GB 32100-2015)."""

from __future__ import annotations

import copy
import datetime
import hashlib
import hmac
import pickle

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from credit_sdk import (
    ConfigurationError,
    CreditSDKError,
    Identifier,
    IdentifierKind,
    InvalidIdentifier,
    OtherId,
    ResidentId,
    Uscc,
    parse_identifier,
)
from credit_sdk._identifiers import compute_resident_check, compute_uscc_check

# Synthetic numbers; check characters cross-checked by the reference functions below.
HLJ_RESIDENT = "230103198001010010"  # Heilongjiang, Harbin Nangang district, born 1980-01-01
HLJ_LEGACY = "230103800101001"  # the same person's first-generation 15-digit number
HLJ_USCC = "91230100MA1B2C3D49"  # enterprise registered in Harbin
KEY = b"k" * 32


def ref_mod11_2(body: str) -> str:
    """ISO 7064 MOD 11-2 in its recursive form, independent of the module's weight table."""
    p = 0
    for c in body:
        p = (p + int(c)) * 2 % 11
    return "0123456789X"[(1 - p) % 11]


def ref_mod31(body: str) -> str:
    """GB 32100 check character written out from the standard's definition."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = sum(alphabet.index(c) * (3**i % 31) for i, c in enumerate(body))
    return alphabet[(31 - total % 31) % 31]


def resident(body17: str) -> str:
    return body17 + compute_resident_check(body17)


def uscc(body17: str) -> str:
    return body17 + compute_uscc_check(body17)


def middle(raw: str) -> str:
    """The part of an 18-character value that masking hides."""
    return raw[4:-4]


# --- check-character helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["360426199101010071", "44011320141005001X", HLJ_RESIDENT, "23010318991231001X"]
)
def test_resident_check_matches_reference(number: str) -> None:
    assert compute_resident_check(number[:17]) == number[17]


# One synthetic Harbin number per check value 0-9 and X (computed with ref_mod11_2).
EVERY_CHECK_VALUE = [
    "230103198001010010",
    "230103198001010061",
    "230103198001010002",
    "230103198001010053",
    "230103198001010184",
    "230103198001010045",
    "230103198001010096",
    "230103198001010037",
    "230103198001010088",
    "230103198001010029",
    "23010319800101007X",
]


@pytest.mark.parametrize("number", EVERY_CHECK_VALUE)
def test_every_check_value(number: str) -> None:
    assert compute_resident_check(number[:17]) == number[17] == ref_mod11_2(number[:17])
    assert parse_identifier(number).reveal() == number


def test_reference_mod11_2_agrees_with_weights() -> None:
    for body in ("36042619910101007", "44011320141005001", "23010319800101001", "0" * 17):
        assert ref_mod11_2(body) == compute_resident_check(body)


@pytest.mark.parametrize("number", ["91110000600037341L", HLJ_USCC, "A1100000MB0000001H"])
def test_uscc_check_matches_reference(number: str) -> None:
    assert compute_uscc_check(number[:17]) == number[17] == ref_mod31(number[:17])


@pytest.mark.parametrize("body", ["", "1234567890123456", "1234567890123456A", "١" * 17])
def test_compute_resident_check_rejects_bad_body(body: str) -> None:
    with pytest.raises(InvalidIdentifier):
        compute_resident_check(body)


@pytest.mark.parametrize("body", ["", "9111000060003734", "9111000060003734I", "911100006000373４"])
def test_compute_uscc_check_rejects_bad_body(body: str) -> None:
    with pytest.raises(InvalidIdentifier):
        compute_uscc_check(body)


# --- known-valid ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("360426199101010071", "360426199101010071"),
        ("44011320141005001X", "44011320141005001X"),
        ("44011320141005001x", "44011320141005001X"),
        (HLJ_RESIDENT, HLJ_RESIDENT),
    ],
)
def test_valid_resident_ids(text: str, canonical: str) -> None:
    rid = parse_identifier(text)
    assert isinstance(rid, ResidentId)
    assert rid.kind is IdentifierKind.RESIDENT_ID
    assert rid.reveal() == canonical
    assert rid.legacy is False


def test_resident_fields() -> None:
    rid = parse_identifier(HLJ_RESIDENT)
    assert isinstance(rid, ResidentId)
    assert rid.region_code == "230103"
    assert rid.birth_date == datetime.date(1980, 1, 1)
    assert rid.masked == "2301**********0010"


@pytest.mark.parametrize(
    "text",
    [
        "91110000600037341L",
        "91110000600037341l",
        HLJ_USCC,
        "A1100000MB0000001H",  # 中央军委改革和编制办公室, central level
        "A1110000600037341K",  # python-stdnum rejects A-prefixed codes; they are valid
        "N2230103MA0000001K",  # 农业: village-level collective economic organisation
        "Y1230100MC00000017",  # 其他
        "912301000000000052",  # all digits: not a resident ID (region 91), so a USCC
    ],
)
def test_valid_usccs(text: str) -> None:
    code = parse_identifier(text)
    assert isinstance(code, Uscc)
    assert code.reveal() == text.upper()
    assert parse_identifier(text, "uscc") == code


def test_uscc_fields() -> None:
    code = parse_identifier(HLJ_USCC)
    assert isinstance(code, Uscc)
    assert (code.registration_authority, code.institution_type, code.region_code) == (
        "9",
        "1",
        "230100",
    )
    assert code.masked == "9123**********3D49"


@pytest.mark.parametrize(
    ("text", "id_type", "canonical", "masked"),
    [
        ("passport:E12345678", None, "passport:E12345678", "passport:E1*****78"),
        ("E12345678", "passport", "passport:E12345678", "passport:E1*****78"),
        (" e1234 5678 ", "Passport", "passport:E12345678", "passport:E1*****78"),
        ("passport:E12345678", "passport", "passport:E12345678", "passport:E1*****78"),
        ("HK_MACAO_PERMIT:h1234567890", None, "hk_macao_permit:H1234567890", None),
        ("E123", "passport", "passport:E123", "passport:E**3"),
    ],
)
def test_valid_other_ids(
    text: str, id_type: str | None, canonical: str, masked: str | None
) -> None:
    other = parse_identifier(text, id_type=id_type)
    assert isinstance(other, OtherId)
    assert other.reveal() == canonical
    assert other.id_type == canonical.split(":")[0]
    if masked is not None:
        assert other.masked == masked
    assert parse_identifier(other.reveal()) == other


def test_constructors_validate_too() -> None:
    assert ResidentId(HLJ_RESIDENT) == parse_identifier(HLJ_RESIDENT)
    assert Uscc(HLJ_USCC.lower()) == parse_identifier(HLJ_USCC)
    assert OtherId("E12345678", id_type="passport") == parse_identifier("passport:E12345678")
    with pytest.raises(InvalidIdentifier):
        ResidentId(HLJ_USCC)
    with pytest.raises(TypeError):
        Identifier()


# --- normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "３６０４２６１９９１０１０１００７１",  # full-width digits from a Chinese IME
        " 360426 19910101 0071 ",
        "360426\u00a0199101010071",
        "\u3000360426199101010071\u3000",
        "3604\t2619\u20099101\u202f010071",
        "360426199101010071\r\n",
    ],
)
def test_whitespace_and_full_width_are_normalised(text: str) -> None:
    assert parse_identifier(text).reveal() == "360426199101010071"


def test_full_width_letters_are_normalised() -> None:
    assert parse_identifier("４４０１１３２０１４１００５００１ｘ").reveal() == "44011320141005001X"
    assert parse_identifier("9111 0000 6000 3734 1Ｌ").reveal() == "91110000600037341L"
    assert parse_identifier("91110000600037341ｌ").reveal() == "91110000600037341L"


@pytest.mark.parametrize(
    "text",
    [
        "360426-199101010071",
        "360426.199101010071",
        "91110000600037341L!",
        "360426\n199101010071",  # inner line break: two values glued together
        "360426199101010071\x00",
        "\ufeff360426199101010071",  # byte-order mark is not whitespace
        "36042619910101007¹",  # superscript: not mapped
        "①60426199101010071",  # circled digit: not mapped
        "٣٦٠٤٢٦١٩٩١٠١٠١٠٠٧١",  # Arabic-Indic digits: not mapped
        "三六0426199101010071",
        "360426199101010071\u200b",  # zero-width space is not whitespace either
    ],
)
def test_other_characters_are_rejected_not_fixed(text: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        parse_identifier(text)
    assert info.value.rule == "charset"


# --- known-invalid, per rule ---------------------------------------------------------------------

TODAY = datetime.date(2025, 6, 1)


@pytest.mark.parametrize(
    ("text", "kind", "rule"),
    [
        ("36042619910102009X", None, "check_character"),
        ("360426199101010072", None, "check_character"),
        ("360426199113010079", None, "date"),  # month 13
        (resident("23010319810229001"), None, "date"),  # 1981 is no leap year
        (resident("23010320250602001"), None, "date"),  # after TODAY
        (resident("23010318991231001"), None, "date"),  # before 1900
        ("990426199112010074", None, "region"),
        (resident("00010319800101001"), None, "region"),
        ("991301800101001", None, "region"),  # legacy number, unknown province
        ("230103801301001", None, "date"),  # legacy number, month 13
        ("9111000060003IOZSV", None, "charset"),
        ("91110000600037341N", None, "check_character"),
        ("91110000600037341I", None, "charset"),
        ("A1110000600037341L", None, "check_character"),
        (uscc("A2100000MB0000001"), None, "institution_type"),  # A allows 1 and 9
        (uscc("94230100MA1B2C3D4"), None, "institution_type"),  # 9 allows 1, 2, 3
        (uscc("Y9230100MA1B2C3D4"), None, "institution_type"),  # Y allows only 1
        (uscc("B1230100MA1B2C3D4"), None, "registration_authority"),
        (uscc("01230100MA1B2C3D4"), "uscc", "registration_authority"),
        (uscc("91990000MA1B2C3D4"), None, "region"),
        (uscc("9123AB00MA1B2C3D4"), None, "region"),
        ("36042619910101007", None, "length"),
        ("3604261991010100711", None, "length"),
        ("12345", None, "length"),
        ("9111000060003734", "uscc", "length"),
        ("3604261991010100", "resident_id", "length"),
        ("", None, "empty"),
        ("   ", None, "empty"),
        ("\u3000\u00a0", "uscc", "empty"),
        ("", "resident_id", "empty"),
        ("passport:", None, "empty"),
        ("91110000600037341L", "resident_id", "charset"),
        ("36042619910101007A", "resident_id", "charset"),
        ("36042619910101A", "resident_id", "charset"),
        ("360426199101010071", "uscc", "check_character"),
        ("Pass-port:E12345678", None, "type"),
        ("p:E12345678", None, "type"),
        ("E12345678", "other", "type"),
        ("passport:E12", None, "length"),
        ("passport:" + "E" * 33, None, "length"),
        ("passport:E1234-5678", None, "charset"),
        ("passport:E12345678:9", None, "charset"),
    ],
)
def test_invalid_per_rule(text: str, kind: str | None, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        parse_identifier(text, kind, today=TODAY)
    assert info.value.rule == rule
    assert f"rule {rule}" in str(info.value)


def test_future_birth_date_with_default_today() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        parse_identifier(resident("23010329990101001"))
    assert info.value.rule == "date"
    assert "future" in str(info.value)


def test_error_is_a_value_error_with_kind() -> None:
    with pytest.raises(ValueError, match="check_character") as info:
        parse_identifier("36042619910102009X")
    assert isinstance(info.value, CreditSDKError)
    assert isinstance(info.value, InvalidIdentifier)
    assert info.value.kind == "resident_id"


def test_unrecognised_shape_lists_accepted_shapes() -> None:
    with pytest.raises(InvalidIdentifier, match="accepted shapes") as info:
        parse_identifier("12345")
    assert info.value.kind is None


def test_eighteen_chars_with_i_name_uscc_charset() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        parse_identifier("91110000600037341I")
    assert (info.value.rule, info.value.kind) == ("charset", "uscc")


# --- kinds and auto-detection ---------------------------------------------------------------------


def test_string_kind_and_enum_kind_are_equivalent() -> None:
    assert parse_identifier(HLJ_USCC, "uscc") == parse_identifier(HLJ_USCC, IdentifierKind.USCC)


@pytest.mark.parametrize(
    ("kind", "id_type"), [("passport", None), ("uscc", "passport"), ("resident_id", "passport")]
)
def test_bad_kind_arguments(kind: str, id_type: str | None) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        parse_identifier(HLJ_USCC, kind, id_type=id_type)
    assert info.value.rule == "type"


def test_id_type_alone_implies_other() -> None:
    assert isinstance(parse_identifier("E12345678", id_type="passport"), OtherId)


def test_prefix_must_match_id_type() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        parse_identifier("passport:E12345678", id_type="taiwan_permit")
    assert info.value.rule == "type"


def test_identifier_instances_pass_through() -> None:
    rid = parse_identifier(HLJ_RESIDENT)
    assert parse_identifier(rid) is rid
    assert parse_identifier(rid, "resident_id") is rid
    with pytest.raises(InvalidIdentifier):
        parse_identifier(rid, "uscc")
    other = parse_identifier("passport:E12345678")
    with pytest.raises(InvalidIdentifier):
        parse_identifier(other, id_type="taiwan_permit")


def test_non_string_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_identifier(360426199101010071)  # type: ignore[arg-type]


def find_number_valid_as_both() -> str:
    """A resident ID that is also a valid USCC (authority 1, type 3, region 110019)."""
    for seq in range(1000):
        number = resident(f"13110019800101{seq:03d}")
        if compute_uscc_check(number[:17]) == number[17]:
            return number
    raise AssertionError("no such number")  # pragma: no cover


def test_ambiguous_number_prefers_resident_id_unless_kind_given() -> None:
    number = find_number_valid_as_both()
    as_resident = parse_identifier(number)
    as_uscc = parse_identifier(number, "uscc")
    assert isinstance(as_resident, ResidentId)
    assert isinstance(as_uscc, Uscc)
    assert as_resident.reveal() == as_uscc.reveal()
    assert as_resident != as_uscc
    assert as_resident.pseudonym(KEY) != as_uscc.pseudonym(KEY)


def test_resident_shaped_number_reports_resident_rule_when_both_fail() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        parse_identifier("360426199101010072")
    assert info.value.kind == "resident_id"


# --- legacy 15-digit numbers ---------------------------------------------------------------------


def test_legacy_number_is_upgraded_and_flagged() -> None:
    old = parse_identifier(HLJ_LEGACY)
    new = parse_identifier(HLJ_RESIDENT)
    assert isinstance(old, ResidentId)
    assert isinstance(new, ResidentId)
    assert old.legacy is True
    assert new.legacy is False
    assert old.reveal() == HLJ_RESIDENT
    assert old.birth_date == datetime.date(1980, 1, 1)
    assert old == new
    assert hash(old) == hash(new)
    assert old.pseudonym(KEY) == new.pseudonym(KEY)
    assert len({old, new}) == 1


# --- masking -----------------------------------------------------------------------------------


class Subject(BaseModel):
    id: Identifier
    person: ResidentId | None = None
    org: Uscc | None = None
    other: OtherId | None = None


def rendered(ident: Identifier) -> list[str]:
    return [
        str(ident),
        repr(ident),
        f"{ident}",
        f"{ident!r}",
        f"{ident:>40}",
        format(ident, "<30"),
        "%s" % ident,  # noqa: UP031 - the old formatting path must mask too
        "{}".format(ident),  # noqa: UP032
        str([ident]),
        str({"id": ident}),
    ]


@pytest.mark.parametrize("raw", [HLJ_RESIDENT, HLJ_USCC, "44011320141005001X"])
def test_rendering_never_shows_the_raw_value(raw: str) -> None:
    ident = parse_identifier(raw)
    for text in rendered(ident):
        assert raw not in text
        assert middle(raw) not in text
        assert ident.masked in text
    assert repr(ident) == f"{type(ident).__name__}({ident.masked!r})"


def test_other_id_rendering_never_shows_the_number() -> None:
    other = parse_identifier("passport:E12345678")
    for text in rendered(other):
        assert "12345678" not in text
        assert "2345" not in text


def test_pydantic_serialization_is_masked() -> None:
    model = Subject(id=HLJ_RESIDENT, person=HLJ_RESIDENT, org=HLJ_USCC, other="passport:E12345678")
    dumped = model.model_dump()
    assert dumped == {
        "id": "2301**********0010",
        "person": "2301**********0010",
        "org": "9123**********3D49",
        "other": "passport:E1*****78",
    }
    for text in (model.model_dump_json(), str(model), repr(model), str(dumped)):
        assert middle(HLJ_RESIDENT) not in text
        assert middle(HLJ_USCC) not in text
        assert "12345678" not in text
    assert model.model_dump(mode="json") == dumped


@pytest.mark.parametrize(
    "raw",
    [
        "36042619910102009X",
        "360426199113010079",
        "990426199112010074",
        "91110000600037341N",
        "9111000060003IOZSV",
        HLJ_RESIDENT + "1",
        "A1110000600037341L",
    ],
)
def test_error_messages_never_show_the_raw_value(raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        parse_identifier(raw)
    assert raw[:-1] not in str(info.value)
    assert middle(raw) not in str(info.value)
    assert middle(raw) not in repr(info.value)
    with pytest.raises(ValidationError) as verr:
        Subject(id=raw)
    for text in (str(verr.value), verr.value.json(), repr(verr.value.errors())):
        assert middle(raw) not in text
        assert f"rule {info.value.rule}" in text


# --- pseudonyms ----------------------------------------------------------------------------------


def test_pseudonym_is_hmac_of_kind_and_canonical_value() -> None:
    rid = parse_identifier(HLJ_RESIDENT)
    expected = hmac.new(KEY, f"resident_id:{HLJ_RESIDENT}".encode(), hashlib.sha256).hexdigest()
    assert rid.pseudonym(KEY) == expected
    assert rid.pseudonym(KEY) == parse_identifier(" " + HLJ_RESIDENT).pseudonym(KEY)
    assert rid.pseudonym(KEY) != rid.pseudonym(b"j" * 32)
    assert HLJ_RESIDENT not in rid.pseudonym(KEY)


def test_pseudonym_differs_per_kind_and_type() -> None:
    a = parse_identifier("passport:E12345678")
    b = parse_identifier("taiwan_permit:E12345678")
    assert a != b
    assert a.pseudonym(KEY) != b.pseudonym(KEY)


@pytest.mark.parametrize("key", [b"", b"short", b"x" * 15])
def test_short_pseudonym_key_is_rejected(key: bytes) -> None:
    with pytest.raises(ConfigurationError):
        parse_identifier(HLJ_RESIDENT).pseudonym(key)
    parse_identifier(HLJ_RESIDENT).pseudonym(b"x" * 16)


def test_pseudonym_key_must_be_bytes() -> None:
    with pytest.raises(TypeError):
        parse_identifier(HLJ_RESIDENT).pseudonym("k" * 32)  # type: ignore[arg-type]


# --- value semantics -----------------------------------------------------------------------------


def test_identifiers_are_immutable_and_slotted() -> None:
    rid = ResidentId(HLJ_RESIDENT)
    with pytest.raises(AttributeError):
        rid.legacy = True
    with pytest.raises(AttributeError):
        setattr(rid, "_canonical", "x")  # noqa: B010 - bypassing the type checker on purpose
    with pytest.raises(AttributeError):
        del rid.birth_date
    assert not hasattr(rid, "__dict__")


def test_equality_and_hashing() -> None:
    assert parse_identifier(HLJ_USCC) == parse_identifier(HLJ_USCC.lower())
    assert parse_identifier(HLJ_USCC) != parse_identifier("91110000600037341L")
    assert parse_identifier(HLJ_USCC) != HLJ_USCC
    assert {parse_identifier(HLJ_USCC): 1}[Uscc(HLJ_USCC)] == 1


@pytest.mark.parametrize("raw", [HLJ_LEGACY, HLJ_USCC, "passport:E12345678"])
def test_copy_and_pickle(raw: str) -> None:
    ident = parse_identifier(raw)
    assert copy.copy(ident) is ident
    assert copy.deepcopy(ident) is ident
    restored = pickle.loads(pickle.dumps(ident))
    assert restored == ident
    assert type(restored) is type(ident)
    if isinstance(ident, ResidentId):
        assert isinstance(restored, ResidentId)
        assert restored.legacy is True


# --- pydantic ----------------------------------------------------------------------------------


def test_pydantic_accepts_str_mapping_and_instance() -> None:
    rid = parse_identifier(HLJ_RESIDENT)
    for value in (
        HLJ_RESIDENT,
        rid,
        {"number": HLJ_RESIDENT},
        {"kind": "resident_id", "number": HLJ_LEGACY},
    ):
        assert Subject(id=value).id == rid
        assert Subject(id=HLJ_USCC, person=value).person == rid
    other = Subject(id={"kind": "other", "id_type": "passport", "number": "E12345678"}).id
    assert other == parse_identifier("passport:E12345678")
    assert Subject.model_validate_json(f'{{"id": "{HLJ_USCC}"}}').id == parse_identifier(HLJ_USCC)


def test_pydantic_subclass_field_forces_its_kind() -> None:
    with pytest.raises(ValidationError, match="rule charset"):
        Subject(id=HLJ_USCC, person=HLJ_USCC)
    with pytest.raises(ValidationError, match="rule type"):
        Subject(id=HLJ_USCC, org=parse_identifier(HLJ_RESIDENT))
    with pytest.raises(ValidationError, match="rule type"):
        Subject(id=HLJ_USCC, org={"kind": "resident_id", "number": HLJ_RESIDENT})
    with pytest.raises(ValidationError, match="rule type"):
        Subject(id=HLJ_USCC, other="E12345678")


@pytest.mark.parametrize(
    "value",
    [
        12345,
        None,
        {"kind": "uscc"},
        {"number": HLJ_USCC, "extra": 1},
        {"number": 1},
        {"number": HLJ_USCC, "kind": 3},
        {"number": "E12345678", "id_type": 3},
        {"number": HLJ_USCC, "kind": "bogus"},
    ],
)
def test_pydantic_rejects_bad_shapes_as_validation_errors(value: object) -> None:
    with pytest.raises(ValidationError, match="rule type"):
        TypeAdapter(Identifier).validate_python(value)


def test_pydantic_json_schema_and_lists() -> None:
    schema = Subject.model_json_schema()
    assert "anyOf" in schema["properties"]["id"]
    assert Subject.model_json_schema(mode="serialization")["properties"]["id"]["type"] == "string"
    adapter = TypeAdapter(list[Identifier])
    values = adapter.validate_python([HLJ_RESIDENT, HLJ_USCC])
    assert adapter.dump_python(values) == ["2301**********0010", "9123**********3D49"]
    assert middle(HLJ_RESIDENT).encode() not in adapter.dump_json(values)


def test_model_copy_keeps_the_identifier() -> None:
    model = Subject(id=HLJ_RESIDENT)
    assert model.model_copy(deep=True).id == model.id
