"""Periods in months and years, counted as the Civil Code counts them (Art. 201, 202).

Every period the SDK computes goes through this module: the publication windows of records and
listings (Art. 51), continuing acts, listing terms (Art. 38), the Art. 30 verification date and
authorisation terms. One rule, one implementation:

* **Art. 201**: the day on which the period starts is not counted (开始的当日不计入); counting
  begins the next day.
* **Art. 202**: a period in months or years ends on the corresponding day of its last month
  (到期月的对应日为期间的最后一日), or on that month's last day when it has no such day.

So a one-year publication period that starts on 1 May 2026 has 1 May 2027 as its **last** day,
and 2 May 2027 is the first day outside it. A one-month period from 31 January ends on 28 (or
29) February.

Dates near the end of the calendar (year 9999, where platforms write "no end" as
``9999-12-31``) cannot overflow here: :func:`period_last_day` returns ``None`` ("no end within
the calendar") instead of raising, and :func:`is_open_ended` recognises the sentinels.

>>> import datetime as dt
>>> period_last_day(dt.date(2026, 5, 1), months=12)
datetime.date(2027, 5, 1)
>>> period_last_day(dt.date(2026, 1, 31), months=1)
datetime.date(2026, 2, 28)
>>> period_last_day(dt.date(9999, 6, 1), months=12) is None
True
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from credit_sdk._errors import require_type

__all__ = [
    "OPEN_ENDED_TERMS",
    "add_months",
    "first_day_after",
    "is_open_ended",
    "period_last_day",
]

_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_ONE_DAY = dt.timedelta(days=1)

#: Words a platform or a written decision uses for a term with no end (长期). A term given this
#: way parses as "no end" (``None`` plus an open-ended flag), never as a date arithmetic error.
OPEN_ENDED_TERMS = frozenset({"长期", "长期有效", "永久", "无期限", "long_term", "indefinite"})


def _check(day: dt.date, day_name: str, months: int) -> None:
    require_type(day, dt.date, day_name)
    require_type(months, int, "months")


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole calendar months, clamped to the month's last day.

    Jan 31 + 1 month = Feb 28 (29 in a leap year). Negative ``months`` count back. Raises the
    standard library's ``ValueError`` when the result falls outside years 1-9999; the period
    helpers below never let it get that far.

    >>> add_months(dt.date(2024, 1, 31), 1)
    datetime.date(2024, 2, 29)
    >>> add_months(dt.date(2026, 3, 31), -1)
    datetime.date(2026, 2, 28)
    """
    _check(day, "day", months)
    if abs(months) > 12 * dt.MAXYEAR:
        raise ValueError("year is out of range")
    return _add_months(day, months)


@lru_cache(maxsize=8192)
def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    last = _DAYS_IN_MONTH[month]
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        last = 29
    return dt.date(year, month, min(day.day, last))


def period_last_day(start: dt.date, *, months: int) -> dt.date | None:
    """The last day of a period of ``months`` that starts on ``start`` (Civil Code Art. 201,
    202), or ``None`` when that day lies beyond the calendar (the period has no end that a date
    can state).

    ``start`` is the day of the event (the finding, the listing, the approval): it is not
    counted, so the period's last day is the corresponding day ``months`` later.

    >>> period_last_day(dt.date(2024, 2, 29), months=12)
    datetime.date(2025, 2, 28)
    >>> period_last_day(dt.date(2026, 12, 31), months=2)
    datetime.date(2027, 2, 28)
    """
    _check(start, "start", months)
    if months < 0:
        raise ValueError("a period cannot be negative")
    total = start.month - 1 + months
    if start.year + total // 12 > dt.MAXYEAR:
        return None
    return _add_months(start, months)


def _last_day(start: dt.date, months: int) -> dt.date | None:
    """:func:`period_last_day` for callers whose ``start`` is a date and ``months`` a
    non-negative int by construction (the engine: dates from validated reports, months from a
    validated profile), without checking them again on every record."""
    if start.year + (start.month - 1 + months) // 12 > dt.MAXYEAR:
        return None
    return _add_months(start, months)


def first_day_after(last_day: dt.date | None) -> dt.date | None:
    """The first day outside a period whose last day is ``last_day`` (``None``: no end)."""
    if last_day is None or last_day == dt.date.max:
        return None
    return last_day + _ONE_DAY


def is_open_ended(value: object) -> bool:
    """Whether ``value`` says "no end": one of :data:`OPEN_ENDED_TERMS`, or a sentinel date in
    the year 9999 (``9999-12-31``, ``9999-01-01``), as ``str`` or ``date``.

    >>> is_open_ended("长期"), is_open_ended("9999-12-31"), is_open_ended(dt.date(2030, 1, 1))
    (True, True, False)
    """
    if isinstance(value, dt.date):
        return value.year == dt.MAXYEAR
    if isinstance(value, str):
        text = value.strip()
        return text in OPEN_ENDED_TERMS or text.startswith(f"{dt.MAXYEAR}-")
    return False
