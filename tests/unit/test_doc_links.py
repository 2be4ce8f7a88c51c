"""Every link to a heading of a page in docs/ (and the README) lands on a heading that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)#\s]*\.md)?#([^)\s]+)\)")


def _slug(heading: str) -> str:
    # GitHub's anchors: lower case, punctuation dropped (word characters, hyphens and spaces
    # kept, Chinese included), spaces to hyphens.
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(text: str) -> set[str]:
    return {_slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.M)}


def _pages() -> dict[str, str]:
    pages = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")}
    pages["README.md"] = (ROOT / "README.md").read_text(encoding="utf-8")
    return pages


def test_every_heading_link_resolves() -> None:
    pages = _pages()
    broken = []
    for name, text in pages.items():
        for match in LINK.finditer(text):
            target = Path(match.group(1)).name if match.group(1) else name
            if target in pages and match.group(2) not in _anchors(pages[target]):
                broken.append(f"{name} -> {target}#{match.group(2)}")
    assert not broken, broken


def test_the_slug_is_githubs() -> None:
    assert _slug("Failure policy") == "failure-policy"
    assert _slug("The outbox: every kind of item") == "the-outbox-every-kind-of-item"
    assert _slug("The clients: `CreditClient` and `AsyncCreditClient`") == (
        "the-clients-creditclient-and-asynccreditclient"
    )
