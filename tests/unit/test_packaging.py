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
