"""Fixtures for the command-line tests: a clean ``CREDIT_SDK_*`` environment, a runner, and the
seeded sandbox subjects by state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from credit_sdk.cli import main

if TYPE_CHECKING:
    from credit_sdk.sandbox import SandboxServer

KEY_HEX = "5a" * 32
CONTEXT = ("--organ", "230100-CZJ", "--operator", "u1024", "--purpose", "tender 2026-17")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CREDIT_SDK_* setting leaks in from the host; list snapshots stay in the test's
    directory."""
    import os

    for name in list(os.environ):
        if name.startswith("CREDIT_SDK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CREDIT_SDK_LISTS_DIR", str(tmp_path / "lists"))


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def invoke(*argv: str) -> Result:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The session sandbox, with any fault a test set cleared afterwards."""
    yield sandbox_server
    sandbox_server.admin.clear_faults()


@pytest.fixture
def raw() -> Callable[[str], str]:
    """The synthetic identifier of a seeded sandbox subject, by state."""
    from credit_sdk.sandbox import seeded_subject

    return lambda state: seeded_subject(state).identifier.reveal()


@pytest.fixture
def env_client(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer, tmp_path: Path) -> Path:
    """A production-style CREDIT_SDK_* environment pointing at the sandbox; returns the
    query-log path."""
    db = tmp_path / "audit.db"
    monkeypatch.setenv("CREDIT_SDK_BASE_URL", sandbox.url)
    monkeypatch.setenv("CREDIT_SDK_TOKEN", sandbox.token)
    monkeypatch.setenv("CREDIT_SDK_AUDIT_DB", str(db))
    monkeypatch.setenv("CREDIT_SDK_PSEUDONYM_KEY", KEY_HEX)
    return db
