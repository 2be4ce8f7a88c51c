"""Art. 51: publication periods (公示期限), computed from the record's dates, never trusted.

失信信息的公示期限为三个月至一年，严重失信信息的公示期限为六个月至三年。公示期限自失信行为认定之日起
计算；失信行为处于持续状态的，公示期限自失信行为终止之日起计算。 Information about criminal
liability, licence revocation or a lifetime market ban in the food & drug, environment,
construction quality, work safety, fire safety, CCC and finance domains is published long-term.
公示期限届满或者完成信用修复的，应当停止公示，转为档案保存，不得再行公示。

The draft's profile (``hlj-draft-2021``, the default) counts from the finding date; the
reference profile of national rules (``cn-national-2026``) counts from the date of the basis
document, has 12-36 months for serious information and no long-term category.
"""

from __future__ import annotations

from typing import Any

import pytest

from credit_sdk import (
    CreditReport,
    Decision,
    Outcome,
    PolicyError,
    PolicyProfile,
    Scenario,
    shown,
)
from tests.legal.builders import (
    advisory_codes,
    basis,
    check,
    court_defaulter,
    day,
    exclusions_for,
    reasons,
    record,
    red_list,
    report,
    severe_listing,
    severe_record,
    triggered_items,
)

LICENSING = Scenario.ADMIN_LICENSING
PROCUREMENT = Scenario.GOVERNMENT_PROCUREMENT
NATIONAL = "cn-national-2026"


def _false_materials(finding_date: str = "2026-05-01", **extra: Any) -> CreditReport:
    """提供虚假材料, found (by default) on 1 May 2026 by an effective penalty decision."""
    return report(records=[record("R1", finding_date=finding_date, **extra)])


def _published(decision: Decision, item: str = "R1") -> bool:
    return item in triggered_items(decision.restrictions)


# --- general dishonesty: 3 months to 1 year ----------------------------------------------------


def test_general_record_four_months_after_its_finding_is_published() -> None:
    decision = check(_false_materials(), LICENSING, as_of=day("2026-09-01"))
    assert decision.outcome is Outcome.RESTRICTED
    assert _published(decision)


def test_same_record_thirteen_months_after_its_finding_has_expired() -> None:
    decision = check(_false_materials(), LICENSING, as_of=day("2027-06-01"))
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "R1") == {"RECORD_EXPIRED"}
    (expired,) = exclusions_for(decision, "RECORD_EXPIRED")
    assert "Art. 51" in expired.detail


def test_one_year_maximum_boundary() -> None:
    """Civil Code Art. 201-202: found on 1 May 2026, the day of the finding is not counted, so
    the year's last day is 1 May 2027; 2 May 2027 is the first day outside it."""
    rep = _false_materials()
    assert _published(check(rep, LICENSING, as_of=day("2027-05-01")))
    assert reasons(check(rep, LICENSING, as_of=day("2027-05-02")), "R1") == {"RECORD_EXPIRED"}


def test_stated_period_within_the_range_is_used() -> None:
    rep = _false_materials(publication_period_months=6)
    assert _published(check(rep, LICENSING, as_of=day("2026-11-01")))
    after = check(rep, LICENSING, as_of=day("2026-11-02"))
    assert reasons(after, "R1") == {"RECORD_EXPIRED"}
    assert "PERIOD_OUT_OF_RANGE" not in advisory_codes(after)


def test_stated_period_above_the_maximum_is_clamped_and_flagged() -> None:
    rep = _false_materials(publication_period_months=24)
    within = check(rep, LICENSING, as_of=day("2027-05-01"))
    assert _published(within)
    (flag,) = [a for a in within.advisories if a.code.value == "PERIOD_OUT_OF_RANGE"]
    assert flag.item_id == "R1"
    assert "24" in flag.message
    assert "3-12" in flag.message
    assert shown(flag.message, "zh").startswith("载明的公示期限 24 个月超出法定范围 3-12 个月")
    beyond = check(rep, LICENSING, as_of=day("2027-05-02"))  # 24 months would still run
    assert reasons(beyond, "R1") == {"RECORD_EXPIRED"}
    assert "PERIOD_OUT_OF_RANGE" in advisory_codes(beyond, "R1")


