"""Every public name is documented: each name in ``credit_sdk.__all__``, in the ``__all__`` of
each public ``credit_sdk.adapters`` module and of ``credit_sdk.testing``, appears as a word in
some ``docs/*.md`` page (docs/api.md is the reference that covers the rest).

The adapter and testing modules are read with ``ast``, not imported: their frameworks are
optional extras, and a name must be documented whether or not its extra is installed here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import credit_sdk

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
ADAPTERS = ROOT / "adapters"
TESTING = ROOT / "credit_sdk" / "testing"


def declared_all(path: Path) -> list[str]:
    """The literal ``__all__`` of a module file (empty when it declares none)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return [str(name) for name in ast.literal_eval(value)]
    return []


def public_names() -> dict[str, list[str]]:
    """Where each public name comes from -> the names."""
    names: dict[str, list[str]] = {"credit_sdk": list(credit_sdk.__all__)}
    for path in sorted(ADAPTERS.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module = f"credit_sdk.adapters.{path.stem}"
        exported = declared_all(path)
        assert exported, f"{module} declares no __all__: its public entry points are unknown"
        names[module] = exported
    testing_init = TESTING / "__init__.py"
    if testing_init.exists():
        names["credit_sdk.testing"] = declared_all(testing_init)
    return names


def documented_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))


def test_the_docs_exist() -> None:
    for page in ("index", "quickstart", "configuration", "errors", "operations", "api"):
        assert (DOCS / f"{page}.md").exists(), page


def test_every_public_name_appears_in_the_docs() -> None:
    text = documented_text()
    missing = []
    for module, exported in public_names().items():
        for name in exported:
            # As a word: `Decision` must not count as documented through `DecisionView`.
            if not re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)|\.{re.escape(name)}(?!\w)", text):
                missing.append(f"{module}.{name}")
    if missing:
        pytest.fail(
            f"{len(missing)} public name(s) appear in no docs/*.md page (add them to "
            "docs/api.md):\n  " + "\n  ".join(missing)
        )


def test_every_docs_page_is_on_the_map() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    pages = sorted(p.name for p in DOCS.glob("*.md") if p.name != "index.md")
    unlisted = [name for name in pages if f"({name})" not in index]
    assert not unlisted, f"docs/index.md does not link {unlisted}"
