"""The engine's compiled matcher against a straightforward one (Art. 39, 43, 45, 47, 51 ¶1).

``decide()`` matches report items to measures through plans compiled once per decision context
and kept with the catalog. Here a reference matcher that knows nothing of plans or of the
catalog's index reads every measure of every edition, in the order the lists give them, and
applies the rules one by one; on generated catalogs (several editions, measures published
late, targets by entity type and role, conduct categories and sectors, integrity-point
thresholds, publicity of honours) and generated reports (both kinds of subject, every entity
type, records, listings, red lists, linked organisations, commitments, objections, points) the
two must give equal decisions, field by field, under both shipped profiles, on any date up to
9999. The compiled matcher is run twice per catalog so that reused plans are compared too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_sdk import (
    Catalog,
    CreditReport,
    CreditSDKError,
    EntityType,
    MeasureList,
    PolicyProfile,
    ReportError,
    Scenario,
    SubjectKind,
    _engine,
    decide,
)
from credit_sdk._catalog import Ground, _covered, _expand_scenarios
from credit_sdk._decision import Exclusion, ReasonCode, TriggerRef
from credit_sdk._labels import GROUND_LABELS, label, said
from tests.legal.builders import basis, objection, resident_id, uscc

PROFILES = [PolicyProfile.default(), PolicyProfile.get("cn-national-2026")]
BODY = "230100MA1C2X3Y4"
PREFIXES = ["11", "12", "31", "51", "52", "91", "92", "93", "A1", "N1", "Y1"]
CATEGORIES = ["bid_rigging", "false_materials", "tax_arrears", "honour", "general", "zzz"]
DOMAINS = ["procurement", "tax", "food"]
ROLES = ["subject", "legal_representative", "principal", "actual_controller"]
SCENARIO_NAMES = ["*", "procurement", "funding", "administration", "honours", "personnel"]
SCENARIO_NAMES += [s.value for s in Scenario]

all_dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(9999, 12, 31))
near_dates = st.dates(min_value=dt.date(2018, 1, 1), max_value=dt.date(2030, 12, 31))
some_dates = near_dates | all_dates
entity_types = st.none() | st.sampled_from(list(EntityType))


def _subset(values: list[Any], min_size: int = 1) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.sampled_from(values), min_size=min_size, max_size=3, unique=True)


@st.composite
def measures(draw: st.DrawFn, idx: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["punishment", "restriction", "incentive"]))
    positive = kind == "incentive"
    grounds = ["red_list", "commendation", "integrity_points"] if positive else [
        "severe_dishonesty", "judgment_defaulter", "dishonesty", "false_commitment",
    ]  # fmt: skip
    chosen = draw(_subset(grounds))
    triggers: dict[str, Any] = {"grounds": chosen}
    if draw(st.integers(0, 2)) == 0:
        triggers["categories"] = draw(_subset(CATEGORIES))
    if draw(st.integers(0, 3)) == 0:
        triggers["domains"] = draw(_subset(DOMAINS))
    if "integrity_points" in chosen and draw(st.booleans()):
        triggers["min_points"] = draw(st.integers(0, 120))
    target: dict[str, Any] = {
        "description": "测试对象",
        "subject_kinds": draw(_subset([k.value for k in SubjectKind])),
        "roles": ["subject"] if positive else draw(_subset(ROLES)),
    }
    if draw(st.booleans()):
        target["entity_types"] = draw(_subset([t.value for t in EntityType]))
    m: dict[str, Any] = {
        "measure_id": f"M{idx}",
        "kind": kind,
        "range_item": draw(st.sampled_from(["40.5", "40.5", "40.1", "41.1", "42.3"])),
        "title": f"措施 {idx}",
        "content": "内容",
        "target": target,
        "legal_basis": ["《测试条例》"],
        "implementing_body": {"name": "测试部门", "type": "state_organ"},
        # Every scenario half of the time, so that most items meet measures that apply.
        "scenarios": draw(st.just(["*"]) | _subset(SCENARIO_NAMES)),
        "triggers": triggers,
        "voluntary": draw(st.integers(0, 4)) == 0,
    }
    if draw(st.booleans()):
        m["publication"] = {"reference": "测试〔2027〕1号", "date": draw(some_dates).isoformat()}
    if draw(st.integers(0, 3)) == 0:
        m["score_adjustment"] = draw(st.sampled_from([-2.0, 1.5]))
    return m


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    """One to three lists, some in two editions that share measure ids (an older or newer
    edition of a measure in force says nothing; one only in an edition not in force is
    unpublished)."""
    lists = []
    pool = [draw(measures(i)) for i in range(draw(st.integers(1, 9)))]
    for n in range(draw(st.integers(1, 3))):
        editions = draw(st.integers(1, 2))
        start = draw(near_dates)
        for version in range(editions):
            chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6))
            unique = list({m["measure_id"]: m for m in chosen}.values())
            body: dict[str, Any] = {
                "list_id": f"list-{n}",
                "version": str(version + 1),
                "title": "生成的清单（示例）",
                "kind": "punishment_supplementary",
                "jurisdiction": "test",
                "publication": {
                    "reference": "测试〔2026〕1号",
                    "date": draw(near_dates).isoformat(),
                },
                "effective_from": start.isoformat(),
                "provenance": {"status": "sample", "statement": "generated for a test"},
                "measures": unique,
            }
            if version + 1 < editions or draw(st.integers(0, 4)) == 0:
                until = draw(st.dates(min_value=start, max_value=dt.date(9999, 12, 31)))
                body["effective_until"] = until.isoformat()
                start = until
            # Built without validate_list: the matcher must agree on any catalog, even one the
            # loader would refuse.
            lists.append(MeasureList.model_validate(body))
    return Catalog(tuple(lists))


@st.composite
def subjects(draw: st.DrawFn) -> dict[str, Any]:
    declared = draw(entity_types)
    shape = draw(st.sampled_from(["person", "individual_business", "organisation"]))
    if shape == "person":
        subject: dict[str, Any] = {"kind": "natural_person", "identifier": resident_id()}
    elif shape == "individual_business":
        subject = {"kind": "natural_person", "identifier": uscc("92" + BODY)}
    else:
        kind = draw(st.sampled_from(["legal_person", "unincorporated_organisation"]))
        subject = {"kind": kind, "identifier": uscc(draw(st.sampled_from(PREFIXES)) + BODY)}
    if declared is not None:
        subject["entity_type"] = declared.value
    return subject


def _objection(draw: st.DrawFn, idx: str) -> dict[str, Any] | None:
    if draw(st.integers(0, 3)):
        return None
    status = draw(st.sampled_from(["pending", "upheld", "rejected"]))
    filed = draw(near_dates)
    decided = None if status == "pending" else draw(near_dates).isoformat()
    return objection(status, filed.isoformat(), decided, objection_id=f"O-{idx}")


@st.composite
def records(draw: st.DrawFn, idx: int) -> dict[str, Any]:
    found = draw(some_dates)
    rec: dict[str, Any] = {
        "record_id": f"R{idx}",
        "kind": draw(st.sampled_from(["dishonesty", "severe_dishonesty", "commendation"])),
        "category": draw(st.sampled_from(CATEGORIES)),
        "finding_date": found.isoformat(),
        "basis": basis(issued_on=found.isoformat()),
        "publication_period_months": draw(st.none() | st.integers(0, 60)),
        "publication_declined": draw(st.booleans()),
    }
    if draw(st.booleans()):
        rec["domain"] = draw(st.sampled_from(DOMAINS))
    found_objection = _objection(draw, f"R{idx}")
    if found_objection is not None:
        rec["objection"] = found_objection
    return rec


@st.composite
def listings(draw: st.DrawFn, idx: str) -> dict[str, Any]:
    listed = draw(some_dates)
    list_type = draw(st.sampled_from(["severe_dishonesty", "judgment_defaulter", "red_list"]))
    kind = {"judgment_defaulter": "court_defaulter_decision", "red_list": "red_list_decision"}
    data: dict[str, Any] = {
        "membership_id": f"L{idx}",
        "list_type": list_type,
        "listed_on": listed.isoformat(),
        "listing_body": "测试认定单位",
        "category": draw(st.sampled_from(CATEGORIES)),
        "decision": basis(
            kind=kind.get(list_type, "severe_list_decision"), issued_on=listed.isoformat()
        ),
    }
    if draw(st.booleans()):
        data["domain"] = draw(st.sampled_from(DOMAINS))
    term = draw(st.none() | some_dates | st.just("长期"))
    if term is not None:
        data["term_end"] = term if isinstance(term, str) else term.isoformat()
    found_objection = _objection(draw, f"L{idx}")
    if found_objection is not None:
        data["objection"] = found_objection
    return data


@st.composite
def reports(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {
        "report_id": "prop-matcher",
        "generated_at": "2026-11-29T00:00:00Z",
        "subject": draw(subjects()),
        "records": [draw(records(i)) for i in range(draw(st.integers(0, 4)))],
        "list_memberships": [draw(listings(str(i))) for i in range(draw(st.integers(0, 2)))],
    }
    if draw(st.booleans()):
        made = draw(near_dates)
        data["commitments"] = [
            {"commitment_id": "C1", "made_on": made.isoformat(), "status": "false"}
        ]
    if data["subject"]["kind"] == "natural_person":
        if draw(st.booleans()):
            data["integrity_points"] = {
                "scheme": "test-points",
                "score": draw(st.integers(0, 150)),
                "assessed_on": draw(near_dates).isoformat(),
            }
        parties = []
        for i in range(draw(st.integers(0, 2))):
            party: dict[str, Any] = {
                "organisation": uscc(draw(st.sampled_from(PREFIXES)) + BODY),
                "role": draw(st.sampled_from(ROLES[1:])),
                "memberships": [draw(listings(f"P{i}"))],
            }
            declared = draw(entity_types)
            if declared is not None:
                party["organisation_entity_type"] = declared.value
            parties.append(party)
        data["linked_parties"] = parties
    return data


# -- the reference: every measure of every edition, one rule after the other -----------------


def _reference_match(
    catalog: Catalog,
    in_force: Any,
    scenario: Scenario,
    as_of: dt.date,
    triggers: tuple[TriggerRef, ...],
    entity_type: EntityType | None,
    declared_type: bool,
    subject_kind: SubjectKind,
    jd_is_severe: bool,
    points: int | None,
    run: Any,
) -> dict[tuple[str, str], tuple[Any, tuple[Any, ...], list[TriggerRef]]]:
    matches: dict[tuple[str, str], tuple[Any, tuple[Any, ...], list[TriggerRef]]] = {}
    untargeted: set[tuple[str, str]] = set()
    unpublished: set[tuple[str, str]] = set()
    in_force_keys = {(lst.list_id, m.measure_id) for lst in in_force.lists for m in lst.measures}
    in_force_editions = {(lst.list_id, lst.version) for lst in in_force.lists}
    for t in triggers:
        grounds = [t.ground]
        if t.ground is Ground.JUDGMENT_DEFAULTER and jd_is_severe:
            grounds.append(Ground.SEVERE_DISHONESTY)
        related = False
        for g in grounds:
            for lst in catalog.lists:
                for m in lst.measures:
                    if scenario not in _expand_scenarios(m.scenarios):
                        continue
                    if g not in m.triggers.grounds:
                        continue
                    cats = m.triggers.categories
                    if cats is not None and t.category not in cats:
                        continue
                    if t.role not in m.target.roles:
                        continue
                    if subject_kind not in m.target.subject_kinds:
                        continue
                    domains = m.triggers.domains
                    if domains is not None and t.domain not in domains:
                        continue
                    entry = _entry(catalog, lst, m)
                    key = (lst.list_id, m.measure_id)
                    covered = _covered(m.target.entity_types)
                    if covered is not None and entity_type not in covered:
                        related = True
                        if key not in untargeted:
                            untargeted.add(key)
                            run.exclusions.append(
                                _engine._not_targeted(
                                    entry, t.item_id, entity_type, declared_type, run
                                )
                            )
                        continue
                    if t.item_id in run.declined and m.range_item == "40.5":
                        related = True
                        run.exclusions.append(
                            Exclusion(
                                ReasonCode.WITHHELD_AT_SUBJECT_REQUEST,
                                t.item_id,
                                m.measure_id,
                                said(
                                    "主体提出不公示守信信息：不予公示，信息仍共享，其他激励措施"
                                    "照常适用（Art. 51 ¶1）",
                                    "the subject declined publication: no publicity; the "
                                    "information is still shared and its other incentives "
                                    "apply (Art. 51 ¶1)",
                                ),
                            )
                        )
                        continue
                    edition_in_force = (lst.list_id, lst.version) in in_force_editions
                    published = max((m.publication or lst.publication).date, lst.publication.date)
                    if not edition_in_force or published > as_of:
                        if not edition_in_force and key in in_force_keys:
                            continue
                        related = True
                        if key not in unpublished:
                            unpublished.add(key)
                            run.exclusions.append(
                                _engine._unpublished(
                                    entry, t.item_id, frozenset(in_force_editions), as_of
                                )
                            )
                        continue
                    related = True
                    minimum = m.triggers.min_points
                    if minimum is not None and (points is None or points < minimum):
                        run.exclusions.append(
                            Exclusion(
                                ReasonCode.POINTS_BELOW_THRESHOLD,
                                t.item_id,
                                m.measure_id,
                                said(
                                    f"需诚信积分 {minimum} 分", f"needs {minimum} integrity points"
                                ),
                            )
                        )
                        continue
                    if key not in matches:
                        matches[key] = (entry, _applied_prefix(lst, m), [t])
                    elif t not in matches[key][2]:
                        matches[key][2].append(t)
        if not related:
            run.exclusions.append(
                Exclusion(
                    ReasonCode.NOT_RELATED,
                    t.item_id,
                    None,
                    said(
                        f"无已公布措施将{label(GROUND_LABELS, t.ground, 'zh')}（{t.ground}, "
                        f"{t.category}）与本场景（{scenario}）关联（Art. 43）",
                        f"no published measure relates {t.ground} ({t.category}) to {scenario} "
                        "(Art. 43)",
                    ),
                )
            )
    return matches


def _entry(catalog: Catalog, lst: MeasureList, m: Any) -> Any:
    """The catalog's own record of one measure of one edition (for the exclusion texts)."""
    for entries in catalog._index.by_key.values():
        for e in entries:
            if e.list is lst and e.measure is m:
                return e
    raise AssertionError("measure not indexed")


