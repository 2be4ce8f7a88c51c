"""The wheel must carry every module: setuptools lists packages explicitly here (the `adapters`
directory is mapped to `credit_sdk.adapters`), so a new sub-package must be listed too."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _config() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        tool = tomllib.load(f)["tool"]
    assert isinstance(tool, dict)
    setuptools = tool["setuptools"]
    assert isinstance(setuptools, dict)
    return setuptools


def _on_disk() -> set[str]:
    found = {"credit_sdk.adapters"}
    for path in (ROOT / "credit_sdk").rglob("*"):
        if not path.is_dir() or "__pycache__" in path.parts:
            continue
        if any(path.glob("*.py")) or any(path.glob("*.json")):
            found.add(".".join(path.relative_to(ROOT).parts))
    found.add("credit_sdk")
    return found


def test_every_package_directory_is_listed() -> None:
    listed = set(_config()["packages"])  # type: ignore[call-overload]
    assert listed == _on_disk()


def test_adapters_are_installed_under_credit_sdk_only() -> None:
    package_dir = _config()["package-dir"]
    assert package_dir == {"credit_sdk": "credit_sdk", "credit_sdk.adapters": "adapters"}
    assert "adapters" not in set(_config()["packages"])  # type: ignore[call-overload]


def test_shipped_data_is_declared() -> None:
    data = _config()["package-data"]
    assert isinstance(data, dict)
    for sub in ("catalogue", "lists", "policies", "reports"):
        assert "*.json" in data[f"credit_sdk.data.{sub}"]


def _project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    assert isinstance(project, dict)
    return project


def _imported_top_level() -> set[str]:
    import ast

    names: set[str] = set()
    for base in (ROOT / "credit_sdk", ROOT / "adapters"):
        for path in base.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split(".")[0])
    return names


def test_every_runtime_dependency_is_imported() -> None:
    """A dependency is declared because the SDK imports it (sniffio was not)."""
    import re

    module_of = {"chinese-calendar": "chinese_calendar", "opentelemetry-api": "opentelemetry"}
    imported = _imported_top_level()
    deps = _project()["dependencies"]
    assert isinstance(deps, list)
    for requirement in deps:
        name = re.split(r"[<>=!\[ ;]", requirement, maxsplit=1)[0]
        assert module_of.get(name, name.replace("-", "_")) in imported, name


def test_the_testing_extra_brings_what_the_plugin_needs() -> None:
    extras = _project()["optional-dependencies"]
    assert isinstance(extras, dict)
    testing = extras["testing"]
    names = {r.split(">")[0].split("=")[0] for r in testing}
    assert names == {"pytest", "respx"}
    assert all("==" not in r for r in testing)  # floors, not this project's pins
