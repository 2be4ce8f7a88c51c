"""QueryContext and Authorization (Art. 23, 25, 56) and Art. 53 working-day due dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from credit_sdk import (
    Authorization,
    AuthorizationError,
    InvalidQuery,
    QueryContext,
    Scenario,
    ScenarioFamily,
    parse_identifier,
)
from credit_sdk._workdays import add_working_days, is_working_day, objection_due_dates
from tests.client.conftest import COMPANY, PERSON
from tests.legal.builders import resident_id

CTX = {"organ": "230100-SCJGJ", "operator": "u1", "matter_code": "M-1", "purpose": "licence"}


@pytest.mark.parametrize("field", ["organ", "operator", "matter_code", "purpose"])
@pytest.mark.parametrize("value", ["", "   "])
def test_query_context_fields_are_mandatory(field: str, value: Any) -> None:
    with pytest.raises(InvalidQuery) as err:
        QueryContext(**{**CTX, field: value})
    assert field in str(err.value)


@pytest.mark.parametrize("field", ["organ", "operator", "matter_code", "purpose"])
@pytest.mark.parametrize("value", [None, 5, b"230100"])
def test_query_context_fields_of_the_wrong_type_are_type_errors(field: str, value: Any) -> None:
    with pytest.raises(TypeError, match=rf"QueryContext\.{field} must be str"):
        QueryContext(**{**CTX, field: value})


@pytest.mark.parametrize("raw", [COMPANY, PERSON])
def test_query_context_refuses_raw_identifiers_without_echoing_them(raw: str) -> None:
    with pytest.raises(InvalidQuery) as err:
        QueryContext(**{**CTX, "purpose": f"check of {raw}"})
    assert raw not in str(err.value)


def test_query_context_strips_values() -> None:
    assert QueryContext(**{**CTX, "organ": "  230100-SCJGJ "}).organ == "230100-SCJGJ"


def _grant(**changes: Any) -> Authorization:
    fields: dict[str, Any] = {
        "grant_id": "G-1",
        "subject": PERSON,
        "scope": ("civil_service_hiring",),
        "purpose": "recruitment",
        "granted_on": dt.date(2026, 1, 1),
        "expires_on": dt.date(2026, 12, 31),
    }
    fields.update(changes)
    return Authorization(**fields)


@pytest.mark.parametrize("scope", [(), ("all",), ("*",), ("ALL",), ("lifetime",)])
def test_open_or_missing_scope_is_refused(scope: Any) -> None:
    with pytest.raises(AuthorizationError):
        _grant(scope=scope)


@pytest.mark.parametrize("scope", ["personnel", 7, None, ("personnel", 7)])
def test_a_scope_of_the_wrong_type_is_a_type_error(scope: Any) -> None:
    with pytest.raises(TypeError, match=r"Authorization\.scope"):
        _grant(scope=scope)


def test_unknown_scope_is_refused() -> None:
    with pytest.raises(AuthorizationError, match="unknown"):
        _grant(scope=("marketing",))


@pytest.mark.parametrize(
    "changes",
    [
        {"expires_on": None},
        {"granted_on": None},
        {"expires_on": dt.date(2025, 12, 31)},  # before the grant
        {"expires_on": dt.date(2099, 12, 31)},  # lifelong in effect (Art. 56(1))
        {"grant_id": ""},
        {"purpose": " "},
    ],
)
def test_authorization_needs_a_bounded_term_and_every_field(changes: dict[str, Any]) -> None:
    with pytest.raises(AuthorizationError):
        _grant(**changes)


def test_authorization_scope_and_term_are_checked_at_query_time() -> None:
    grant = _grant(scope=("personnel",))
    grant.check(Scenario.PROMOTION, dt.date(2026, 6, 1))  # family covers the scenario
    with pytest.raises(AuthorizationError, match="does not cover"):
        grant.check(Scenario.BIDDING, dt.date(2026, 6, 1))
    with pytest.raises(AuthorizationError, match="expired"):
        grant.check(Scenario.PROMOTION, dt.date(2027, 1, 1))
    with pytest.raises(AuthorizationError, match="not yet"):
        grant.check(Scenario.PROMOTION, dt.date(2025, 6, 1))


def test_working_days_follow_official_holidays_and_adjusted_workdays() -> None:
    assert not is_working_day(dt.date(2026, 10, 1))  # National Day
    assert is_working_day(dt.date(2026, 2, 14))  # a Saturday made a working day (调休)
    # Received on the eve of National Day week: the label is due on the first day back.
    assert add_working_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 8)


def test_objection_due_dates_three_or_seven_working_days() -> None:
    plain = objection_due_dates(dt.date(2026, 11, 27), needs_assistance=False)  # a Friday
    assert plain.label_due == dt.date(2026, 11, 30)
    assert plain.decision_due == dt.date(2026, 12, 2)
    assisted = objection_due_dates(dt.date(2026, 11, 27), needs_assistance=True)
    assert assisted.decision_due == dt.date(2026, 12, 8)


# --- authorisations: bound to their subject, named scopes, a calendar term -----------------------


def test_an_authorization_binds_only_the_person_who_gave_it() -> None:
    grant = _grant(scope=("personnel",))
    assert grant.subject == parse_identifier(PERSON).masked  # masked, never the number
    assert PERSON not in repr(grant)
    assert grant.binds(PERSON)
    other = resident_id("23010219800101001")
    assert not grant.binds(other)
    grant.check(Scenario.PROMOTION, dt.date(2026, 6, 1), subject=PERSON)
    with pytest.raises(AuthorizationError) as err:
        grant.check(Scenario.PROMOTION, dt.date(2026, 6, 1), subject=other)
    assert err.value.rule == "authorization_subject"
    assert other not in str(err.value)
    assert PERSON not in str(err.value)


def test_an_authorization_without_its_subject_is_refused() -> None:
    with pytest.raises(AuthorizationError, match="subject is required"):
        _grant(subject=None)
    with pytest.raises(TypeError, match=r"Authorization\.subject"):
        _grant(subject=110101)


def test_the_client_refuses_a_grant_given_by_someone_else(
    make_client: Any, grant: Authorization, ctx: QueryContext
) -> None:
    client = make_client()
    other = resident_id("23010219800101001")
    with pytest.raises(AuthorizationError) as err:
        client.check(other, Scenario.CIVIL_SERVICE_HIRING, ctx, authorization=grant)
    assert err.value.rule == "authorization_subject"
    (result,) = client.check_many(
        [other], Scenario.CIVIL_SERVICE_HIRING, ctx, authorizations={other: grant}
    )
    assert isinstance(result.error, AuthorizationError)


@pytest.mark.parametrize(
    "scope",
    [
        ("conditional_information",),
        tuple(f.value for f in ScenarioFamily),
        tuple(s.value for s in Scenario),
    ],
)
def test_a_blanket_scope_is_refused_unless_chosen_explicitly(
    scope: tuple[str, ...], caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(AuthorizationError) as err:
        _grant(scope=scope)
    assert err.value.rule == "authorization_blanket"
    assert "一次授权" in str(err.value)
    with caplog.at_level("WARNING", logger="credit_sdk.query"):
        grant = _grant(scope=scope, blanket=True)
    assert grant.covers(Scenario.BIDDING)
    assert any("blanket" in r.getMessage() for r in caplog.records)
    assert all(PERSON not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("granted", "last_allowed"),
    [
        (dt.date(2026, 3, 1), dt.date(2029, 3, 1)),
        (dt.date(2024, 2, 29), dt.date(2027, 2, 28)),  # from a leap day: the month's last day
        (dt.date(2027, 12, 31), dt.date(2030, 12, 31)),
        (dt.date(9997, 6, 1), dt.date(9999, 12, 31)),  # near the calendar's end: no overflow
    ],
)
def test_the_three_year_term_is_counted_by_the_calendar(
    granted: dt.date, last_allowed: dt.date
) -> None:
    _grant(granted_on=granted, expires_on=last_allowed)
    if last_allowed < dt.date.max and granted.year < 9997:
        with pytest.raises(AuthorizationError) as err:
            _grant(granted_on=granted, expires_on=last_allowed + dt.timedelta(days=1))
        assert err.value.rule == "authorization_term"
    # The old rule (3 x 366 days) let a grant run up to three days past three years.
    assert (last_allowed - granted).days <= 3 * 366
