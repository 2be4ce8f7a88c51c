"""Decorators example: credit checks on plain service functions (see services.py, README.md).

``run_demo`` loads on first use, so that ``python -m examples.decorators.services`` runs that
module once, as the script.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["HonoursCommittee", "SubsidyOffice", "run_demo"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("examples.decorators.services"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