def _applied_prefix(lst: MeasureList, m: Any) -> tuple[Any, ...]:
    """An applied measure's five Art. 39 elements and where they were published."""
    return (
        m.measure_id,
        lst.list_id,
        lst.version,
        m.kind,
        m.title,
        m.content,
        m.target.description,
        m.legal_basis,
        m.implementing_body.name,
        m.range_item,
        (m.publication or lst.publication).reference,
        m.voluntary,
        m.score_adjustment,
        ReasonCode.VOLUNTARY_MEASURE if m.voluntary else ReasonCode.APPLIED,
    )


def _decide_both(
    report: CreditReport, catalog: Catalog, scenario: Scenario, as_of: dt.date, p: PolicyProfile
) -> tuple[Any, Any]:
    def one() -> Any:
        try:
            return decide(report, scenario, as_of=as_of, catalog=catalog, profile=p)
        except CreditSDKError as err:
            return type(err), str(err)

    compiled = one()
    with mock.patch.object(_engine, "_match", _reference_match):
        reference = one()
    return compiled, reference


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    catalogs(),
    st.lists(reports(), min_size=1, max_size=3),
    st.sampled_from(list(Scenario)),
    all_dates | near_dates,
    st.sampled_from(PROFILES),
)
def test_compiled_matcher_decides_as_the_reference(
    catalog: Catalog,
    datas: list[dict[str, Any]],
    scenario: Scenario,
    as_of: dt.date,
    profile: PolicyProfile,
) -> None:
    for data in [*datas, *datas]:  # the second round reuses the plans of the first
        try:
            report = CreditReport.parse(data)
        except ReportError:
            continue  # a contradictory subject (Art. 21) is refused at parse time
        compiled, reference = _decide_both(report, catalog, scenario, as_of, profile)
        assert compiled == reference


