"""Every public name of the workflow helpers and of credit_sdk.testing is documented."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize(
    ("module", "doc"),
    [
        ("credit_sdk.adapters.licensing", "integration-workflows.md"),
        ("credit_sdk.adapters.procurement", "integration-workflows.md"),
        ("credit_sdk.adapters.personnel", "integration-workflows.md"),
        ("credit_sdk.testing", "testing.md"),
    ],
)
def test_public_names_are_documented(module: str, doc: str) -> None:
    text = (DOCS / doc).read_text(encoding="utf-8")
    names = importlib.import_module(module).__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    missing = [name for name in names if f"`{name}" not in text]
    assert not missing, f"{doc} does not mention {missing}"
