"""A weekends-only estimate is not a lower bound on a working-day due date (Art. 22, 52, 53).

The State Council's arrangements add holidays *and* make weekend days working days (调休). A
count that crosses an adjusted workday ends earlier than a weekends-only count, so a
provisional due date may lie *after* the true one. The client guide must not tell an organ to
treat a provisional date as the earliest possible one: following that advice, an objection
labelled on the estimated day would be labelled late (Art. 53 ¶1: within one working day)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from credit_sdk import WorkingDayCalendar, due_date

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "client.md"
FRIDAY_BEFORE_SPRING_FESTIVAL_2026 = dt.date(2026, 2, 13)


def test_an_adjusted_workday_makes_the_true_date_earlier_than_the_estimate() -> None:
    true = due_date(FRIDAY_BEFORE_SPRING_FESTIVAL_2026, 1)
    estimate = due_date(FRIDAY_BEFORE_SPRING_FESTIVAL_2026, 1,
                        calendar=WorkingDayCalendar(official=False))  # fmt: skip
    assert not true.provisional
    assert true.due == dt.date(2026, 2, 14)  # 调休: Saturday 14 February 2026 is worked
    assert estimate.provisional
    assert estimate.due == dt.date(2026, 2, 16)
    assert estimate.due > true.due


def test_the_guide_does_not_call_a_provisional_date_the_earliest_one() -> None:
    text = re.sub(r"\s+", " ", GUIDE.read_text(encoding="utf-8"))
    assert "earliest possible" not in text
    assert "can only move the true date later" not in text
    assert "adjusted workday" in text