def test_stated_period_below_the_minimum_is_raised_and_flagged() -> None:
    rep = _false_materials(publication_period_months=1)
    decision = check(rep, LICENSING, as_of=day("2026-07-15"))  # 2.5 months on
    assert _published(decision)
    assert "PERIOD_OUT_OF_RANGE" in advisory_codes(decision, "R1")
    assert _published(check(rep, LICENSING, as_of=day("2026-08-01")))
    assert reasons(check(rep, LICENSING, as_of=day("2026-08-02")), "R1") == {"RECORD_EXPIRED"}


# --- severe dishonesty: 6 months to 3 years ----------------------------------------------------


def _severe_found(on: str, **extra: Any) -> CreditReport:
    return report(records=[severe_record("R-S", finding_date=on, **extra)])


def test_severe_record_two_years_on_is_published_four_years_on_is_not() -> None:
    rep = _severe_found("2024-11-01")
    two = check(rep, PROCUREMENT, as_of=day("2026-11-01"))
    assert two.outcome is Outcome.RESTRICTED
    assert "42.3" in {m.range_item for m in two.restrictions}
    four = check(rep, PROCUREMENT, as_of=day("2028-11-01"))
    assert four.outcome is Outcome.CLEAR
    assert reasons(four, "R-S") == {"RECORD_EXPIRED"}


def test_severe_three_year_boundary() -> None:
    rep = _severe_found("2024-11-01")
    assert _published(check(rep, PROCUREMENT, as_of=day("2027-11-01")), "R-S")
    assert reasons(check(rep, PROCUREMENT, as_of=day("2027-11-02")), "R-S") == {"RECORD_EXPIRED"}


def test_severe_stated_period_above_three_years_is_clamped() -> None:
    rep = _severe_found("2023-06-01", publication_period_months=60)
    decision = check(rep, PROCUREMENT)  # 3.5 years on
    assert reasons(decision, "R-S") == {"RECORD_EXPIRED"}
    assert "PERIOD_OUT_OF_RANGE" in advisory_codes(decision, "R-S")


def test_severe_stated_period_below_six_months_is_raised() -> None:
    rep = _severe_found("2026-06-01", publication_period_months=3)
    decision = check(rep, PROCUREMENT, as_of=day("2026-10-01"))  # 4 months on
    assert _published(decision, "R-S")
    assert "PERIOD_OUT_OF_RANGE" in advisory_codes(decision, "R-S")


def test_court_defaulter_listing_follows_the_courts_term() -> None:
    """Art. 38 ¶2: the court's list has its own 纳入期限, not Art. 51's periods."""
    rep = report(person=True, memberships=[court_defaulter(term_end="2027-05-11")])
    assert check(rep, Scenario.OTHER, as_of=day("2027-05-11")).outcome is Outcome.RESTRICTED
    after = check(rep, Scenario.OTHER, as_of=day("2027-05-12"))
    assert after.outcome is Outcome.CLEAR
    assert reasons(after, "L-COURT") == {"RECORD_EXPIRED"}


def test_red_list_term_ends_the_incentives() -> None:
    rep = report(memberships=[red_list(term_end="2026-10-14")])
    decision = check(rep, LICENSING)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "L-RED") == {"RECORD_EXPIRED"}


def test_nothing_is_published_before_it_was_found_or_listed() -> None:
    """Replaying a decision at an earlier date: a finding or listing made later counts for
    nothing then (``RECORD_NOT_YET_EFFECTIVE``)."""
    rep = report(
        records=[record("R1", finding_date="2026-12-01")],
        memberships=[severe_listing(listed_on="2026-12-05")],
    )
    decision = check(rep, PROCUREMENT)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "R1") == {"RECORD_NOT_YET_EFFECTIVE"}
    assert reasons(decision, "L-SEVERE") == {"RECORD_NOT_YET_EFFECTIVE"}
    assert check(rep, PROCUREMENT, as_of=day("2026-12-05")).outcome is Outcome.RESTRICTED


# --- continuing acts ---------------------------------------------------------------------------


def test_continuing_act_that_has_not_ended_stays_published() -> None:
    """E.g. an unlicensed operation (无证照经营) found in January 2023 and still going on."""
    rep = _false_materials(finding_date="2023-01-10", continuing=True)
    decision = check(rep, LICENSING)
    assert decision.outcome is Outcome.RESTRICTED
    assert _published(decision)


