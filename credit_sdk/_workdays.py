"""Due dates in Chinese working days (工作日) that never go dark (Art. 22, 52, 53).

The State Council publishes each year's holiday arrangement (节假日安排), which makes some
weekdays holidays and some weekends working days (调休). A due date "within N working days" is
counted against that arrangement, from three sources, first match wins:

1. **the operator's arrangement**: a small JSON file per year, as the State Council publishes it
   (``CREDIT_SDK_HOLIDAYS`` names a file or a directory of them, or pass ``holidays=``);
2. **the official calendar** of the maintained ``chinese-calendar`` package, for the years it
   knows (imported on first use only, so ``import credit_sdk`` stays cheap);
3. **a weekends-only estimate** for a year that neither knows. The result is then marked
   *provisional* (``DueDate.provisional``, the years in ``estimated_years``): never a crash,
   never ``None``. Install the year's arrangement (or a newer ``chinese-calendar``) and the date
   becomes exact.

Counting follows the rule for statutory periods: the day the period starts on (the day the
information was produced, the error discovered, the objection received) does not count, so
"within one working day" ends on the first working day after it. Art. 53 ¶2: time spent on
inspection, testing, quarantine, appraisal and expert review (检验、检测、检疫、鉴定和专家评审)
is not counted in objection handling; pass those periods as ``excluded``.

>>> import datetime as dt
>>> add_working_days(dt.date(2026, 9, 30), 1)   # National Day week: next working day is 8 Oct
datetime.date(2026, 10, 8)

An operator file (dates may be ranges ``first/last``; ``source`` names the notice)::

    {"year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知",
     "holidays": ["2027-01-01", "2027-02-06/2027-02-13"], "workdays": ["2027-02-14"]}
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from credit_sdk._errors import ConfigurationError, InvalidQuery

__all__ = [
    "HOLIDAYS_ENV",
    "DayBasis",
    "DueDate",
    "ExcludedPeriod",
    "HolidayArrangement",
    "ObjectionDueDates",
    "WorkingDayCalendar",
    "add_working_days",
    "default_calendar",
    "due_date",
    "is_working_day",
    "objection_due_dates",
]

#: Environment variable naming the operator's holiday arrangement files: a JSON file, a
#: directory of ``*.json`` files (one per year), or several of either separated by ``os.pathsep``.
HOLIDAYS_ENV = "CREDIT_SDK_HOLIDAYS"

#: Where a day's status came from: the operator's file, the official calendar of
#: ``chinese-calendar``, or the weekends-only estimate.
DayBasis = Literal["operator", "official", "provisional"]

#: Art. 53 ¶2: the kinds of time not counted in objection handling.
ExclusionReason = Literal["inspection", "testing", "quarantine", "appraisal", "expert_review"]
_REASONS: frozenset[str] = frozenset(get_args(ExclusionReason))

_MAX_FILE_BYTES = 64 * 1024
_MAX_DATES = 400
_MAX_WORKING_DAYS = 366
# A due date search never walks further than this many calendar days (about ten years):
# bounded loops, even with long excluded periods.
_MAX_SPAN_DAYS = 3660
_FIRST_YEAR, _LAST_YEAR = 1949, 9998

_library: Any = None


def _lib() -> Any:
    global _library
    if _library is None:
        try:
            import chinese_calendar  # type: ignore[import-untyped]  # no py.typed
        except ImportError:  # a broken install: the dependency is declared
            _library = False
        else:
            _library = chinese_calendar
    return _library


def _library_years() -> tuple[int, int] | None:
    """The first and last year the installed ``chinese-calendar`` has arrangements for."""
    lib = _lib()
    if not lib:
        return None
    try:
        keys = lib.constants.holidays.keys()
        return min(keys).year, max(keys).year
    except (AttributeError, ValueError):  # an unexpected package layout: do not trust it
        return None


# -- the operator's arrangement -----------------------------------------------------------------


def _config_error(where: str, rule: str) -> ConfigurationError:
    return ConfigurationError(f"holiday arrangement {where}: {rule}")


def _parse_day(value: object, where: str) -> dt.date:
    if not isinstance(value, str) or len(value) != 10:
        raise _config_error(where, "dates are ISO strings YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _config_error(where, "dates are ISO strings YYYY-MM-DD (a real day)") from None


def _expand(values: object, key: str, where: str) -> list[dt.date]:
    if not isinstance(values, list):
        raise _config_error(where, f"'{key}' must be a list of dates or 'first/last' ranges")
    if len(values) > _MAX_DATES:
        raise _config_error(where, f"'{key}' lists more than {_MAX_DATES} entries")
    days: list[dt.date] = []
    for value in values:
        if isinstance(value, str) and "/" in value:
            first_text, _, last_text = value.partition("/")
            first, last = _parse_day(first_text, where), _parse_day(last_text, where)
            if last < first or (last - first).days > 31:
                raise _config_error(where, f"a range in '{key}' must run forward, 32 days at most")
            days.extend(first + dt.timedelta(days=n) for n in range((last - first).days + 1))
        else:
            days.append(_parse_day(value, where))
    return days


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key")
    return dict(pairs)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True, slots=True)
class HolidayArrangement:
    """One year's holiday arrangement as the State Council publishes it: the holidays
    (放假, weekends inside a holiday period may be listed too) and the adjusted workdays
    (调休上班, always a Saturday or Sunday). ``source`` names the notice it transcribes.

    >>> import datetime as dt
    >>> a = HolidayArrangement.from_mapping({"year": 2031, "source": "sample, not official",
    ...     "holidays": ["2031-10-01/2031-10-07"], "workdays": ["2031-09-28"]})
    >>> a.is_working_day(dt.date(2031, 10, 2)), a.is_working_day(dt.date(2031, 9, 28))
    (False, True)
    """

    year: int
    source: str
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    origin: str = field(default="", compare=False)

    @classmethod
    def from_mapping(cls, data: object, *, origin: str = "(mapping)") -> HolidayArrangement:
        """Validate one year's arrangement; :class:`~credit_sdk.ConfigurationError` names
        ``origin`` and the rule it broke."""
        where = origin
        if not isinstance(data, Mapping):
            raise _config_error(where, "must be a JSON object")
        unknown = set(data) - {"year", "source", "holidays", "workdays", "note"}
        if unknown:
            raise _config_error(
                where, "only the keys year, source, holidays, workdays and note are allowed"
            )
        year = data.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or not 1949 <= year <= _LAST_YEAR:
            raise _config_error(where, f"'year' must be an integer from 1949 to {_LAST_YEAR}")
        where = f"{origin} (year {year})"
        source = data.get("source")
        if not isinstance(source, str) or not source.strip() or len(source) > 500:
            raise _config_error(
                where, "'source' must name the notice the arrangement comes from (1-500 chars)"
            )
        note = data.get("note")
        if note is not None and (not isinstance(note, str) or len(note) > 2000):
            raise _config_error(where, "'note' must be a text of at most 2000 characters")
        holidays = _expand(data.get("holidays", []), "holidays", where)
        workdays = _expand(data.get("workdays", []), "workdays", where)
        # An arrangement may reach a few weeks into the neighbouring years (a New Year
        # holiday, an adjusted Sunday before it); not further.
        lo, hi = dt.date(year - 1, 12, 1), dt.date(year + 1, 1, 31)
        for day in (*holidays, *workdays):
            if not lo <= day <= hi:
                raise _config_error(where, "every date must lie in the arrangement's year")
        for day in workdays:
            if day.weekday() < 5:
                raise _config_error(
                    where, f"adjusted workday {day} is a weekday; only weekends are adjusted"
                )
        if set(holidays) & set(workdays):
            raise _config_error(where, "a day cannot be both a holiday and an adjusted workday")
        return cls(year, source.strip(), frozenset(holidays), frozenset(workdays), origin)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> HolidayArrangement:
        """Read one JSON file (UTF-8, at most 64 KiB, no duplicate keys, no NaN)."""
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"path must be str or PathLike, not {type(path).__name__}")
        p = Path(path)
        where = p.name or str(p)
        try:
            with p.open("rb") as fh:
                raw = fh.read(_MAX_FILE_BYTES + 1)
        except OSError as err:
            raise _config_error(where, f"cannot be read ({err.strerror or 'I/O error'})") from None
        if len(raw) > _MAX_FILE_BYTES:
            raise _config_error(where, f"is larger than {_MAX_FILE_BYTES // 1024} KiB")
        try:
            data = json.loads(
                raw.decode("utf-8-sig"),
                object_pairs_hook=_reject_duplicates,
                parse_constant=_reject_constant,
            )
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise _config_error(
                where, "is not valid UTF-8 JSON (one object, no duplicate keys)"
            ) from None
        return cls.from_mapping(data, origin=where)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.holidays:
            return False
        return day in self.workdays or day.weekday() < 5


# -- due dates ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExcludedPeriod:
    """Art. 53 ¶2: days spent on inspection, testing, quarantine, appraisal or expert review
    (``first`` to ``last``, both included), not counted in objection handling.

    >>> import datetime as dt
    >>> ExcludedPeriod(dt.date(2026, 11, 2), dt.date(2026, 11, 4), "appraisal").days
    3
    """

    first: dt.date
    last: dt.date
    reason: ExclusionReason

    def __post_init__(self) -> None:
        rule = "art53_excluded_period"
        for name in ("first", "last"):
            value = getattr(self, name)
            if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
                raise TypeError(f"ExcludedPeriod.{name} must be a datetime.date")
        if not isinstance(self.reason, str):
            raise TypeError(f"ExcludedPeriod.reason must be str, not {type(self.reason).__name__}")
        if self.last < self.first:
            raise InvalidQuery("an excluded period ends before it starts (Art. 53 ¶2)", rule=rule)
        if self.reason not in _REASONS:
            raise InvalidQuery(
                "an excluded period's reason must be one of "
                f"{sorted(_REASONS)} (Art. 53 ¶2 names only these)",
                rule=rule,
            )

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.first <= day <= self.last


@dataclass(frozen=True, slots=True)
class DueDate:
    """A due date counted in working days, and how sure it is.

    ``provisional`` is true when some day of the count fell in a year that neither the
    operator's arrangement nor the official calendar knows, counted by weekends only
    (``estimated_years``): a holiday that year could move the true date later, and an adjusted
    workday (调休) earlier. ``excluded_days`` counts the calendar days left out under
    Art. 53 ¶2.

    >>> import datetime as dt
    >>> str(due_date(dt.date(2026, 9, 30), 1))
    '2026-10-08'
    """

    due: dt.date
    start: dt.date
    working_days: int
    provisional: bool = False
    estimated_years: tuple[int, ...] = ()
    excluded_days: int = 0

    def __str__(self) -> str:
        if not self.provisional:
            return self.due.isoformat()
        years = ", ".join(map(str, self.estimated_years))
        return f"{self.due.isoformat()} (provisional: weekends-only estimate for {years})"


class WorkingDayCalendar:
    """Working days from the operator's arrangements, then the official calendar, then a
    weekends-only estimate (provisional).

    >>> import datetime as dt
    >>> cal = WorkingDayCalendar([HolidayArrangement.from_mapping({"year": 2031,
    ...     "source": "sample, not official", "holidays": ["2031-01-01"]})])
    >>> cal.basis(dt.date(2031, 1, 1)), cal.is_working_day(dt.date(2031, 1, 1))
    ('operator', False)
    >>> cal.basis(dt.date(2032, 3, 1))
    'provisional'
    """

    def __init__(
        self, arrangements: Iterable[HolidayArrangement] = (), *, official: bool = True
    ) -> None:
        by_year: dict[int, HolidayArrangement] = {}
        for arrangement in arrangements:
            if not isinstance(arrangement, HolidayArrangement):
                raise TypeError("arrangements must be HolidayArrangement values")
            if arrangement.year in by_year:
                raise _config_error(
                    arrangement.origin or "(argument)",
                    f"year {arrangement.year} is given twice (one arrangement per year)",
                )
            by_year[arrangement.year] = arrangement
        self._years = by_year
        self._holidays = {d: a for a in by_year.values() for d in a.holidays}
        self._workdays = {d: a for a in by_year.values() for d in a.workdays}
        self._use_official = official
        self._official_range: tuple[int, int] | bool | None = False  # False: not looked up yet

    @classmethod
    def load(cls, *paths: str | os.PathLike[str]) -> WorkingDayCalendar:
        """Read arrangement files; a directory contributes its ``*.json`` files."""
        files: list[Path] = []
        for path in paths:
            if not isinstance(path, str | os.PathLike):
                raise TypeError(f"paths must be str or PathLike, not {type(path).__name__}")
            p = Path(path)
            if p.is_dir():
                files.extend(sorted(p.glob("*.json")))
            elif p.exists():
                files.append(p)
            else:
                raise _config_error(p.name or str(p), "no such file or directory")
        return cls([HolidayArrangement.load(f) for f in files])

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WorkingDayCalendar:
        """The calendar ``CREDIT_SDK_HOLIDAYS`` describes (only the official calendar and the
        estimate when unset)."""
        env = os.environ if environ is None else environ
        value = env.get(HOLIDAYS_ENV, "").strip()
        if not value:
            return cls()
        try:
            return cls.load(*[v for v in value.split(os.pathsep) if v])
        except ConfigurationError as err:
            raise ConfigurationError(f"{HOLIDAYS_ENV}: {err}") from None

    @property
    def operator_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._years))

    @property
    def official_years(self) -> tuple[int, int] | None:
        """The first and last year of the official calendar in use (``None``: none)."""
        if self._official_range is False:  # imported on first use, not at construction
            self._official_range = _library_years() if self._use_official else None
        return self._official_range  # type: ignore[return-value]

    def basis(self, day: dt.date) -> DayBasis:
        """Which source decides whether ``day`` is a working day."""
        if day in self._holidays or day in self._workdays or day.year in self._years:
            return "operator"
        official = self.official_years
        if official is not None and official[0] <= day.year <= official[1]:
            return "official"
        return "provisional"

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day in mainland China (adjusted workdays count)."""
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise TypeError("day must be a datetime.date")
        basis = self.basis(day)
        if basis == "operator":
            if day in self._holidays:
                return False
            return day in self._workdays or day.weekday() < 5
        if basis == "official":
            return bool(_lib().is_workday(day))
        return day.weekday() < 5

    def due_date(
        self,
        start: dt.date,
        working_days: int,
        *,
        excluded: Sequence[ExcludedPeriod] = (),
    ) -> DueDate:
        """The ``working_days``-th working day after ``start`` (``start`` does not count),
        skipping the days of ``excluded`` periods (Art. 53 ¶2).

        >>> import datetime as dt
        >>> cal = WorkingDayCalendar()
        >>> cal.due_date(dt.date(2026, 11, 27), 3).due      # Friday + 3 working days
        datetime.date(2026, 12, 2)
        >>> cal.due_date(dt.date(2026, 11, 27), 3, excluded=[ExcludedPeriod(
        ...     dt.date(2026, 11, 30), dt.date(2026, 12, 1), "expert_review")]).due
        datetime.date(2026, 12, 4)
        """
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise TypeError("start must be a datetime.date")
        if not isinstance(working_days, int) or isinstance(working_days, bool):
            raise TypeError("working_days must be an int")
        if not 1 <= working_days <= _MAX_WORKING_DAYS:
            raise InvalidQuery(
                f"a period in working days must be 1 to {_MAX_WORKING_DAYS} days",
                rule="working_days",
            )
        periods = list(excluded)
        for period in periods:
            if not isinstance(period, ExcludedPeriod):
                raise TypeError("excluded must hold ExcludedPeriod values")
        if not _FIRST_YEAR <= start.year <= _LAST_YEAR:
            raise InvalidQuery(
                f"due dates are counted for start dates from {_FIRST_YEAR} to {_LAST_YEAR}",
                rule="date_range",
            )
        day, left, skipped = start, working_days, 0
        estimated: set[int] = set()
        for _ in range(_MAX_SPAN_DAYS):
            day += dt.timedelta(days=1)
            if any(day in p for p in periods):
                skipped += 1
                continue
            if self.basis(day) == "provisional":
                estimated.add(day.year)
            if self.is_working_day(day):
                left -= 1
                if not left:
                    return DueDate(
                        day,
                        start,
                        working_days,
                        bool(estimated),
                        tuple(sorted(estimated)),
                        skipped,
                    )
        raise InvalidQuery(
            "the excluded periods leave no working day within ten years of the start",
            rule="art53_excluded_period",
        )

    def __repr__(self) -> str:
        years = self.official_years
        official = "-".join(map(str, years)) if years else "none"
        return f"WorkingDayCalendar(operator years={list(self._years)}, official={official})"


