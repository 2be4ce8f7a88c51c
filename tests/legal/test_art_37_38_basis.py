"""Art. 37 last ¶ and Art. 38: findings need an effective legal document; severe listing needs a
written decision; court defaulters (失信被执行人) are severe dishonest subjects.

认定失信行为应当以生效的司法裁判文书、仲裁文书和行政处罚、行政裁决等行政行为决定文书
……为依据 (Art. 37). 将信用主体认定为严重失信主体的，应当作出书面决定 (Art. 38 ¶1).
被人民法院纳入失信被执行人名单的信用主体，应当被认定为严重失信主体 (Art. 38 ¶2).
"""

from __future__ import annotations

import pytest

from credit_sdk import Outcome, Scenario
from tests.legal.builders import (
    basis,
    catalog_of,
    check,
    court_defaulter,
    day,
    measure,
    measure_list,
    profile,
    range_items,
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


@pytest.mark.parametrize(
    "kind",
    [
        "judgment",  # 司法裁判文书
        "arbitral_award",  # 仲裁文书
        "administrative_penalty_decision",  # 行政处罚决定文书
        "administrative_ruling",  # 行政裁决
        "administrative_decision",  # 其他行政行为决定文书
        "other_legal_document",  # 其他具有法律效力的文书
    ],
)
def test_effective_document_of_every_art_37_kind_grounds_a_finding(kind: str) -> None:
    rec = record("R1", basis=basis(kind=kind))
    decision = check(report(records=[rec]), LICENSING)
    assert decision.outcome is Outcome.RESTRICTED
    assert "R1" in triggered_items(decision.restrictions)


@pytest.mark.parametrize(
    ("case", "document"),
    [
        ("no document at all", None),
        ("document not in effect (未生效)", basis(effective=False)),
    ],
)
def test_finding_without_effective_document_triggers_nothing(
    case: str, document: dict[str, object] | None
) -> None:
    rec = record("R1", basis=document)
    decision = check(report(records=[rec]), LICENSING)
    assert decision.outcome is Outcome.CLEAR, case
    assert decision.restrictions == ()
    assert reasons(decision, "R1") == {"NO_EFFECTIVE_BASIS"}
    assert decision.commitment_eligible
    assert decision.supervision_tier == "normal"


def test_document_not_yet_effective_on_the_query_date() -> None:
    """A penalty decision issued on 1 Nov that takes effect on 15 Dec grounds nothing before."""
    rec = record(
        "R1",
        finding_date="2026-11-01",
        basis=basis(issued_on="2026-11-01", effective_on="2026-12-15"),
    )
    rep = report(records=[rec])
    before = check(rep, LICENSING)
    assert before.outcome is Outcome.CLEAR
    assert reasons(before, "R1") == {"NO_EFFECTIVE_BASIS"}
    after = check(rep, LICENSING, as_of=day("2026-12-15"))
    assert after.outcome is Outcome.RESTRICTED
    assert "R1" in triggered_items(after.restrictions)


@pytest.mark.parametrize(
    ("case", "decision_doc"),
    [
        ("no written decision (书面决定)", None),
        ("decision not in effect", basis(kind="severe_list_decision", effective=False)),
        (
            "decision effective only after the query date",
            basis(kind="severe_list_decision", effective_on="2027-01-05"),
        ),
    ],
)
def test_severe_listing_without_effective_written_decision_triggers_nothing(
    case: str, decision_doc: dict[str, object] | None
) -> None:
    listing = severe_listing(decision=decision_doc)
    decision = check(report(memberships=[listing]), PROCUREMENT)
    assert decision.outcome is Outcome.CLEAR, case
    assert reasons(decision, "L-SEVERE") == {"NO_EFFECTIVE_BASIS"}
    assert decision.commitment_eligible


def test_effective_listing_still_restricts_when_its_record_lacks_a_document() -> None:
    rep = report(records=[severe_record(basis=None)], memberships=[severe_listing()])
    decision = check(rep, PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    assert reasons(decision, "R-SEVERE") == {"NO_EFFECTIVE_BASIS"}
    assert triggered_items(decision.restrictions) == {"L-SEVERE"}


def test_court_defaulter_listing_needs_the_courts_written_decision() -> None:
    listing = court_defaulter(decision=None)
    decision = check(report(person=True, memberships=[listing]), Scenario.OTHER)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "L-COURT") == {"NO_EFFECTIVE_BASIS"}


def test_red_list_needs_no_severe_list_decision() -> None:
    """Art. 38 ¶1 asks a written decision only for severe listing."""
    decision = check(report(memberships=[red_list(decision=None)]), LICENSING)
    assert decision.outcome is Outcome.INCENTIVES
    assert "40.1" in range_items(decision.incentives)


# --- Art. 38 ¶2: court defaulters are severe --------------------------------------------------

_SEVERE_ONLY = catalog_of(
    measure_list(
        [measure("SEVERE-ONLY", ["severe_dishonesty"], scenarios=["government_procurement"])]
    )
)


def test_severe_list_measures_apply_to_court_defaulters() -> None:
    rep = report(memberships=[court_defaulter()])
    decision = check(rep, PROCUREMENT, catalog=_SEVERE_ONLY)
    assert decision.outcome is Outcome.RESTRICTED
    (applied,) = decision.restrictions
    assert applied.measure_id == "SEVERE-ONLY"
    assert triggered_items(decision.restrictions) == {"L-COURT"}


def test_profile_that_does_not_count_defaulters_as_severe() -> None:
    rep = report(memberships=[court_defaulter()])
    custom = profile(judgment_defaulter_is_severe=False)
    decision = check(rep, PROCUREMENT, catalog=_SEVERE_ONLY, profile=custom)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "L-COURT") == {"NOT_RELATED"}
    assert decision.commitment_eligible  # not severe under this profile (Art. 28)


def test_court_defaulter_company_gets_the_severe_interview_under_shipped_lists() -> None:
    """约谈 (Art. 42(1)) is published for severe dishonest organisations only; a company on the
    court's list gets it as a severe subject, and keeps the court's own consumption limits
    (Art. 42(10)) either way. The interview reaches the bodies Art. 44 ¶1 names: here a
    state-owned enterprise."""
    rep = report(memberships=[court_defaulter()], entity_type="state_owned_enterprise")
    default = check(rep, Scenario.OTHER)
    assert "42.1" in range_items(default.restrictions)
    assert "42.10.1" in range_items(default.restrictions)
    custom = check(rep, Scenario.OTHER, profile=profile(judgment_defaulter_is_severe=False))
    assert "42.1" not in range_items(custom.restrictions)
    assert "42.10.1" in range_items(custom.restrictions)
