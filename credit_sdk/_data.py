"""Where the shipped data lives (measure lists, policy profiles, sample reports).

A plain path next to the package: wheels and editable installs both keep ``data/`` beside the
modules, and it avoids importing ``importlib.resources`` on every ``import credit_sdk``.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
