"""Art. 38 ¶1: a severe listing lasts as long as its written decision says, no longer.

将信用主体认定为严重失信主体的，应当作出书面决定，并告知其相应的理由、依据、期限、移出条件和救济途径。

The term (期限) is one of the decision's elements. The SDK applies the term as written: measures
that rest on list membership apply through its last day and stop the day after. A term outside
the Art. 51 range of the profile (6 months to 3 years for severe information under the draft,
1 to 3 years under national rules) is flagged for the listing unit, never stretched or cut. A
decision that states no term lacks an Art. 38 element: it is flagged (``TERM_NOT_STATED``) and
bounded by the longest severe period of the profile, because Art. 51 ¶3 stops the publication of
severe information there. A term stated as having no end (长期, 9999-12-31) is a term like any
other: applied, and flagged when the information is not long-term.
"""

from __future__ import annotations

import datetime as dt

import pytest

from credit_sdk import CreditReport, Outcome, PolicyProfile, ReportError, Scenario
from tests.legal.builders import (
    advisory_codes,
    check,
    court_defaulter,
    day,
    reasons,
    report,
    severe_listing,
    uscc,
)

PROCUREMENT = Scenario.GOVERNMENT_PROCUREMENT
NATIONAL = PolicyProfile.get("cn-national-2026")


def _listed(
    term_end: str | None = None, listed_on: str = "2026-03-01", **extra: object
) -> CreditReport:
    return report(memberships=[severe_listing(listed_on=listed_on, term_end=term_end, **extra)])


def _applies(rep: CreditReport, on: str, **kw: object) -> bool:
    decision = check(rep, PROCUREMENT, as_of=day(on), **kw)  # type: ignore[arg-type]
    return decision.outcome is Outcome.RESTRICTED


# --- the written term, both sides of its last day ----------------------------------------------


@pytest.mark.parametrize(
    ("listed_on", "term_end"),
    [
        ("2026-03-01", "2027-02-28"),  # under a year
        ("2026-03-20", "2027-03-20"),  # one year, Civil Code count
        ("2026-03-20", "2026-12-31"),  # months and days
        ("2028-02-29", "2029-02-28"),  # from a leap day
        ("2025-12-31", "2026-12-31"),  # across a year end
    ],
)
def test_listing_applies_through_its_last_day_and_stops_the_day_after(
    listed_on: str, term_end: str
) -> None:
    rep = _listed(term_end, listed_on=listed_on)
    assert _applies(rep, term_end)
    after = check(rep, PROCUREMENT, as_of=day(term_end) + dt.timedelta(days=1))
    assert after.outcome is Outcome.CLEAR
    assert reasons(after, "L-SEVERE") == {"RECORD_EXPIRED"}
    assert "Art. 38" in next(e.detail for e in after.exclusions if e.item_id == "L-SEVERE")


def test_term_within_the_range_is_not_flagged() -> None:
    decision = check(_listed("2027-03-01"), PROCUREMENT)
    assert "PERIOD_OUT_OF_RANGE" not in advisory_codes(decision)
    assert "TERM_NOT_STATED" not in advisory_codes(decision)


# --- out of range: flagged, never stretched or cut ---------------------------------------------


