"""The public period helpers (docs/api.md: `add_months`, `period_last_day`) refuse a wrong
argument the way every public function does: a ``TypeError`` that names the parameter, and the
documented ``ValueError`` for a result outside years 1-9999, never an ``AttributeError``,
an ``OverflowError`` or a hashing error from inside."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from credit_sdk import add_months, period_last_day

DAY = dt.date(2026, 1, 31)
NOT_DATES: list[Any] = [None, "2026-01-31", "长期", 20260131, 1.5, b"2026", [], {}, True]
NOT_MONTHS: list[Any] = [None, "3", 3.0, [], {}, True, dt.date(2026, 1, 1)]


@pytest.mark.parametrize("value", NOT_DATES, ids=repr)
def test_a_start_that_is_not_a_date_is_a_type_error_naming_it(value: Any) -> None:
    with pytest.raises(TypeError, match=r"^day must be date"):
        add_months(value, 1)
    with pytest.raises(TypeError, match=r"^start must be date"):
        period_last_day(value, months=1)


@pytest.mark.parametrize("value", NOT_MONTHS, ids=repr)
def test_months_that_are_not_an_int_are_a_type_error_naming_them(value: Any) -> None:
    with pytest.raises(TypeError, match=r"^months must be int"):
        add_months(DAY, value)
    with pytest.raises(TypeError, match=r"^months must be int"):
        period_last_day(DAY, months=value)


@pytest.mark.parametrize("months", [2**64, -(2**64), 10**30, 110101199003077777])
def test_months_beyond_any_calendar_are_the_documented_value_error(months: int) -> None:
    with pytest.raises(ValueError, match="out of range") as caught:
        add_months(DAY, months)
    assert str(months) not in str(caught.value)
    assert period_last_day(DAY, months=abs(months)) is None


def test_a_datetime_counts_as_its_day() -> None:
    assert add_months(dt.datetime(2026, 1, 31, 12), 1) == dt.date(2026, 2, 28)
