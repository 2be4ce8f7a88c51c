"""Art. 48: nobody may force financial institutions, credit agencies, associations or the media
to punish (禁止强制要求金融机构、信用服务机构、行业协会商会和新闻媒体等单位惩戒信用主体).

Their measures are published as voluntary: the SDK reports them in ``decision.voluntary`` as
information, never among restrictions or incentives, and they never change the outcome.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from credit_sdk import Catalog, CreditReport, MeasureList, Outcome, Scenario
from tests.legal.builders import (
    catalog_of,
    check,
    commendation,
    commitment,
    court_defaulter,
    measure,
    measure_list,
    record,
    red_list,
    report,
    severe_listing,
)


def _without_voluntary(catalog: Catalog) -> Catalog:
    lists = []
    for lst in catalog.lists:
        raw: dict[str, Any] = lst.model_dump(mode="json", exclude={"sha256"})
        raw["measures"] = [m for m in raw["measures"] if not m["voluntary"]]
        lists.append(MeasureList.from_json(json.dumps(raw, ensure_ascii=False)))
    return Catalog(tuple(lists))


def test_financial_and_association_measures_are_information_only() -> None:
    decision = check(report(memberships=[severe_listing()]), Scenario.OTHER)
    assert decision.outcome is Outcome.RESTRICTED  # the state organs' measures
    assert decision.voluntary
    for m in decision.voluntary:
        assert m.voluntary is True
        assert m.reason.value == "VOLUNTARY_MEASURE"
    voluntary_ids = {m.measure_id for m in decision.voluntary}
    assert not voluntary_ids & {m.measure_id for m in decision.restrictions}
    assert not voluntary_ids & set(decision.applied_measure_ids)
    assert not any(m.voluntary for m in decision.measures)
    assert "自愿实施" in decision.explain()


_ONLY_VOLUNTARY = catalog_of(
    measure_list(
        [
            measure(
                "BANK",
                ["severe_dishonesty"],
                range_item="42.11",
                scenarios=["*"],
                body_type="financial_institution",
                voluntary=True,
            )
        ]
    ),
    measure_list(
        [
            measure(
                "LOAN",
                ["red_list"],
                kind="incentive",
                range_item="40.6",
                scenarios=["*"],
                body_type="financial_institution",
                voluntary=True,
            )
        ],
        list_id="legal-test-incentives",
        kind="incentive",
    ),
)


@pytest.mark.parametrize(
    ("case", "rep"),
    [
        ("severe listing", report(memberships=[severe_listing()])),
        ("red list", report(memberships=[red_list()])),
    ],
)
def test_voluntary_measures_alone_leave_the_outcome_clear(case: str, rep: CreditReport) -> None:
    decision = check(rep, Scenario.GOVERNMENT_PROCUREMENT, catalog=_ONLY_VOLUNTARY)
    assert decision.outcome is Outcome.CLEAR, case
    assert decision.restrictions == ()
    assert decision.incentives == ()
    assert len(decision.voluntary) == 1


# report, and whether the shipped lists publish a voluntary measure for it somewhere
REPORTS = {
    "severe company": (report(memberships=[severe_listing()], records=[record()]), True),
    "court defaulter": (report(person=True, memberships=[court_defaulter()]), True),
    "red list": (report(memberships=[red_list()], records=[commendation()]), True),
    "false commitment": (report(commitments=[commitment()]), False),
}


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_removing_voluntary_measures_changes_nothing_else(name: str) -> None:
    rep, has_voluntary = REPORTS[name]
    full = Catalog.default()
    bare = _without_voluntary(full)
    seen: set[str] = set()
    for scenario in Scenario:
        with_v = check(rep, scenario, catalog=full)
        without = check(rep, scenario, catalog=bare)
        seen.update(m.measure_id for m in with_v.voluntary)
        assert without.voluntary == ()
        assert with_v.outcome is without.outcome, scenario
        assert with_v.applied_measure_ids == without.applied_measure_ids, scenario
        assert with_v.commitment == without.commitment
        assert with_v.supervision == without.supervision
    assert bool(seen) is has_voluntary
