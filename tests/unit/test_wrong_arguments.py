"""Public entry points given a wrong argument (docs/api.md, docs/errors.md): a ``TypeError``
that names the parameter for a wrong Python type, the SDK's typed error for a wrong value, and
no message that quotes a value which could be an identifier, a phone number or a name."""

from __future__ import annotations

from typing import Any

import pytest

from credit_sdk import PolicyError, PolicyProfile

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