def test_continuing_act_is_counted_from_its_end() -> None:
    ended = _false_materials(
        finding_date="2023-01-10", continuing=True, conduct_ended_on="2026-03-01"
    )
    assert _published(check(ended, LICENSING))  # 9 months after the end
    assert _published(check(ended, LICENSING, as_of=day("2027-03-01")))
    expired = check(ended, LICENSING, as_of=day("2027-03-02"))  # a year and a day after the end
    assert reasons(expired, "R1") == {"RECORD_EXPIRED"}
    one_off = _false_materials(finding_date="2023-01-10")
    assert reasons(check(one_off, LICENSING), "R1") == {"RECORD_EXPIRED"}


# --- long-term publication ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "consequence"),
    [
        ("food_drug", "criminal_liability"),  # 食品药品, 被依法追究刑事责任
        ("environment", "licence_revocation"),  # 生态环境, 吊销行政许可证件
        ("finance", "lifetime_market_ban"),  # 金融, 终身市场禁入
        ("work_safety", "criminal_liability"),  # 安全生产
    ],
)
def test_named_domain_with_grave_consequence_stays_published_long_term(
    domain: str, consequence: str
) -> None:
    rep = _severe_found("2021-06-01", domain=domain, consequences=[consequence])
    decision = check(rep, PROCUREMENT)  # five and a half years on
    assert decision.outcome is Outcome.RESTRICTED
    assert _published(decision, "R-S")


def test_named_domain_without_grave_consequence_expires() -> None:
    rep = _severe_found("2021-06-01", domain="food_drug")
    decision = check(rep, PROCUREMENT)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "R-S") == {"RECORD_EXPIRED"}


def test_grave_consequence_outside_the_named_domains_expires() -> None:
    rep = _severe_found("2021-06-01", domain="labour", consequences=["criminal_liability"])
    assert reasons(check(rep, PROCUREMENT), "R-S") == {"RECORD_EXPIRED"}


