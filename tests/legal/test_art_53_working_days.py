"""Art. 53: "自收到异议申请之日起一个工作日内作出异议标注，并在三个工作日内作出是否更正的决定；
其中，需要其他单位协助核查的，应当在七个工作日内…… 检验、检测、检疫、鉴定和专家评审所需时间不计入
异议处理时间。"

Working days follow the State Council's holiday arrangement (holidays and adjusted workdays);
the day of receipt does not count. The 2026 cases use the official calendar; the 2027 cases use
arrangements written for these tests only (SYNTHETIC, not the State Council's) or none at all,
where the dates are weekends-only estimates marked provisional.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credit_sdk import (
    ConfigurationError,
    DueDate,
    ExcludedPeriod,
    HolidayArrangement,
    InvalidQuery,
    WorkingDayCalendar,
    due_date,
    objection_due_dates,
)

D = dt.date
OFFICIAL = WorkingDayCalendar()
# Written for these tests; NOT the State Council's 2027 arrangement.
SYNTHETIC_2027: dict[str, Any] = {
    "year": 2027,
    "source": "SYNTHETIC test arrangement, not an official notice",
    "holidays": ["2027-01-01/2027-01-03", "2027-02-05/2027-02-11"],
    "workdays": ["2027-02-13"],
}


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


# -- the official calendar: holidays and adjusted workdays --------------------------------------


def test_spring_festival_2026_counts_the_adjusted_saturday_and_skips_the_holiday() -> None:
    # Received Friday 13 Feb 2026; Saturday 14 Feb is an adjusted workday; 15-23 Feb holiday.
    due = objection_due_dates(D(2026, 2, 13), needs_assistance=False, calendar=OFFICIAL)
    assert due.label_due == D(2026, 2, 14)
    assert due.decision_due == D(2026, 2, 25)
    assert not due.provisional


def test_national_day_2026_on_both_sides() -> None:
    # Received the eve of the holiday: the label is due on the first day back.
    due = objection_due_dates(D(2026, 9, 30), needs_assistance=False, calendar=OFFICIAL)
    assert due.label_due == D(2026, 10, 8)
    assert due.decision_due == D(2026, 10, 10)  # Saturday 10 Oct is an adjusted workday
    # Received Friday 18 Sep: Sunday 20 Sep is an adjusted workday, so it is the first one.
    assert objection_due_dates(D(2026, 9, 18), needs_assistance=False).label_due == D(2026, 9, 20)
    assisted = objection_due_dates(D(2026, 9, 30), needs_assistance=True, calendar=OFFICIAL)
    assert assisted.decision_due == D(2026, 10, 15)


# -- a year no calendar knows: provisional, never None, each date on its own ---------------------


def test_2027_without_data_is_estimated_and_marked_provisional() -> None:
    due = objection_due_dates(D(2026, 12, 30), needs_assistance=False, calendar=OFFICIAL)
    # The label falls in 2026, which the official calendar knows: exact.
    assert due.label == DueDate(D(2026, 12, 31), D(2026, 12, 30), 1)
    # The decision reaches into 2027: 1 Jan 2027 (a Friday) is counted as a working day by the
    # weekends-only estimate, and the result says so.
    assert due.decision.due == D(2027, 1, 4)
    assert due.decision.provisional
    assert due.decision.estimated_years == (2027,)
    assert str(due.decision) == "2027-01-04 (provisional: weekends-only estimate for 2027)"
    assert due.provisional


def test_far_years_are_estimated_too_never_an_error() -> None:
    due = due_date(D(2099, 12, 31), 3, calendar=OFFICIAL)  # Thursday: Fri 1, Mon 4, Tue 5 Jan
    assert due.due == D(2100, 1, 5)
    assert due.estimated_years == (2100,)


# -- the operator's arrangement takes precedence ------------------------------------------------


def test_operator_file_makes_2027_exact(tmp_path: Path) -> None:
    cal = WorkingDayCalendar.load(write(tmp_path, "2027.json", SYNTHETIC_2027))
    due = objection_due_dates(D(2026, 12, 30), needs_assistance=False, calendar=cal)
    assert due.decision.due == D(2027, 1, 5)  # 1-3 Jan off: 31 Dec, 4 Jan, 5 Jan
    assert not due.provisional
    # The synthetic Spring Festival: off 5-11 Feb, Saturday 13 Feb adjusted.
    assert cal.due_date(D(2027, 2, 4), 2).due == D(2027, 2, 13)


def test_operator_file_overrides_the_library_for_a_year_it_knows(tmp_path: Path) -> None:
    # A synthetic arrangement for 2026 that keeps 8 Oct off as well.
    data = {"year": 2026, "source": "SYNTHETIC override", "holidays": ["2026-10-01/2026-10-08"]}
    cal = WorkingDayCalendar.load(write(tmp_path, "2026.json", data))
    assert cal.basis(D(2026, 10, 8)) == "operator"
    assert cal.due_date(D(2026, 9, 30), 1).due == D(2026, 10, 9)
    # Its file lists no adjusted workday: Saturday 10 Oct is a weekend day under it.
    assert not cal.is_working_day(D(2026, 10, 10))


def test_environment_variable_names_files_and_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "holidays"
    folder.mkdir()
    write(folder, "2027.json", SYNTHETIC_2027)
    monkeypatch.setenv("CREDIT_SDK_HOLIDAYS", str(folder))
    assert due_date(D(2026, 12, 31), 1).due == D(2027, 1, 4)
    assert not due_date(D(2026, 12, 31), 1).provisional
    monkeypatch.delenv("CREDIT_SDK_HOLIDAYS")
    assert due_date(D(2026, 12, 31), 1).provisional  # read again when the variable changes


# -- malformed operator files: typed errors naming the variable, the file and the rule -----------

BAD = [
    ("not json {", "not valid UTF-8 JSON"),
    ('{"year": 2027, "year": 2028, "source": "x"}', "not valid UTF-8 JSON"),
    ({"year": 2027, "source": "x", "holidays": ["2027-02-30"]}, "real day"),
    ({"year": 2027, "source": "x", "workdays": ["2027-02-10"]}, "only weekends are adjusted"),
    (
        {"year": 2027, "source": "x", "holidays": ["2027-02-13"], "workdays": ["2027-02-13"]},
        "both a holiday and an adjusted workday",
    ),
    ({"year": 2027, "holidays": []}, "'source' must name the notice"),
    ({"year": 2027, "source": "x", "holidays": ["2029-05-01"]}, "in the arrangement's year"),
    ({"year": "2027", "source": "x"}, "'year' must be an integer"),
    ({"year": 2027, "source": "x", "holiday": []}, "only the keys"),
    ({"year": 2027, "source": "x", "holidays": ["2027-02-11/2027-02-05"]}, "run forward"),
    ('{"year": 2027, "source": "x", "holidays": NaN}', "not valid UTF-8 JSON"),
    ([2027], "must be a JSON object"),
]


@pytest.mark.parametrize(("content", "rule"), BAD)
def test_malformed_file_is_refused_naming_variable_file_and_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: object, rule: str
) -> None:
    write(tmp_path, "holidays-2027.json", content)
    monkeypatch.setenv("CREDIT_SDK_HOLIDAYS", str(tmp_path / "holidays-2027.json"))
    with pytest.raises(ConfigurationError) as err:
        WorkingDayCalendar.from_env()
    message = str(err.value)
    assert message.startswith("CREDIT_SDK_HOLIDAYS: holiday arrangement holidays-2027.json")
    assert rule in message
    # The due-date functions that read the variable fail the same way: never a silent estimate.
    with pytest.raises(ConfigurationError):
        due_date(D(2026, 12, 30), 1)


def test_two_files_for_one_year_and_missing_paths_are_refused(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", SYNTHETIC_2027)
    b = write(tmp_path, "b.json", SYNTHETIC_2027)
    with pytest.raises(ConfigurationError, match="year 2027 is given twice"):
        WorkingDayCalendar.load(a, b)
    with pytest.raises(ConfigurationError, match="no such file"):
        WorkingDayCalendar.load(tmp_path / "missing.json")
    big = write(tmp_path, "big.json", " " * (65 * 1024))
    with pytest.raises(ConfigurationError, match="larger than 64 KiB"):
        HolidayArrangement.load(big)


def test_a_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "2027.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(SYNTHETIC_2027).encode())
    assert HolidayArrangement.load(path).year == 2027


# -- Art. 53 ¶2: inspection, testing, quarantine, appraisal, expert review not counted ----------


def test_excluded_period_overlapping_national_day_and_weekends() -> None:
    # Received Monday 28 Sep 2026; an appraisal runs 29 Sep - 9 Oct, over the holiday.
    appraisal = ExcludedPeriod(D(2026, 9, 29), D(2026, 10, 9), "appraisal")
    plain = objection_due_dates(D(2026, 9, 28), needs_assistance=False, calendar=OFFICIAL)
    assert plain.decision_due == D(2026, 10, 8)
    due = objection_due_dates(
        D(2026, 9, 28), needs_assistance=False, excluded=[appraisal], calendar=OFFICIAL
    )
    # Counting resumes on Saturday 10 Oct (an adjusted workday), then 12 and 13 Oct.
    assert due.decision_due == D(2026, 10, 13)
    assert due.decision.excluded_days == 11
    # The label (one working day after receipt) is not objection handling time spent waiting.
    assert due.label_due == D(2026, 9, 29)


def test_overlapping_periods_are_not_counted_twice() -> None:
    a = ExcludedPeriod(D(2026, 11, 30), D(2026, 12, 2), "testing")
    b = ExcludedPeriod(D(2026, 12, 1), D(2026, 12, 3), "expert_review")
    due = OFFICIAL.due_date(D(2026, 11, 27), 3, excluded=[a, b])  # a Friday
    assert due.due == D(2026, 12, 8)  # 30 Nov - 3 Dec out: 4, 7, 8 Dec
    assert due.excluded_days == 4


def test_a_period_on_a_weekend_changes_nothing() -> None:
    weekend = ExcludedPeriod(D(2026, 11, 28), D(2026, 11, 29), "quarantine")
    assert OFFICIAL.due_date(D(2026, 11, 27), 3, excluded=[weekend]).due == D(2026, 12, 2)


def test_bad_periods_and_counts_are_typed_errors() -> None:
    with pytest.raises(InvalidQuery, match=r"ends before it starts") as err:
        ExcludedPeriod(D(2026, 12, 2), D(2026, 12, 1), "testing")
    assert err.value.rule == "art53_excluded_period"
    with pytest.raises(InvalidQuery, match=r"Art\. 53"):
        ExcludedPeriod(D(2026, 12, 1), D(2026, 12, 2), "holiday")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ExcludedPeriod(dt.datetime(2026, 12, 1), D(2026, 12, 2), "testing")  # type: ignore[arg-type]
    with pytest.raises(InvalidQuery):
        OFFICIAL.due_date(D(2026, 12, 1), 0)
    with pytest.raises(TypeError):
        OFFICIAL.due_date(D(2026, 12, 1), True)
    with pytest.raises(InvalidQuery):
        OFFICIAL.due_date(D(9999, 12, 30), 1)  # no overflow: a typed refusal
    forever = ExcludedPeriod(D(2026, 1, 1), D(2040, 1, 1), "expert_review")
    with pytest.raises(InvalidQuery, match="no working day within ten years"):
        OFFICIAL.due_date(D(2026, 1, 1), 1, excluded=[forever])


# -- whole date ranges ----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=D(1990, 1, 1), max_value=D(9990, 12, 31)),
    days=st.integers(min_value=1, max_value=10),
)
def test_a_due_date_is_always_a_working_day_after_the_start(start: dt.date, days: int) -> None:
    due = OFFICIAL.due_date(start, days)
    assert due.due > start
    assert OFFICIAL.is_working_day(due.due)
    counted = sum(
        OFFICIAL.is_working_day(start + dt.timedelta(n))
        for n in range(1, (due.due - start).days + 1)
    )
    assert counted == days
    first = start + dt.timedelta(1)
    known = OFFICIAL.official_years
    outside = [
        y
        for y in range(first.year, due.due.year + 1)
        if known is None or not known[0] <= y <= known[1]
    ]
    assert due.provisional == bool(outside)
    assert due.estimated_years == tuple(outside)


def test_client_takes_the_arrangement_as_an_argument_and_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from credit_sdk import CreditClient, MemoryQueryLog
    from credit_sdk.testing import CreditPlatform

    path = write(tmp_path, "2027.json", SYNTHETIC_2027)
    common: dict[str, Any] = {"audit": MemoryQueryLog(), "pseudonym_key": b"k" * 32}
    with CreditClient(provider=CreditPlatform(), holidays=path, **common) as client:
        assert client.calendar.operator_years == (2027,)
    monkeypatch.setenv("CREDIT_SDK_HOLIDAYS", os.fspath(path))
    with CreditClient(provider=CreditPlatform(), **common) as client:
        assert client.calendar.operator_years == (2027,)
    write(tmp_path, "2027.json", {"year": 2027})
    with pytest.raises(ConfigurationError, match="CREDIT_SDK_HOLIDAYS"):
        CreditClient(provider=CreditPlatform(), **common)