def test_term_longer_than_three_years_is_flagged_and_not_cut() -> None:
    rep = _listed("2031-02-28")
    decision = check(rep, PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    assert "PERIOD_OUT_OF_RANGE" in advisory_codes(decision, "L-SEVERE")
    assert _applies(rep, "2031-02-28")  # beyond three years: as written
    assert not _applies(rep, "2031-03-01")


def test_term_shorter_than_six_months_is_flagged_and_not_stretched() -> None:
    rep = _listed("2026-05-31")
    during = check(rep, PROCUREMENT, as_of=day("2026-04-01"))
    assert during.outcome is Outcome.RESTRICTED
    assert "PERIOD_OUT_OF_RANGE" in advisory_codes(during, "L-SEVERE")
    after = check(rep, PROCUREMENT, as_of=day("2026-06-01"))  # within six months of listing
    assert after.outcome is Outcome.CLEAR
    assert reasons(after, "L-SEVERE") == {"RECORD_EXPIRED"}


def test_range_boundaries_are_counted_as_the_civil_code_counts() -> None:
    """Listed 1 March 2026: six months end on 1 September 2026, three years on 1 March 2029."""
    for term_end, flagged in [
        ("2026-08-31", True),
        ("2026-09-01", False),
        ("2029-03-01", False),
        ("2029-03-02", True),
    ]:
        decision = check(_listed(term_end), PROCUREMENT, as_of=day("2026-04-01"))
        assert ("PERIOD_OUT_OF_RANGE" in advisory_codes(decision, "L-SEVERE")) is flagged, term_end


def test_national_profile_flags_a_term_below_one_year() -> None:
    rep = _listed("2026-12-31")  # ten months: lawful under the draft, short under national rules
    assert "PERIOD_OUT_OF_RANGE" not in advisory_codes(check(rep, PROCUREMENT))
    national = check(rep, PROCUREMENT, as_of=day("2026-11-29"), profile=NATIONAL)
    assert "PERIOD_OUT_OF_RANGE" in advisory_codes(national, "L-SEVERE")
    assert not _applies(rep, "2027-01-01", profile=NATIONAL)


# --- no term stated ----------------------------------------------------------------------------


def test_no_stated_term_is_flagged_and_bounded_by_the_longest_severe_period() -> None:
    rep = _listed(None, listed_on="2023-06-01")
    decision = check(rep, PROCUREMENT, as_of=day("2026-06-01"))
    assert decision.outcome is Outcome.RESTRICTED
    assert "TERM_NOT_STATED" in advisory_codes(decision, "L-SEVERE")
    after = check(rep, PROCUREMENT, as_of=day("2026-06-02"))
    assert reasons(after, "L-SEVERE") == {"RECORD_EXPIRED"}


def test_no_stated_term_in_a_long_term_domain_is_still_bounded() -> None:
    """Long-term publication (Art. 51 ¶2) keeps information, not a listing."""
    rep = _listed(
        None, listed_on="2021-06-01", domain="food_drug", consequences=["licence_revocation"]
    )
    decision = check(rep, PROCUREMENT)
    assert reasons(decision, "L-SEVERE") == {"RECORD_EXPIRED"}
    assert "TERM_NOT_STATED" in advisory_codes(decision, "L-SEVERE")


# --- terms with no end ---------------------------------------------------------------------


@pytest.mark.parametrize("sentinel", ["长期", "9999-12-31", "长期有效", "indefinite"])
def test_open_ended_term_parses_as_no_end(sentinel: str) -> None:
    rep = _listed(sentinel)
    (membership,) = rep.list_memberships
    assert membership.term_end is None
    assert membership.term_open_ended
    decision = check(rep, PROCUREMENT, as_of=day("9999-12-31"))
    assert decision.outcome is Outcome.RESTRICTED
    assert "PERIOD_OUT_OF_RANGE" in advisory_codes(decision, "L-SEVERE")


def test_open_ended_term_in_a_long_term_domain_is_not_flagged_as_too_long() -> None:
    rep = _listed("长期", domain="food_drug", consequences=["criminal_liability"])
    decision = check(rep, PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    assert "PERIOD_OUT_OF_RANGE" not in advisory_codes(decision)


def test_open_ended_flag_with_a_date_is_refused() -> None:
    data = severe_listing(term_end="2027-01-01", term_open_ended=True)
    with pytest.raises(ReportError, match="term_open_ended"):
        CreditReport.parse(
            {
                "report_id": "r",
                "generated_at": "2026-11-29T09:00:00+08:00",
                "subject": {"kind": "legal_person", "identifier": uscc()},
                "list_memberships": [data],
            }
        )


def test_court_list_without_a_term_runs_until_removed() -> None:
    """Art. 38 ¶2: the court's decision states a term only where it has one."""
    rep = report(person=True, memberships=[court_defaulter()])
    decision = check(rep, Scenario.OTHER, as_of=day("2030-01-01"))
    assert decision.outcome is Outcome.RESTRICTED
    assert "TERM_NOT_STATED" not in advisory_codes(decision)
