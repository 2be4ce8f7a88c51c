"""Personnel review example: hiring and qualification reviews in Flask (see app.py, README.md).

``run_demo`` and ``create_app`` load on first use, so that ``python -m
examples.personnel_review.app`` runs that module once, as the script.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["create_app", "run_demo"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("examples.personnel_review.app"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
