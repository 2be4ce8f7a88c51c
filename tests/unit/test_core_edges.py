"""Edge cases of the core found in review: list terms, individual businesses, bad list JSON."""

from __future__ import annotations

import datetime as dt

import pytest

from credit_sdk import CatalogError, CreditReport, MeasureList, Outcome, ReportError, decide
from credit_sdk._identifiers import compute_uscc_check
from tests.legal.builders import basis, resident_id


def _severe_company(listed_on: str, term_end: str) -> CreditReport:
    body = "91230100MA1C2X3Y4"
    return CreditReport.model_validate(
        {
            "report_id": "edge",
            "generated_at": "2026-11-29T00:00:00Z",
            "subject": {"kind": "legal_person", "identifier": body + compute_uscc_check(body)},
            "list_memberships": [
                {
                    "membership_id": "L1",
                    "list_type": "severe_dishonesty",
                    "listed_on": listed_on,
                    "listing_body": "示例认定单位",
                    "decision": basis(kind="severe_list_decision", issued_on=listed_on),
                    "term_end": term_end,
                }
            ],
        }
    )


def test_a_three_year_term_written_as_its_last_day_runs_its_full_term() -> None:
    rep = _severe_company("2026-03-20", "2029-03-19")
    last_day = decide(rep, "government_procurement", as_of=dt.date(2029, 3, 19))
    assert last_day.outcome is Outcome.RESTRICTED
    assert not last_day.advisories  # 36 months is within the 6–36 month range: no flag
    after = decide(rep, "government_procurement", as_of=dt.date(2029, 3, 20))
    assert after.outcome is Outcome.CLEAR


def test_a_term_longer_than_three_years_is_flagged_and_runs_as_written() -> None:
    """Art. 38 ¶1: the listing lasts as its written decision says; the SDK flags a term outside
    the Art. 51 range for the listing unit and never cuts it."""
    rep = _severe_company("2026-03-20", "2031-03-19")
    d = decide(rep, "government_procurement", as_of=dt.date(2029, 3, 21))
    assert d.outcome is Outcome.RESTRICTED
    assert [a.code.value for a in d.advisories] == ["PERIOD_OUT_OF_RANGE"]
    after = decide(rep, "government_procurement", as_of=dt.date(2031, 3, 20))
    assert after.outcome is Outcome.CLEAR


def test_an_individual_business_is_a_natural_person_with_a_uscc() -> None:
    body = "92230103MA1C2X3Y4"
    rep = CreditReport.model_validate(
        {
            "report_id": "edge",
            "generated_at": "2026-11-29T00:00:00Z",
            "subject": {"kind": "natural_person", "identifier": body + compute_uscc_check(body)},
        }
    )
    assert rep.subject.kind.value == "natural_person"


def test_other_uscc_holders_are_not_natural_persons() -> None:
    body = "91230100MA1C2X3Y4"
    with pytest.raises(ReportError, match="individual businesses"):
        CreditReport.parse(
            {
                "report_id": "edge",
                "generated_at": "2026-11-29T00:00:00Z",
                "subject": {
                    "kind": "natural_person",
                    "identifier": body + compute_uscc_check(body),
                },
            }
        )


def test_a_person_cannot_be_an_organisation() -> None:
    with pytest.raises(ReportError, match="USCC"):
        CreditReport.parse(
            {
                "report_id": "edge",
                "generated_at": "2026-11-29T00:00:00Z",
                "subject": {"kind": "legal_person", "identifier": resident_id()},
            }
        )


@pytest.mark.parametrize("text", ["{not json", "", "[1, 2]"])
def test_bad_list_json_is_a_catalog_error(text: str) -> None:
    with pytest.raises(CatalogError, match="rule format"):
        MeasureList.from_json(text, source="broken.json")


def test_profile_copies_with_plain_strings_behave_like_enum_values() -> None:
    # `model_copy(update=...)` does not validate: the engine must still honour plain strings.
    from credit_sdk import PolicyProfile

    body = "91230100MA1C2X3Y4"
    rep = CreditReport.model_validate(
        {
            "report_id": "edge",
            "generated_at": "2026-11-29T00:00:00Z",
            "subject": {"kind": "legal_person", "identifier": body + compute_uscc_check(body)},
            "list_memberships": [
                {
                    "membership_id": "L1",
                    "list_type": "severe_dishonesty",
                    "listed_on": "2026-06-01",
                    "listing_body": "示例认定单位",
                    "decision": basis(kind="severe_list_decision", issued_on="2026-06-01"),
                    "objection": {"objection_id": "O1", "filed_on": "2026-11-20"},
                }
            ],
        }
    )
    suspend = PolicyProfile.default().model_copy(update={"on_dispute": "suspend"})
    d = decide(rep, "government_procurement", as_of=dt.date(2026, 11, 29), profile=suspend)
    assert d.outcome is Outcome.CLEAR
    assert "RECORD_DISPUTED" in {e.reason.value for e in d.exclusions}
