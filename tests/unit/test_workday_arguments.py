"""Working days (docs/client.md "Working days", Art. 53 ¶2): an argument of the wrong Python
type is a ``TypeError`` that names it, never a hashing or path error from inside."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from credit_sdk import ExcludedPeriod, HolidayArrangement, WorkingDayCalendar

FIRST, LAST = dt.date(2026, 11, 30), dt.date(2026, 12, 4)


@pytest.mark.parametrize("reason", [["appraisal"], {"appraisal": 1}, None, 5, b"appraisal"])
def test_an_excluded_periods_reason_that_is_not_text_is_named(reason: Any) -> None:
    with pytest.raises(TypeError, match=r"^ExcludedPeriod\.reason must be str"):
        ExcludedPeriod(FIRST, LAST, reason)


@pytest.mark.parametrize("path", [5, None, ["holidays"], b"/etc/holidays"], ids=repr)
def test_an_arrangement_path_of_a_wrong_type_is_named(path: Any) -> None:
    with pytest.raises(TypeError, match=r"^paths must be str or PathLike"):
        WorkingDayCalendar.load(path)
    with pytest.raises(TypeError, match=r"^path must be str or PathLike"):
        HolidayArrangement.load(path)
