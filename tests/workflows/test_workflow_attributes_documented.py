"""Every public attribute of the workflow helpers' result classes is named in the docs (e.g.
``BidderScreening.subject``, ``LicensingCheck.verification_months``)."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import credit_sdk.adapters.licensing as licensing
import credit_sdk.adapters.personnel as personnel
import credit_sdk.adapters.procurement as procurement

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_result_attribute_is_documented() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    missing = []
    for module in (licensing, procurement, personnel):
        for name in module.__all__:
            cls = getattr(module, name)
            if not (inspect.isclass(cls) and dataclasses.is_dataclass(cls)):
                continue
            attributes = [f.name for f in dataclasses.fields(cls)]
            attributes += [n for n, v in vars(cls).items() if isinstance(v, property)]
            missing += [
                f"{name}.{a}"
                for a in attributes
                if not a.startswith("_") and f"`{a}`" not in text and f".{a}" not in text
            ]
    assert not missing, missing
