"""Property tests of decide() and a junk-input sweep over the report model.

The catalog here is synthetic (built in the test) so the properties do not depend on what the
shipped sample lists happen to contain: one punishment per ground for every scenario, one
measure published only in the future, and a superseded edition.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_sdk import (
    Catalog,
    CreditReport,
    MeasureList,
    Outcome,
    PolicyProfile,
    ReportError,
    Scenario,
    decide,
)
from credit_sdk._engine import add_months
from tests.legal.builders import basis, resident_id, uscc

AS_OF = dt.date(2026, 11, 29)
FUTURE = "2027-06-01"


def _measure(mid: str, ground: str, *, published: str | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {
        "measure_id": mid,
        "kind": "punishment",
        "range_item": "42.3",
        "title": f"测试措施 {mid}",
        "content": "测试内容",
        "target": {"description": "测试对象"},
        "legal_basis": ["《测试条例》第四十二条"],
        "implementing_body": {"name": "测试部门", "type": "state_organ"},
        "scenarios": ["*"],
        "triggers": {"grounds": [ground]},
    }
    if published:
        m["publication"] = {"reference": "测试〔2027〕1号", "date": published}
    return m


def _catalog() -> Catalog:
    grounds = ["severe_dishonesty", "dishonesty", "judgment_defaulter", "false_commitment"]
    measures = [_measure(f"P-{g}", g) for g in grounds]
    measures.append(_measure("P-future", "dishonesty", published=FUTURE))
    lst = {
        "list_id": "prop-test",
        "version": "2",
        "title": "property-test list (示例)",
        "kind": "punishment_supplementary",
        "jurisdiction": "test",
        "publication": {"reference": "测试〔2026〕1号", "date": "2026-01-01"},
        "effective_from": "2026-01-01",
        "provenance": {"status": "sample", "statement": "test data"},
        "measures": measures,
    }
    old = {**lst, "version": "1", "effective_from": "2025-01-01", "effective_until": "2026-01-01"}
    old["measures"] = [_measure("P-old-only", "dishonesty")]
    return Catalog((MeasureList.from_json(json.dumps(lst)), MeasureList.from_json(json.dumps(old))))


CATALOG = _catalog()
PROFILE = PolicyProfile.default()

dates = st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2027, 12, 31))


@st.composite
def records(draw: st.DrawFn, idx: int) -> dict[str, Any]:
    found = draw(dates)
    status = draw(st.sampled_from(["active", "active", "repaired", "revoked", "archived"]))
    rec: dict[str, Any] = {
        "record_id": f"R{idx}",
        "kind": draw(st.sampled_from(["dishonesty", "severe_dishonesty", "administrative"])),
        "category": draw(st.sampled_from(["false_materials", "bid_rigging", "tax_arrears"])),
        "finding_date": found.isoformat(),
        "status": status,
        "publication_period_months": draw(st.none() | st.integers(0, 60)),
    }
    if draw(st.booleans()):
        rec["basis"] = basis(issued_on=found.isoformat(), effective=draw(st.booleans()))
    if draw(st.booleans()):
        rec["objection"] = {"objection_id": f"O{idx}", "filed_on": found.isoformat()}
    if draw(st.booleans()):
        rec["penalty"] = {"procedure": draw(st.sampled_from(["simple", "general"]))}
    return rec


@st.composite
def reports(draw: st.DrawFn) -> CreditReport:
    n = draw(st.integers(0, 5))
    recs = [draw(records(i)) for i in range(n)]
    return CreditReport.model_validate(
        {
            "report_id": "prop",
            "generated_at": "2026-11-29T00:00:00Z",
            "subject": {"kind": "legal_person", "identifier": uscc()},
            "records": recs,
        }
    )


scenarios = st.sampled_from(list(Scenario))
as_ofs = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2027, 12, 31))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(reports(), scenarios, as_ofs)
def test_decide_is_deterministic(report: CreditReport, scenario: Scenario, as_of: dt.date) -> None:
    first = decide(report, scenario, as_of=as_of, catalog=CATALOG)
    assert decide(report, scenario, as_of=as_of, catalog=CATALOG) == first
    assert first.to_dict() == decide(report, scenario, as_of=as_of, catalog=CATALOG).to_dict()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(reports(), scenarios, as_ofs)
def test_never_applies_dead_or_unpublished_records(
    report: CreditReport, scenario: Scenario, as_of: dt.date
) -> None:
    decision = decide(report, scenario, as_of=as_of, catalog=CATALOG)
    by_id = {r.record_id: r for r in report.records}
    for measure in (*decision.restrictions, *decision.held_for_review):
        # Art. 39: only published measures of the edition in force.
        assert measure.measure_id not in {"P-old-only"}
        if as_of < dt.date.fromisoformat(FUTURE):
            assert measure.measure_id != "P-future"
        for trig in measure.triggered_by:
            rec = by_id[trig.item_id]
            assert rec.status.value == "active"  # never repaired (54), revoked (52), archived (51)
            assert rec.finding_date <= as_of
            assert rec.basis is not None  # Art. 37
            assert rec.basis.effective
            severe = rec.kind.value == "severe_dishonesty"
            # Art. 19 leaves out simple-procedure penalties, but never a severe finding (Art. 37):
            # that applies, flagged SEVERE_NOT_MINOR.
            assert rec.penalty is None or rec.penalty.procedure != "simple" or severe
            if severe and rec.penalty is not None and rec.penalty.procedure == "simple":
                assert trig.item_id in {
                    a.item_id for a in decision.advisories if a.code.value == "SEVERE_NOT_MINOR"
                }
            legal_max = 36 if severe else 12
            # Art. 51: never past the legal maximum from the finding date (its last day counts).
            assert as_of <= add_months(rec.finding_date, legal_max)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    reports(),
    scenarios,
    st.integers(0, 5),  # months since listing: within the 6-month minimum, so surely active
    st.booleans(),
)
def test_never_clear_with_an_active_severe_listing(
    report: CreditReport, scenario: Scenario, months_ago: int, court: bool
) -> None:
    listed = add_months(AS_OF, -months_ago)
    kind = "court_defaulter_decision" if court else "severe_list_decision"
    membership = {
        "membership_id": "L-active",
        "list_type": "judgment_defaulter" if court else "severe_dishonesty",
        "listed_on": listed.isoformat(),
        "listing_body": "测试认定单位",
        "decision": basis(kind=kind, issued_on=listed.isoformat()),
    }
    data = report.model_dump(mode="json")
    data["subject"]["identifier"] = uscc()  # the dump is masked; restore a parseable one
    data["list_memberships"] = [membership]
    rep = CreditReport.model_validate(data)
    decision = decide(rep, scenario, as_of=AS_OF, catalog=CATALOG)
    assert decision.outcome is Outcome.RESTRICTED
    assert any(t.item_id == "L-active" for m in decision.restrictions for t in m.triggered_by)
    assert not decision.commitment_eligible


# --- junk sweep over the report model -------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)

_VALID = {
    "report_id": "junk",
    "generated_at": "2026-11-29T00:00:00Z",
    "subject": {"kind": "natural_person", "identifier": resident_id(), "name": "张示例"},
    "records": [
        {
            "record_id": "R1",
            "kind": "dishonesty",
            "category": "false_materials",
            "finding_date": "2026-05-01",
            "basis": basis(),
        }
    ],
}
_PATHS = [
    ("report_id",),
    ("generated_at",),
    ("subject",),
    ("subject", "kind"),
    ("subject", "identifier"),
    ("records",),
    ("records", 0),
    ("records", 0, "kind"),
    ("records", 0, "finding_date"),
    ("records", 0, "basis"),
    ("records", 0, "basis", "effective"),
    ("list_memberships",),
    ("integrity_points",),
]


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    data = json.loads(json.dumps(data))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@settings(max_examples=300)
@given(json_values)
def test_any_json_either_parses_or_raises_report_error(value: Any) -> None:
    with contextlib.suppress(ReportError):
        CreditReport.parse(json.dumps(value))


@settings(max_examples=400)
@given(st.sampled_from(_PATHS), json_values)
def test_mutated_reports_parse_or_raise_report_error(path: tuple[Any, ...], value: Any) -> None:
    data = _replace(_VALID, path, value)
    message = ""
    try:
        CreditReport.parse(data)
    except ReportError as err:
        message = str(err)
    # The message names fields, never values: no raw identifier can leak through it.
    assert resident_id() not in message


def test_report_error_never_echoes_the_identifier() -> None:
    bad = _replace(_VALID, ("records", 0, "finding_date"), resident_id())
    with pytest.raises(ReportError, match="finding_date") as info:
        CreditReport.parse(bad)
    assert resident_id() not in str(info.value)
