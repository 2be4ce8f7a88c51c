"""Civil Code Art. 201, 202: how every period the SDK computes is counted.

第二百零一条 按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算。
第二百零二条 按照年、月计算期间的，到期月的对应日为期间的最后一日；没有对应日的，月末日为期间的
最后一日。

One module (``credit_sdk._periods``) counts the publication windows of records (Art. 51),
continuing acts, listing terms (Art. 38) and the Art. 30 verification date. The tests here hold
that rule at its boundaries, then over every date from 1990 to 9999.
"""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from credit_sdk.adapters.licensing import verification_due
from hypothesis import given, settings
from hypothesis import strategies as st

from credit_sdk import (
    CreditReport,
    CreditSDKError,
    Outcome,
    PolicyProfile,
    ReportError,
    Scenario,
    add_months,
    period_last_day,
)
from tests.legal.builders import (
    check,
    day,
    reasons,
    record,
    report,
    severe_listing,
    severe_record,
    uscc,
)

LICENSING = Scenario.ADMIN_LICENSING
PROCUREMENT = Scenario.GOVERNMENT_PROCUREMENT


# --- the rule at its boundaries ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "last"),
    [
        ("2026-05-01", 12, "2027-05-01"),  # the corresponding day is the last day
        ("2026-01-31", 1, "2026-02-28"),  # no 31 February: the month's last day
        ("2028-01-31", 1, "2028-02-29"),  # leap year
        ("2028-02-29", 12, "2029-02-28"),  # from a leap day, no 29 February next year
        ("2028-02-29", 48, "2032-02-29"),  # four years on, 29 February again
        ("2026-12-31", 2, "2027-02-28"),  # across a year end
        ("2026-11-30", 3, "2027-02-28"),
        ("2026-08-31", 1, "2026-09-30"),
        ("2026-03-20", 36, "2029-03-20"),
        ("2026-05-01", 0, "2026-05-01"),
    ],
)
def test_last_day_of_a_period(start: str, months: int, last: str) -> None:
    assert period_last_day(day(start), months=months) == day(last)


def test_general_record_published_on_its_last_day_not_the_next() -> None:
    rep = report(records=[record("R1", finding_date="2026-01-31", publication_period_months=3)])
    assert check(rep, LICENSING, as_of=day("2026-04-30")).outcome is Outcome.RESTRICTED
    after = check(rep, LICENSING, as_of=day("2026-05-01"))
    assert reasons(after, "R1") == {"RECORD_EXPIRED"}


def test_severe_record_found_on_a_leap_day() -> None:
    rep = report(records=[severe_record("R-S", finding_date="2028-02-29")])
    assert check(rep, PROCUREMENT, as_of=day("2031-02-28")).outcome is Outcome.RESTRICTED
    assert reasons(check(rep, PROCUREMENT, as_of=day("2031-03-01")), "R-S") == {"RECORD_EXPIRED"}


def test_art_30_verification_date_counts_the_same_way() -> None:
    assert verification_due(day("2026-12-31")) == day("2027-02-28")
    assert verification_due(day("2026-03-02")) == period_last_day(day("2026-03-02"), months=2)


def test_add_months_keeps_its_meaning() -> None:
    """``add_months`` stays public: clamped calendar-month addition, backwards too."""
    assert add_months(day("2026-03-31"), -1) == day("2026-02-28")
    assert add_months(day("2026-01-31"), 13) == day("2027-02-28")


def test_negative_period_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        period_last_day(day("2026-01-01"), months=-1)


# --- the end of the calendar --------------------------------------------------------------------


def test_period_beyond_the_calendar_has_no_end_instead_of_overflowing() -> None:
    assert period_last_day(dt.date(9999, 12, 31), months=1) is None
    assert period_last_day(dt.date(9999, 1, 31), months=11) == dt.date(9999, 12, 31)
    assert period_last_day(dt.date(9998, 12, 31), months=13) is None


def test_record_found_in_the_last_year_is_decided_without_error() -> None:
    rep = report(records=[record("R1", finding_date="9999-12-01")])
    assert check(rep, LICENSING, as_of=dt.date.max).outcome is Outcome.RESTRICTED


# --- over every date -------------------------------------------------------------------------

all_dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(9999, 12, 31))


@settings(max_examples=500, deadline=None)
@given(all_dates, st.integers(0, 1200))
def test_last_day_is_the_corresponding_day_or_the_months_last(start: dt.date, months: int) -> None:
    last = period_last_day(start, months=months)
    total = start.year * 12 + start.month - 1 + months
    year, month = divmod(total, 12)
    if year > dt.MAXYEAR:
        assert last is None
        return
    assert last is not None
    assert (last.year, last.month) == (year, month + 1)
    assert last.day == min(start.day, calendar.monthrange(year, month + 1)[1])
    if months:
        assert last > start  # the first day is not counted: never ends on its own start


profiles = st.sampled_from([PolicyProfile.default(), PolicyProfile.get("cn-national-2026")])


@settings(max_examples=300, deadline=None)
@given(all_dates, all_dates, st.none() | st.integers(0, 1200), st.booleans(), profiles)
def test_decide_over_every_date_raises_only_typed_errors(
    found: dt.date,
    as_of: dt.date,
    stated: int | None,
    severe: bool,
    profile: PolicyProfile,
) -> None:
    make = severe_record if severe else record
    rec = make("R1", finding_date=found.isoformat(), publication_period_months=stated)
    rec["basis"]["issued_on"] = found.isoformat()
    listed = found.isoformat()
    rep = report(records=[rec], memberships=[severe_listing(listed_on=listed)])
    try:
        decision = check(rep, PROCUREMENT, as_of=as_of, profile=profile)
    except CreditSDKError:
        assert not profile.in_force_at(as_of)
        return
    last = period_last_day(found, months=profile.severe_period.max_months)
    for measure in decision.restrictions:
        for trig in measure.triggered_by:
            assert found <= as_of
            if trig.item_id == "R1" and last is not None:
                assert as_of <= last  # never published past the longest period


@settings(max_examples=300, deadline=None)
@given(all_dates, all_dates, st.integers(0, 600))
def test_never_applies_a_listing_measure_after_its_term(
    listed: dt.date, as_of: dt.date, term_months: int
) -> None:
    last = period_last_day(listed, months=term_months)
    term = "长期" if last is None else last.isoformat()
    rep = report(memberships=[severe_listing(listed_on=listed.isoformat(), term_end=term)])
    decision = check(rep, PROCUREMENT, as_of=as_of)
    listing_applied = any(
        t.item_id == "L-SEVERE"
        for m in (*decision.restrictions, *decision.held_for_review, *decision.voluntary)
        for t in m.triggered_by
    )
    if listing_applied:
        assert listed <= as_of
        assert last is None or as_of <= last


@pytest.mark.parametrize("value", ["长期", "9999-12-31", -1, 1201])
def test_a_publication_period_that_is_no_number_of_months_is_refused_at_parse_time(
    value: object,
) -> None:
    """A record's stated period is a number of months within 0-1200; "长期" there is refused,
    typed and naming the field, never left to date arithmetic."""
    data = report(records=[record("R1")]).model_dump(mode="json")
    data["subject"]["identifier"] = uscc()
    data["records"][0]["publication_period_months"] = value
    with pytest.raises(ReportError, match="publication_period_months"):
        CreditReport.parse(data)
