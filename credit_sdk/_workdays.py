"""Art. 53 due dates in Chinese working days (工作日), official holidays and adjusted workdays
(调休) included.

The State Council publishes each year's holiday arrangement, which moves some weekends to
working days and some weekdays to holidays; a hand-written table would go wrong every year. The
maintained ``chinese-calendar`` package carries those arrangements; it is imported on first use
only, so ``import credit_sdk`` stays cheap. For a year the package has no data for, the SDK
raises :class:`~credit_sdk.ConfigurationError` (upgrade the package) rather than guess.

Counting follows the usual rule for statutory periods: the day the objection is received does
not count, so "within one working day" ends on the first working day after receipt.

>>> import datetime as dt
>>> add_working_days(dt.date(2026, 9, 30), 1)   # National Day week: next working day is 8 Oct
datetime.date(2026, 10, 8)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from credit_sdk._errors import ConfigurationError

__all__ = ["ObjectionDueDates", "add_working_days", "is_working_day", "objection_due_dates"]

_calendar: Any = None


def _cal() -> Any:
    global _calendar
    if _calendar is None:
        try:
            import chinese_calendar  # type: ignore[import-untyped]  # no py.typed
        except ImportError as err:  # a broken install: the dependency is declared
            raise ConfigurationError(
                "Art. 53 due dates need the 'chinese-calendar' package; install it"
            ) from err
        _calendar = chinese_calendar
    return _calendar


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day in mainland China (adjusted workdays count).

    >>> import datetime as dt
    >>> is_working_day(dt.date(2026, 10, 1)), is_working_day(dt.date(2026, 2, 14))
    (False, True)
    """
    cal = _cal()
    try:
        return bool(cal.is_workday(day))
    except NotImplementedError as err:
        version = getattr(cal, "__version__", "?")
        raise ConfigurationError(
            f"the working-day calendar (chinese-calendar {version}) has no official holiday "
            f"arrangement for {day.year}; upgrade chinese-calendar to compute Art. 53 due dates"
        ) from err


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    day = start
    left = days
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


@dataclass(frozen=True, slots=True)
class ObjectionDueDates:
    """Art. 53: when the objection label and the correction decision are due."""

    label_due: dt.date
    decision_due: dt.date


def objection_due_dates(
    received_on: dt.date,
    *,
    needs_assistance: bool,
    label_days: int = 1,
    decision_days: int = 3,
    assisted_decision_days: int = 7,
) -> ObjectionDueDates:
    """Art. 53: label within one working day of receipt; decide within three, or seven when
    another unit must help verify.

    >>> import datetime as dt
    >>> due = objection_due_dates(dt.date(2026, 9, 30), needs_assistance=False)
    >>> due.label_due, due.decision_due
    (datetime.date(2026, 10, 8), datetime.date(2026, 10, 10))
    """
    return ObjectionDueDates(
        label_due=add_working_days(received_on, label_days),
        decision_due=add_working_days(
            received_on, assisted_decision_days if needs_assistance else decision_days
        ),
    )
