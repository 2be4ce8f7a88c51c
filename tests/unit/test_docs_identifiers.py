"""Every identifier the documentation and the docstrings show a reader validates.

A reader copies `client.check("9123…", ...)` from a page or a ``help()`` text and expects it to
work: an example identifier with a wrong check character fails with `InvalidIdentifier` before
anything the example is meant to show. Only the identifiers a page shows *being refused* are
exempt, and those must indeed be refused.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from credit_sdk import InvalidIdentifier, parse_identifier

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "credit_sdk").rglob("*.py")),
    *sorted((ROOT / "adapters").rglob("*.py")),
    *sorted((ROOT / "examples").rglob("*.py")),
]
# 18 characters of the GB 11643 / GB 32100 alphabets, at least one digit, standing alone.
TOKEN = re.compile(r"(?<![0-9A-Za-z])([0-9A-HJ-NP-RTUWXY]{18}|[0-9]{17}[0-9Xx])(?![0-9A-Za-z])")
# Shown on purpose as identifiers that are refused (the check character is wrong).
SHOWN_AS_INVALID = {"36042619910102009X"}
# Shown as text that must never be echoed, not as an identifier to use.
NOT_EXAMPLES = {"110101199003077777"}


def _shown() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in TOKEN.finditer(line):
                token = match.group(1)
                if re.search(r"[0-9]", token):
                    where = f"{path.relative_to(ROOT)}:{number}"
                    found.setdefault(token, []).append(where)
    return found


SHOWN = _shown()


def test_the_pages_show_identifiers() -> None:
    assert len(SHOWN) > 10


@pytest.mark.parametrize("token", sorted(set(SHOWN) - SHOWN_AS_INVALID - NOT_EXAMPLES))
def test_every_example_identifier_validates(token: str) -> None:
    try:
        parse_identifier(token)
    except InvalidIdentifier as err:
        pytest.fail(f"{SHOWN[token][:3]}: rule {err.rule}")


@pytest.mark.parametrize("token", sorted(SHOWN_AS_INVALID))
def test_identifiers_shown_as_refused_are_refused(token: str) -> None:
    with pytest.raises(InvalidIdentifier):
        parse_identifier(token)