_default: tuple[str, WorkingDayCalendar] | None = None
_default_lock = threading.Lock()


def default_calendar() -> WorkingDayCalendar:
    """The calendar of ``CREDIT_SDK_HOLIDAYS`` (read again when the variable changes)."""
    global _default
    value = os.environ.get(HOLIDAYS_ENV, "")
    with _default_lock:
        if _default is None or _default[0] != value:
            _default = (value, WorkingDayCalendar.from_env())
        return _default[1]


def is_working_day(day: dt.date, *, calendar: WorkingDayCalendar | None = None) -> bool:
    """Whether ``day`` is a working day (see :class:`WorkingDayCalendar`).

    >>> import datetime as dt
    >>> is_working_day(dt.date(2026, 10, 1)), is_working_day(dt.date(2026, 2, 14))
    (False, True)
    """
    return (calendar or default_calendar()).is_working_day(day)


def due_date(
    start: dt.date,
    working_days: int,
    *,
    excluded: Sequence[ExcludedPeriod] = (),
    calendar: WorkingDayCalendar | None = None,
) -> DueDate:
    """:meth:`WorkingDayCalendar.due_date` on ``calendar`` (default: :func:`default_calendar`)."""
    return (calendar or default_calendar()).due_date(start, working_days, excluded=excluded)


