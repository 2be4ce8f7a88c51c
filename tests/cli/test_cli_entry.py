"""The `credit-sdk` entry point: installed script, `python -m`, top-level help, the sandbox
subcommand's wiring, and one table of exit codes that names every code."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from credit_sdk import cli
from credit_sdk.cli import COMMAND_GROUPS, EXIT_CODES, EXIT_CONFIG, EXIT_OK, EXIT_USAGE

from .conftest import Run

GROUPS = ("check", "lists", "feedback", "audit", "sandbox")
#: The duties module (Art. 22, 52) registers three top-level commands from one group function.
DUTY_COMMANDS = ("push", "correct", "update-basis")


def test_installed_script_help() -> None:
    script = Path(sys.executable).parent / "credit-sdk"
    if not script.exists():
        pytest.skip("the credit-sdk script is not installed in this environment")
    done = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    for group in GROUPS:
        assert group in done.stdout
    assert "exit codes:" in done.stdout


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "credit_sdk.cli", "check", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "examples:" in done.stdout
    assert "--scenario" in done.stdout


def test_top_level(run: Run) -> None:
    result = run("--help")
    assert result.code == EXIT_OK
    for group in (*GROUPS, *DUTY_COMMANDS):
        assert f"    {group}" in result.out
    assert len(COMMAND_GROUPS) == len(GROUPS) + 1
    assert run().code == EXIT_USAGE
    assert run("frobnicate").code == EXIT_USAGE
    assert run("--version").out.startswith("credit-sdk ")


@pytest.mark.parametrize(
    "argv",
    [
        ("check",),
        ("lists",),
        ("feedback",),
        ("feedback", "flush"),
        ("audit",),
        ("audit", "verify"),
        ("sandbox",),
    ],
)
def test_every_command_teaches(run: Run, argv: tuple[str, ...]) -> None:
    result = run(*argv, "--help")
    assert result.code == EXIT_OK
    examples = result.out.split("examples:\n", 1)[1]
    assert "\n  credit-sdk " in "\n" + examples.split("exit codes:")[0]
    assert "exit codes:" in result.out


def test_exit_code_table_names_every_code() -> None:
    codes = {
        value
        for name, value in vars(cli).items()
        if name.startswith("EXIT_") and isinstance(value, int)
    }
    for code in codes:
        assert f"{code:>4}  " in EXIT_CODES, code
    assert len(codes) == len({name for name in vars(cli) if name.startswith("EXIT_")}) - 1


def test_sandbox_port_in_use_is_a_configuration_error(run: Run) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run("sandbox", "--port", str(port), "--log-level", "error")
    assert result.code == EXIT_CONFIG
    assert "cannot listen" in result.err


def test_sandbox_refuses_public_interface_with_default_credentials(run: Run) -> None:
    result = run("sandbox", "--host", "0.0.0.0", "--port", "0")
    assert result.code == EXIT_USAGE
    assert "loopback" in result.err
