"""Public entry points given a wrong argument (docs/api.md, docs/errors.md): a ``TypeError``
that names the parameter for a wrong Python type, the SDK's typed error for a wrong value, and
no message that quotes a value which could be an identifier, a phone number or a name."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from credit_sdk import (
    CreditClient,
    CreditReport,
    MemoryProvider,
    MemoryQueryLog,
    Outcome,
    PolicyError,
    PolicyProfile,
    code_label,
    decide,
    sample_report_path,
)

PLANTED = ("110101199003077778", "13912345678", "张三丰")


@pytest.mark.parametrize("profile_id", [None, 5, [], {}, b"hlj-draft-2021"], ids=repr)
def test_a_profile_id_that_is_not_text_is_a_type_error_naming_it(profile_id: Any) -> None:
    with pytest.raises(TypeError, match=r"^profile_id must be str"):
        PolicyProfile.get(profile_id)


@pytest.mark.parametrize("profile_id", PLANTED)
def test_an_unknown_profile_is_refused_without_quoting_it(profile_id: str) -> None:
    with pytest.raises(PolicyError, match="no shipped policy profile") as caught:
        PolicyProfile.get(profile_id)
    assert profile_id not in f"{caught.value} {caught.value!r}"
    assert "hlj-draft-2021" in str(caught.value)


def test_an_unknown_profile_that_is_a_plain_token_is_named() -> None:
    with pytest.raises(PolicyError, match="'hlj-final-2027'"):
        PolicyProfile.get("hlj-final-2027")


# --- decide(): docs/decisions.md, decide(report, scenario, *, as_of, catalog, profile, ...) ---

DAY = dt.date(2026, 11, 29)
REPORT = CreditReport.parse(sample_report_path("severe_list").read_bytes())


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("report", None),
        ("report", {}),
        ("report", sample_report_path("severe_list").read_bytes()),
        ("as_of", "2026-11-29"),
        ("as_of", 20261129),
        ("as_of", None),
        ("catalog", "hlj-supplementary-punishment-sample"),
        ("catalog", []),
        ("profile", "cn-national-2026"),
        ("profile", 5),
        ("information_catalogue", "catalogue.json"),
        ("information_catalogue", 5),
    ],
    ids=lambda v: v if isinstance(v, str) and v.isidentifier() else type(v).__name__,
)
def test_decide_names_the_argument_of_a_wrong_type(argument: str, value: Any) -> None:
    arguments: dict[str, Any] = {"report": REPORT, "scenario": "bidding", "as_of": DAY}
    arguments[argument] = value
    with pytest.raises(TypeError, match=rf"^{argument} must be"):
        decide(**arguments)


def test_decide_still_takes_a_datetime_as_its_day() -> None:
    on_the_day = decide(REPORT, "bidding", as_of=dt.datetime(2026, 11, 29, 9, 30))
    assert on_the_day.outcome == decide(REPORT, "bidding", as_of=DAY).outcome


# --- the clients' options: docs/client.md "Options" -------------------------------------------


def _client(**options: Any) -> CreditClient:
    return CreditClient(
        provider=MemoryProvider({}), audit=MemoryQueryLog(), pseudonym_key=b"k" * 32, **options
    )


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("profile", 5),
        ("profile", ["hlj-draft-2021"]),
        ("catalog", "hlj-supplementary-punishment-sample"),
        ("catalog", [1]),
        ("information_catalogue", 5),
        ("information_catalogue", b"catalogue.json"),
    ],
    ids=lambda v: v if isinstance(v, str) and v.isidentifier() else type(v).__name__,
)
def test_a_client_option_of_a_wrong_type_is_refused_when_the_client_is_built(
    option: str, value: Any
) -> None:
    with pytest.raises(TypeError, match=rf"^{option} must be"):
        _client(**{option: value})


@pytest.mark.parametrize("value", [5, ["cn-national-2026"]], ids=repr)
def test_with_options_names_a_profile_of_a_wrong_type(value: Any) -> None:
    with _client() as client, pytest.raises(TypeError, match=r"^profile must be"):
        client.with_options(profile=value)


def test_a_profile_given_by_id_still_works() -> None:
    with _client(profile="cn-national-2026") as client:
        assert client.profile.profile_id == "cn-national-2026"
        assert client.with_options(profile="hlj-draft-2021").profile.profile_id == "hlj-draft-2021"


# --- code_label: docs/api.md, code_label(kind, code, lang) -------------------------------------


@pytest.mark.parametrize(("kind", "code"), [([], "RESTRICTED"), ("outcome", []), (None, "X"),
                                            ("outcome", {"RESTRICTED": 1}), (5, "X")])  # fmt: skip
def test_code_label_names_an_argument_of_a_wrong_type(kind: Any, code: Any) -> None:
    name = "kind" if not isinstance(kind, str) else "code"
    with pytest.raises(TypeError, match=rf"^{name} must be str"):
        code_label(kind, code)


def test_code_label_still_labels_enum_members() -> None:
    assert code_label("outcome", Outcome.RESTRICTED, "en") == code_label(
        "outcome", "RESTRICTED", "en"
    )