def add_working_days(
    start: dt.date, days: int, *, calendar: WorkingDayCalendar | None = None
) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count); see
    :func:`due_date` for whether it is provisional."""
    return due_date(start, days, calendar=calendar).due


@dataclass(frozen=True, slots=True)
class ObjectionDueDates:
    """Art. 53: when the objection label and the correction decision are due, each computed
    on its own (one provisional date does not make the other one so)."""

    label: DueDate
    decision: DueDate

    @property
    def label_due(self) -> dt.date:
        return self.label.due

    @property
    def decision_due(self) -> dt.date:
        return self.decision.due

    @property
    def provisional(self) -> bool:
        return self.label.provisional or self.decision.provisional


def objection_due_dates(
    received_on: dt.date,
    *,
    needs_assistance: bool,
    label_days: int = 1,
    decision_days: int = 3,
    assisted_decision_days: int = 7,
    excluded: Sequence[ExcludedPeriod] = (),
    calendar: WorkingDayCalendar | None = None,
) -> ObjectionDueDates:
    """Art. 53: label within one working day of receipt; decide within three, or seven when
    another unit must help verify; ``excluded`` periods (Art. 53 ¶2) do not count towards the
    decision.

    >>> import datetime as dt
    >>> due = objection_due_dates(dt.date(2026, 9, 30), needs_assistance=False)
    >>> due.label_due, due.decision_due
    (datetime.date(2026, 10, 8), datetime.date(2026, 10, 10))
    """
    cal = calendar or default_calendar()
    return ObjectionDueDates(
        label=cal.due_date(received_on, label_days),
        decision=cal.due_date(
            received_on,
            assisted_decision_days if needs_assistance else decision_days,
            excluded=excluded,
        ),
    )
