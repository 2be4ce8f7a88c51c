"""``credit-sdk sandbox``: the development platform (its options live with it)."""

from __future__ import annotations

import argparse
from typing import Any

from credit_sdk.cli._common import (
    _RAW,
    EXIT_CONFIG,
    _epilog,
    _err,
)


def add_sandbox_command(groups: Any) -> None:
    """``credit-sdk sandbox``: the development platform (its options live with it)."""
    from credit_sdk.sandbox import cli as sandbox_cli

    sandbox_cli.register(groups)
    parser: argparse.ArgumentParser = groups.choices["sandbox"]
    parser.formatter_class = _RAW
    parser.epilog = _epilog(
        """\
  credit-sdk sandbox                             # http://127.0.0.1:8765, in-memory store
  credit-sdk sandbox --port 0 --db sandbox.db    # any free port, state kept in a file
  # then, in another shell:
  credit-sdk check 91230102MA1EXA041W --scenario bidding --organ X --operator u1 \\
      --purpose demo --sandbox http://127.0.0.1:8765"""
    )
    run = parser.get_default("handler")

    def handler(args: argparse.Namespace) -> int:
        from credit_sdk.sandbox import require_extra

        try:
            require_extra()
        except ImportError as err:
            _err(f"configuration: {err}")
            return EXIT_CONFIG
        code = int(run(args))
        # The sandbox says 1 when it cannot listen: here 1 means a broken hash chain.
        return EXIT_CONFIG if code == 1 else code

    parser.set_defaults(handler=handler, func=handler)
