"""Properties over whole ranges: every entity type, dates from 1990 to 9999 (Art. 38, 39, 44, 45).

Whatever the report, ``decide()`` raises nothing but the SDK's own typed errors, never applies a
measure to a subject it does not target, and never applies a measure resting on a listing after
the listing's last day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_sdk import (
    Catalog,
    CreditReport,
    CreditSDKError,
    EntityType,
    PolicyProfile,
    ReportError,
    Scenario,
    decide,
)
from credit_sdk._catalog import _covered
from credit_sdk._models import MARKET_TYPES
from tests.legal.builders import basis, resident_id, uscc

CATALOG = Catalog.default()
MEASURES = {m.measure_id: m for lst in CATALOG.lists for m in lst.measures}
PROFILES = [PolicyProfile.default(), PolicyProfile.get("cn-national-2026")]
BODY = "230100MA1C2X3Y4"
PREFIXES = ["11", "12", "13", "31", "51", "52", "53", "91", "93", "A1", "N1", "Y1"]

all_dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(9999, 12, 31))
entity_types = st.none() | st.sampled_from(list(EntityType))


@st.composite
def subjects(draw: st.DrawFn) -> dict[str, Any]:
    declared = draw(entity_types)
    shape = draw(st.sampled_from(["person", "individual_business", "organisation"]))
    if shape == "person":
        subject: dict[str, Any] = {"kind": "natural_person", "identifier": resident_id()}
    elif shape == "individual_business":
        subject = {"kind": "natural_person", "identifier": uscc("92" + BODY)}
    else:
        prefix = draw(st.sampled_from(PREFIXES))
        kind = draw(st.sampled_from(["legal_person", "unincorporated_organisation"]))
        subject = {"kind": kind, "identifier": uscc(prefix + BODY)}
    if declared is not None:
        subject["entity_type"] = declared.value
    return subject


@st.composite
def listings(draw: st.DrawFn, idx: int) -> dict[str, Any]:
    listed = draw(all_dates)
    court = draw(st.booleans())
    data: dict[str, Any] = {
        "membership_id": f"L{idx}",
        "list_type": "judgment_defaulter" if court else "severe_dishonesty",
        "listed_on": listed.isoformat(),
        "listing_body": "测试认定单位",
        "category": draw(st.sampled_from(["bid_rigging", "tax_arrears", "general"])),
        "decision": basis(
            kind="court_defaulter_decision" if court else "severe_list_decision",
            issued_on=listed.isoformat(),
        ),
        "minor_and_corrected": draw(st.booleans()),
    }
    term = draw(st.none() | all_dates | st.just("长期"))
    if term is not None:
        data["term_end"] = term if isinstance(term, str) else term.isoformat()
    return data


@st.composite
def records(draw: st.DrawFn, idx: int) -> dict[str, Any]:
    found = draw(all_dates)
    return {
        "record_id": f"R{idx}",
        "kind": draw(st.sampled_from(["dishonesty", "severe_dishonesty", "commendation"])),
        "category": draw(st.sampled_from(["false_materials", "bid_rigging", "honour", "zzz"])),
        "finding_date": found.isoformat(),
        "basis": basis(issued_on=found.isoformat()),
        "publication_period_months": draw(st.none() | st.integers(0, 1200)),
        "minor_and_corrected": draw(st.booleans()),
        "publication_declined": draw(st.booleans()),
    }


@st.composite
def reports(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "report_id": "prop-targets",
        "generated_at": "2026-11-29T00:00:00Z",
        "subject": draw(subjects()),
        "records": [draw(records(i)) for i in range(draw(st.integers(0, 3)))],
        "list_memberships": [draw(listings(i)) for i in range(draw(st.integers(0, 3)))],
    }


def _applied(decision: Any) -> list[Any]:
    return [
        *decision.restrictions,
        *decision.incentives,
        *decision.voluntary,
        *decision.held_for_review,
    ]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports(), st.sampled_from(list(Scenario)), all_dates, st.sampled_from(PROFILES))
def test_decide_is_typed_targeted_and_bounded_by_the_term(
    data: dict[str, Any], scenario: Scenario, as_of: dt.date, profile: PolicyProfile
) -> None:
    try:
        report = CreditReport.parse(data)
    except ReportError:
        return  # a contradictory subject (Art. 21) is refused at parse time, typed
    try:
        decision = decide(report, scenario, as_of=as_of, profile=profile)
    except CreditSDKError:
        assert not profile.in_force_at(as_of)
        return
    subject_type = report.subject.resolved_entity_type
    listings_by_id = {m.membership_id: m for m in report.list_memberships}
    for applied in _applied(decision):
        target = MEASURES[applied.measure_id].target
        covered = _covered(target.entity_types)
        if covered is not None:
            assert subject_type in covered, (applied.measure_id, subject_type)
        for trig in applied.triggered_by:
            m = listings_by_id.get(trig.item_id)
            if m is not None and m.term_end is not None:
                assert as_of <= m.term_end, (trig.item_id, m.term_end, as_of)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from([*PREFIXES, "92"]), entity_types, listings(0)),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(list(Scenario)),
    all_dates,
)
def test_art_45_never_reaches_the_people_of_anything_but_a_market_entity(
    parties: list[tuple[str, EntityType | None, dict[str, Any]]],
    scenario: Scenario,
    as_of: dt.date,
) -> None:
    linked = []
    for i, (prefix, declared, listing) in enumerate(parties):
        party: dict[str, Any] = {
            "organisation": uscc(prefix + BODY),
            "role": "legal_representative",
            "memberships": [{**listing, "membership_id": f"L{i}"}],
        }
        if declared is not None:
            party["organisation_entity_type"] = declared.value
        linked.append(party)
    data = {
        "report_id": "prop-art45",
        "generated_at": "2026-11-29T00:00:00Z",
        "subject": {"kind": "natural_person", "identifier": resident_id()},
        "linked_parties": linked,
    }
    report = CreditReport.parse(data)
    decision = decide(report, scenario, as_of=as_of)
    types = {f"L{i}": lp.resolved_entity_type for i, lp in enumerate(report.linked_parties)}
    for applied in _applied(decision):
        for trig in applied.triggered_by:
            if trig.source == "linked_party":
                assert types[trig.item_id] in MARKET_TYPES, (trig.item_id, types[trig.item_id])