def test_long_term_information_keeps_the_information_not_the_listing() -> None:
    """Art. 51 ¶2 publishes the information long-term; the listing itself ends with its term
    (Art. 38 ¶1). The severe record stays published and its measures apply; the listing's own
    measures stop the day after its term."""
    listing = severe_listing(
        listed_on="2021-06-01",
        term_end="2024-06-01",
        domain="food_drug",
        consequences=["licence_revocation"],
    )
    rec = severe_record(
        "R-S", finding_date="2021-05-20", domain="food_drug", consequences=["licence_revocation"]
    )
    decision = check(report(records=[rec], memberships=[listing]), PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    assert reasons(decision, "L-SEVERE") == {"RECORD_EXPIRED"}
    assert _published(decision, "R-S")


# --- archived: never republished ---------------------------------------------------------------


def test_archived_record_is_never_republished() -> None:
    rep = _false_materials(status="archived", status_changed_on="2026-10-01")
    archived = check(rep, LICENSING)  # its computed window would still run to April 2027
    assert archived.outcome is Outcome.CLEAR
    assert reasons(archived, "R1") == {"RECORD_EXPIRED"}
    before = check(rep, LICENSING, as_of=day("2026-09-15"))
    assert _published(before)


def test_commendation_is_published_long_term_unless_the_subject_declines() -> None:
    """Art. 51 ¶1: 守信信息可以依法长期公示。信用主体提出不公示自身守信信息的，不予公示。"""
    old_honour = record("R-H", kind="commendation", category="honour", finding_date="2019-01-10")
    assert check(report(records=[old_honour]), Scenario.AWARDS).outcome is Outcome.INCENTIVES
    declined = {**old_honour, "publication_declined": True}
    # Declining withholds publication (the Art. 40(5) publicity), not the information: the
    # awards priority it earns still applies; see test_art_51_1_declined_publication.py.
    assert check(report(records=[declined]), Scenario.AWARDS).outcome is Outcome.INCENTIVES
    decision = check(report(records=[declined]), Scenario.OTHER)
    assert reasons(decision, "R-H") == {"WITHHELD_AT_SUBJECT_REQUEST"}


# --- the reference profile of national rules ---------------------------------------------------


def test_reference_profile_is_recorded_in_the_decision() -> None:
    national = PolicyProfile.get(NATIONAL)
    decision = check(_false_materials(), LICENSING, profile=national)
    assert decision.provenance.policy_profile == NATIONAL
    assert check(_false_materials(), LICENSING).provenance.policy_profile == "hlj-draft-2021"


def test_profiles_count_from_different_days() -> None:
    """Found on 1 Sept 2025, penalty decision issued 20 Dec 2025: the draft counts a year from
    the finding (over by 29 Nov 2026); national rules count from the document (still running)."""
    rec = record("R1", finding_date="2025-09-01", basis=basis(issued_on="2025-12-20"))
    rep = report(records=[rec])
    draft = check(rep, LICENSING)
    national = check(rep, LICENSING, profile=PolicyProfile.get(NATIONAL))
    assert draft.outcome is Outcome.CLEAR
    assert reasons(draft, "R1") == {"RECORD_EXPIRED"}
    assert national.outcome is Outcome.RESTRICTED
    assert _published(national)


def test_profiles_differ_on_the_severe_minimum() -> None:
    """An eight-month period for serious information: lawful under the draft (6-36), below the
    national minimum (12-36), which therefore applies 12 months and flags it."""
    rep = _severe_found("2026-01-10", publication_period_months=8)
    draft = check(rep, PROCUREMENT)
    national = check(rep, PROCUREMENT, profile=PolicyProfile.get(NATIONAL))
    assert reasons(draft, "R-S") == {"RECORD_EXPIRED"}
    assert "PERIOD_OUT_OF_RANGE" not in advisory_codes(draft)
    assert national.outcome is Outcome.RESTRICTED
    assert "PERIOD_OUT_OF_RANGE" in advisory_codes(national, "R-S")


def test_national_rules_have_no_long_term_category() -> None:
    rep = _severe_found("2021-06-01", domain="food_drug", consequences=["criminal_liability"])
    national = check(rep, PROCUREMENT, profile=PolicyProfile.get(NATIONAL))
    assert reasons(national, "R-S") == {"RECORD_EXPIRED"}


def test_national_rules_do_not_wait_for_a_continuing_act_to_end() -> None:
    rep = _false_materials(finding_date="2024-01-10", continuing=True)
    assert check(rep, LICENSING).outcome is Outcome.RESTRICTED
    national = check(rep, LICENSING, profile=PolicyProfile.get(NATIONAL))
    assert reasons(national, "R1") == {"RECORD_EXPIRED"}


@pytest.mark.parametrize("as_of", ["2026-03-31", "2025-06-01"])
def test_reference_profile_before_it_took_effect_is_refused(as_of: str) -> None:
    with pytest.raises(PolicyError, match=NATIONAL) as info:
        check(_false_materials(), LICENSING, as_of=day(as_of), profile=PolicyProfile.get(NATIONAL))
    assert as_of in str(info.value)


def test_reference_profile_from_its_first_day() -> None:
    national = PolicyProfile.get(NATIONAL)
    decision = check(_false_materials(), LICENSING, as_of=day("2026-05-01"), profile=national)
    assert decision.outcome is Outcome.RESTRICTED


def test_national_publication_runs_to_the_maximum_whatever_shorter_period_is_stated() -> None:
    """National rules since 2026: the minimum only opens repair; publication stops at the
    maximum unless repaired. A three-month period stated in the document does not end it."""
    rep = _false_materials(publication_period_months=3)
    national = PolicyProfile.get(NATIONAL)
    assert national.publication_runs_to_maximum
    assert not PolicyProfile.default().publication_runs_to_maximum
    later = check(rep, LICENSING, as_of=day("2027-05-01"), profile=national)
    assert later.outcome is Outcome.RESTRICTED
    assert "PERIOD_OUT_OF_RANGE" not in advisory_codes(later)
    after = check(rep, LICENSING, as_of=day("2027-05-02"), profile=national)
    assert reasons(after, "R1") == {"RECORD_EXPIRED"}
    draft = check(rep, LICENSING, as_of=day("2026-08-02"))  # the draft: three months end it
    assert reasons(draft, "R1") == {"RECORD_EXPIRED"}


def test_national_publication_of_a_repaired_record_stops() -> None:
    rep = _false_materials(status="repaired", status_changed_on="2026-09-01")
    national = check(rep, LICENSING, profile=PolicyProfile.get(NATIONAL))
    assert reasons(national, "R1") == {"RECORD_REPAIRED"}
