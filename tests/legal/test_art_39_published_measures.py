"""Art. 39: only published measures, each with its five elements; replayable provenance.

禁止实施未向社会公布的失信约束措施和失信惩戒措施 (Art. 39 last ¶). A measure not yet published on
the query date, or whose list edition is not in force then (not yet, or superseded), is never
applied: ``MEASURE_UNPUBLISHED``. Each applied measure carries 惩戒措施、惩戒内容、惩戒对象、
设定依据、实施主体 and its publication reference, and the decision records which list editions
(id, version, sha256) were in force so that it can be replayed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import credit_sdk
from credit_sdk import Catalog, Outcome, Scenario, shown
from tests.legal.builders import (
    catalog_of,
    check,
    commitment,
    court_defaulter,
    day,
    exclusions_for,
    measure,
    measure_ids,
    measure_list,
    record,
    red_list,
    report,
    severe_listing,
)

PROCUREMENT = Scenario.GOVERNMENT_PROCUREMENT


# --- a measure published after the query date --------------------------------------------------

_LATE = catalog_of(
    measure_list(
        [
            measure("EARLY", ["severe_dishonesty"]),
            measure("LATE", ["severe_dishonesty"], published="2027-02-01"),
        ]
    )
)


def test_measure_published_after_the_query_date_is_not_applied() -> None:
    decision = check(report(memberships=[severe_listing()]), PROCUREMENT, catalog=_LATE)
    assert decision.outcome is Outcome.RESTRICTED
    assert measure_ids(decision.restrictions) == {"EARLY"}
    (left_out,) = exclusions_for(decision, "MEASURE_UNPUBLISHED")
    assert left_out.measure_id == "LATE"
    assert left_out.item_id == "L-SEVERE"
    assert "2027-02-01" in left_out.detail
    assert "Art. 39" in left_out.detail
    assert shown(left_out.detail, "zh") == "该措施于 2027-02-01 方才公布（Art. 39）"


def test_same_measure_applies_from_its_publication_day() -> None:
    rep = report(memberships=[severe_listing()])
    decision = check(rep, PROCUREMENT, as_of=day("2027-02-01"), catalog=_LATE)
    assert measure_ids(decision.restrictions) == {"EARLY", "LATE"}
    assert not exclusions_for(decision, "MEASURE_UNPUBLISHED")


def test_only_unpublished_measure_leaves_the_subject_clear() -> None:
    only_late = catalog_of(
        measure_list([measure("LATE", ["severe_dishonesty"], published="2027-02-01")])
    )
    decision = check(report(memberships=[severe_listing()]), PROCUREMENT, catalog=only_late)
    assert decision.outcome is Outcome.CLEAR
    assert {e.reason.value for e in decision.exclusions} == {"MEASURE_UNPUBLISHED"}


def test_list_published_after_it_claims_to_take_effect() -> None:
    """A list dated effective 1 January but published (向社会公布) only on 15 December."""
    late_list = catalog_of(
        measure_list([measure("M", ["severe_dishonesty"])], published="2026-12-15")
    )
    rep = report(memberships=[severe_listing()])
    before = check(rep, PROCUREMENT, catalog=late_list)
    assert before.outcome is Outcome.CLEAR
    assert [e.measure_id for e in exclusions_for(before, "MEASURE_UNPUBLISHED")] == ["M"]
    after = check(rep, PROCUREMENT, as_of=day("2026-12-15"), catalog=late_list)
    assert after.outcome is Outcome.RESTRICTED


# --- list editions -----------------------------------------------------------------------------

_V1 = measure_list(
    [
        measure("SHARED", ["severe_dishonesty"]),
        measure("OLD-ONLY", ["severe_dishonesty"]),
    ],
    version="2025.1",
    effective_from="2025-01-01",
    effective_until="2026-06-01",
)
_V2 = measure_list(
    [measure("SHARED", ["severe_dishonesty"]), measure("NEW-ONLY", ["severe_dishonesty"])],
    version="2026.1",
    effective_from="2026-06-01",
)
_EDITIONS = catalog_of(_V1, _V2)


def test_superseded_edition_is_not_applied() -> None:
    rep = report(memberships=[severe_listing(listed_on="2025-10-01")])
    decision = check(rep, PROCUREMENT, catalog=_EDITIONS)
    assert measure_ids(decision.restrictions) == {"SHARED", "NEW-ONLY"}
    assert {m.list_version for m in decision.restrictions} == {"2026.1"}
    (left_out,) = exclusions_for(decision, "MEASURE_UNPUBLISHED")
    assert left_out.measure_id == "OLD-ONLY"
    assert "not in force" in left_out.detail
    assert "未生效（Art. 39）" in shown(left_out.detail, "zh")


def test_edition_not_yet_in_force_is_not_applied() -> None:
    rep = report(memberships=[severe_listing(listed_on="2025-10-01")])
    decision = check(rep, PROCUREMENT, as_of=day("2026-03-01"), catalog=_EDITIONS)
    assert measure_ids(decision.restrictions) == {"SHARED", "OLD-ONLY"}
    assert {m.list_version for m in decision.restrictions} == {"2025.1"}
    assert [e.measure_id for e in exclusions_for(decision, "MEASURE_UNPUBLISHED")] == ["NEW-ONLY"]


def test_no_edition_in_force_at_all() -> None:
    future = catalog_of(
        measure_list([measure("M", ["severe_dishonesty"])], effective_from="2027-01-01")
    )
    decision = check(report(memberships=[severe_listing()]), PROCUREMENT, catalog=future)
    assert decision.outcome is Outcome.CLEAR
    assert [e.measure_id for e in exclusions_for(decision, "MEASURE_UNPUBLISHED")] == ["M"]
    assert decision.provenance.lists == ()


def test_provenance_records_the_editions_in_force() -> None:
    rep = report(memberships=[severe_listing(listed_on="2025-10-01")])
    now = check(rep, PROCUREMENT, catalog=_EDITIONS)
    assert now.provenance.lists == (("legal-test-list", "2026.1", _V2.sha256),)
    earlier = check(rep, PROCUREMENT, as_of=day("2026-03-01"), catalog=_EDITIONS)
    assert earlier.provenance.lists == (("legal-test-list", "2025.1", _V1.sha256),)
    assert _V1.sha256 != _V2.sha256
    assert now.provenance.as_of == day("2026-11-29")
    assert now.provenance.policy_profile == "hlj-draft-2021"
    assert now.provenance.sdk_version == credit_sdk.__version__
    assert now.provenance.report_id == "legal-test"


def _file_digest(path: Path) -> tuple[str, str, str]:
    """Recompute a shipped list's content hash independently of the SDK: canonical JSON
    (sorted keys, compact, UTF-8) without the ``sha256`` field."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    declared = raw.pop("sha256", None)
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    if declared is not None:
        assert declared == digest, path.name
    return raw["list_id"], raw["version"], digest


