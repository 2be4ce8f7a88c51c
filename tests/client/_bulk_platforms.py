"""In-memory platforms that bulk-screening worker processes build for themselves.

A worker process cannot share the test's platform object, so each builds its own from a
picklable factory: the same subjects in the same states, deterministically.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from credit_sdk.testing import CreditPlatform, fake_resident_id, fake_uscc

AS_OF = dt.date(2026, 11, 29)
SEVERE = [fake_uscc(n) for n in (1, 2, 3)]
RED = fake_uscc(5)
UNAVAILABLE = fake_uscc(7)
DEFAULTER = fake_resident_id(9)


def register(size: int) -> list[str]:
    """``size`` subjects: the states above among plain companies, and one invalid identifier."""
    subjects = [fake_uscc(n) for n in range(1, size)]
    subjects.insert(size // 3, "91230100MA1C2X3Y4Z")  # a check character that does not match
    subjects.append(DEFAULTER)
    return subjects


@dataclass(frozen=True)
class Platform:
    """A picklable factory: each call builds the same platform, ``delay`` seconds per
    report batch (a real delay, so that work is in flight when a test acts)."""

    delay: float = 0.0

    def __call__(self) -> CreditPlatform:
        platform = CreditPlatform(today=AS_OF)
        for subject in SEVERE:
            platform.subject(subject).on_severe_list()
        platform.subject(RED).on_red_list()
        platform.subject(DEFAULTER).on_judgment_defaulter_list()
        platform.unavailable_for(UNAVAILABLE)
        if self.delay:
            platform.slow(self.delay, route="reports")
        return platform
