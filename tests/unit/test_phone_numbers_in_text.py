"""A mobile phone number is a personal field (Art. 24): the query log keeps none in clear.

The texts a caller writes into a query context (organ, operator, matter, purpose) go into the
query log as they are; an ID number there was already refused, a phone number must be too, and
the refusal must not quote it.
"""

from __future__ import annotations

import pytest

from credit_sdk import InvalidQuery, QueryContext
from credit_sdk._audit._types import looks_like_raw_identifier, redact_identifiers

PHONES = ["13912345678", "+86 13912345678", "+86-19912345678", "8615012345678"]


@pytest.mark.parametrize("phone", PHONES)
@pytest.mark.parametrize("field", ["organ", "operator", "matter_code", "purpose"])
def test_a_phone_number_in_the_query_context_is_refused_without_being_quoted(
    phone: str, field: str
) -> None:
    values = {
        "organ": "230100-GGZY",
        "operator": "u1024",
        "matter_code": "BID-2026-017",
        "purpose": "qualification screening of the bidders",
    }
    values[field] = f"{values[field]} (contact {phone})"
    with pytest.raises(InvalidQuery) as info:
        QueryContext(**values)
    assert "phone" in str(info.value)
    assert phone[-8:] not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "BID-2026-017",
        "tender 2026-17, lot 3",
        "case 12345678901",  # 11 digits, but no mobile prefix (1[3-9])
        "ref 139123456789",  # 12 digits: not a phone number
        "A13912345678",  # glued to a letter: a code, not a number someone dials
    ],
)
def test_ordinary_references_are_not_mistaken_for_phone_numbers(text: str) -> None:
    assert not looks_like_raw_identifier(text)


def test_platform_text_has_phone_numbers_redacted() -> None:
    assert redact_identifiers("call 13912345678 or +86 15012345678") == (
        "call [redacted] or [redacted]"
    )