def test_provenance_of_shipped_lists_carries_their_sha256() -> None:
    root = Path(credit_sdk.__file__).parent / "data" / "lists"
    digests = {(i, v): h for i, v, h in (_file_digest(p) for p in sorted(root.glob("*.json")))}
    decision = check(report(memberships=[severe_listing()]), PROCUREMENT)
    assert decision.provenance.lists
    for list_id, version, sha in decision.provenance.lists:
        assert digests[(list_id, version)] == sha
    in_force = {(i, v) for i, v, _ in decision.provenance.lists}
    for lst in Catalog.default().lists:
        assert ((lst.list_id, lst.version) in in_force) == lst.in_force_at(day("2026-11-29"))


# --- the five elements on everything applied ---------------------------------------------------


@pytest.mark.parametrize("scenario", list(Scenario), ids=lambda s: s.value)
def test_every_applied_measure_carries_the_five_elements(scenario: Scenario) -> None:
    heavy = report(
        records=[record(category="bid_rigging")],
        memberships=[severe_listing(), court_defaulter(), red_list()],
        commitments=[commitment()],
    )
    decision = check(heavy, scenario)
    for m in (*decision.restrictions, *decision.incentives, *decision.voluntary):
        assert m.title, m.measure_id  # 措施
        assert m.content, m.measure_id  # 内容
        assert m.target, m.measure_id  # 对象
        assert any(b.strip() for b in m.legal_basis), m.measure_id  # 设定依据
        assert m.implementing_body, m.measure_id  # 实施主体
        assert m.publication, m.measure_id  # 向社会公布
        assert m.triggered_by, m.measure_id
