"""Bidding platform example: batch credit screening of a tender (see screen.py, README.md).

``run_demo`` and ``screen_bidders`` load on first use, so that ``python -m
examples.bidding_platform.screen`` runs that module once, as the script.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["run_demo", "screen_bidders"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("examples.bidding_platform.screen"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