def test_the_reference_is_not_the_compiled_matcher() -> None:
    """A report whose honour the subject declined to publish, a points threshold it misses and
    a measure of an edition not yet in force: the reference reaches each exclusion on its own."""
    measures_ = [
        {
            "measure_id": "PUB",
            "kind": "incentive",
            "range_item": "40.5",
            "title": "公示",
            "content": "公示",
            "target": {"description": "对象"},
            "legal_basis": ["依据"],
            "implementing_body": {"name": "部门"},
            "scenarios": ["*"],
            "triggers": {"grounds": ["commendation"]},
        },
        {
            "measure_id": "PTS",
            "kind": "incentive",
            "range_item": "40.1",
            "title": "积分",
            "content": "积分",
            "target": {"description": "对象"},
            "legal_basis": ["依据"],
            "implementing_body": {"name": "部门"},
            "scenarios": ["*"],
            "triggers": {"grounds": ["integrity_points"], "min_points": 90},
        },
    ]
    body = {
        "list_id": "l",
        "version": "1",
        "title": "清单",
        "kind": "incentive",
        "jurisdiction": "test",
        "publication": {"reference": "r", "date": "2026-01-01"},
        "effective_from": "2026-01-01",
        "provenance": {"status": "sample", "statement": "test"},
        "measures": measures_,
    }
    later = {**body, "version": "2", "effective_from": "2027-01-01", "measures": measures_[:1]}
    catalog = Catalog((MeasureList.model_validate(body), MeasureList.model_validate(later)))
    report = CreditReport.parse(
        {
            "report_id": "r",
            "generated_at": "2026-11-29T00:00:00Z",
            "subject": {"kind": "natural_person", "identifier": resident_id()},
            "records": [
                {
                    "record_id": "H1",
                    "kind": "commendation",
                    "category": "honour",
                    "finding_date": "2026-02-01",
                    "basis": basis(kind="administrative_decision", issued_on="2026-02-01"),
                    "publication_declined": True,
                }
            ],
            "integrity_points": {"scheme": "s", "score": 80, "assessed_on": "2026-10-01"},
        }
    )
    expected = {
        dt.date(2026, 11, 29): ReasonCode.POINTS_BELOW_THRESHOLD,
        dt.date(2027, 3, 1): ReasonCode.MEASURE_UNPUBLISHED,  # the new edition dropped PTS
    }
    for as_of, reason in expected.items():
        compiled, reference = _decide_both(report, catalog, Scenario.BIDDING, as_of, PROFILES[0])
        assert compiled == reference
        codes = {e.reason for e in compiled.exclusions}
        assert {ReasonCode.WITHHELD_AT_SUBJECT_REQUEST, reason} <= codes
