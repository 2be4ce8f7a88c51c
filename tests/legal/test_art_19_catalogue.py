"""Art. 19 ¶1, 65(2): only information the public credit information catalogue lists is used.

第十八条 公共信用信息实行目录制管理。 第十九条 公共信用信息补充目录应当明确信息对应的具体行为、
提供单位、数据来源、性质分类、共享属性、开放属性、公示期限和更新周期等要素，并限制在下列信息范围内…
第六十五条（二） …在公共信用信息目录外违法违规记录、共享、开放公共信用信息的 (unlawful).

The engine leaves out every record whose conduct category the catalogue does not list
(``OUTSIDE_CATALOGUE``), whatever else it carries; the same record inside the catalogue is
decided as before. The shipped catalogue is a sample; a deployment passes its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from credit_sdk import (
    Catalog,
    CatalogError,
    CreditReport,
    InformationCatalogue,
    Outcome,
    Scenario,
    sample_report_path,
)
from credit_sdk.testing import CreditPlatform, fake_uscc
from tests.legal.builders import (
    check,
    commendation,
    reasons,
    record,
    report,
    severe_listing,
    severe_record,
)

LICENSING = Scenario.ADMIN_LICENSING
PROCUREMENT = Scenario.GOVERNMENT_PROCUREMENT
SHIPPED = InformationCatalogue.default()
ELEMENTS = (
    "conduct",
    "provider",
    "source",
    "nature",
    "sharing",
    "disclosure",
    "publication_period",
    "update_cycle",
)


def _catalogue(*categories: str, **overrides: Any) -> InformationCatalogue:
    data = json.loads(SHIPPED.model_dump_json())
    data["entries"] = [e for e in data["entries"] if e["category"] in categories]
    data.update(overrides)
    return InformationCatalogue.from_json(json.dumps(data))


# --- the engine ---------------------------------------------------------------------------------


def test_record_inside_the_catalogue_is_used() -> None:
    decision = check(report(records=[record("R1")]), LICENSING)
    assert decision.outcome is Outcome.RESTRICTED


def test_same_record_outside_the_catalogue_is_left_out_with_the_reason() -> None:
    rep = report(records=[record("R1", category="horoscope_reading")])
    decision = check(rep, LICENSING)
    assert decision.outcome is Outcome.CLEAR
    assert reasons(decision, "R1") == {"OUTSIDE_CATALOGUE"}
    (excl,) = decision.exclusions
    assert "Art. 19" in excl.detail


def test_catalogue_passed_by_the_deployment_decides() -> None:
    rep = report(records=[record("R1", category="false_materials")])
    narrow = _catalogue("bid_rigging")
    assert reasons(check(rep, LICENSING, information_catalogue=narrow), "R1") == {
        "OUTSIDE_CATALOGUE"
    }
    wide = _catalogue("false_materials")
    assert check(rep, LICENSING, information_catalogue=wide).outcome is Outcome.RESTRICTED


@pytest.mark.parametrize(
    "make",
    [
        lambda c: record("R1", category=c),
        lambda c: severe_record("R1", category=c),
        lambda c: {**commendation("R1"), "category": c},
        lambda c: record("R1", kind="administrative", category=c),
    ],
    ids=["dishonesty", "severe", "commendation", "administrative"],
)
def test_every_kind_of_record_outside_the_catalogue_is_left_out(make: Any) -> None:
    decision = check(report(records=[make("not_catalogued")]), PROCUREMENT)
    assert reasons(decision, "R1") == {"OUTSIDE_CATALOGUE"}
    assert decision.restrictions == ()
    assert decision.incentives == ()


def test_information_outside_the_catalogue_counts_for_nothing_else_either() -> None:
    """Not recorded or used (Art. 65(2)): no supervision tier, no commitment bar."""
    rep = report(records=[severe_record("R1", category="not_catalogued")])
    decision = check(rep, PROCUREMENT)
    assert decision.commitment_eligible
    assert decision.supervision.tier == "normal"


def test_a_listing_is_not_a_catalogue_category() -> None:
    """List information is itself catalogued (严重失信主体名单信息): the listing's own measures
    apply even when its free-text category is not an entry of the supplementary catalogue."""
    rep = report(memberships=[severe_listing(category="not_catalogued")])
    assert check(rep, PROCUREMENT).outcome is Outcome.RESTRICTED


# --- the catalogue itself ----------------------------------------------------------------------


def test_every_entry_states_the_art_19_elements() -> None:
    for entry in SHIPPED.entries:
        for element in ELEMENTS:
            assert str(getattr(entry, element)).strip(), (entry.category, element)
        assert 1 <= entry.art19_item <= 10


def test_shipped_catalogue_is_labelled_a_sample_and_cites_its_sources() -> None:
    assert SHIPPED.status == "sample"
    assert "SAMPLE" in SHIPPED.statement
    assert SHIPPED.sources
    tags = {c.code: c.tag for c in SHIPPED.national_categories}
    assert len(tags) == 13  # the 2024 national basic catalogue
    assert tags["intellectual_property"] == "S"
    assert tags["law_compliance"] == "S"
    assert tags["severe_dishonesty_list"] == "K"  # not seen in a source: not presented as S


def test_lookup_and_require() -> None:
    assert SHIPPED.lookup("false_materials") is not None
    assert SHIPPED.lookup("not_catalogued") is None
    assert "bid_rigging" in SHIPPED
    assert "not_catalogued" not in SHIPPED
    assert SHIPPED.require("bid_rigging").art19_item == 4
    with pytest.raises(CatalogError, match=r"Art\.19") as info:
        SHIPPED.require("not_catalogued")
    assert info.value.rule == "Art.19"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"art19_item": 11}, "art19_item"),  # beyond Art. 19's ten items
        ({"art19_item": 0}, "art19_item"),
        ({"provider": ""}, "provider"),  # an Art. 19 element missing
        ({"update_cycle": " "}, "update_cycle"),
        ({"sharing": "everyone"}, "sharing"),
        ({"national_category": "made_up"}, "national"),
    ],
)
def test_an_entry_that_breaks_art_19_is_refused(change: dict[str, Any], field: str) -> None:
    data = json.loads(SHIPPED.model_dump_json())
    data["entries"][0].update(change)
    with pytest.raises(CatalogError, match=field):
        InformationCatalogue.from_json(json.dumps(data))


def test_a_category_listed_twice_is_refused() -> None:
    data = json.loads(SHIPPED.model_dump_json())
    data["entries"].append(data["entries"][0])
    with pytest.raises(CatalogError, match="twice"):
        InformationCatalogue.from_json(json.dumps(data))


@pytest.mark.parametrize("text", ["", "[]", "{", "null"])
def test_junk_is_refused_with_a_catalog_error(text: str) -> None:
    with pytest.raises(CatalogError):
        InformationCatalogue.from_json(text)


def test_missing_file_is_a_catalog_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read"):
        InformationCatalogue.load(tmp_path / "absent.json")


# --- everything the SDK ships stays inside it --------------------------------------------------


def _report_categories(rep: CreditReport) -> set[str]:
    return {r.category for r in rep.records}


def test_every_shipped_sample_report_is_inside_the_catalogue() -> None:
    root = sample_report_path("clean").parent
    for path in sorted(root.glob("*.json")):
        rep = CreditReport.model_validate_json(path.read_text(encoding="utf-8"))
        assert _report_categories(rep) <= SHIPPED.categories, path.name


def test_every_category_a_shipped_measure_triggers_on_is_catalogued() -> None:
    for lst in Catalog.default().lists:
        for m in lst.measures:
            assert set(m.triggers.categories or ()) <= SHIPPED.categories, m.measure_id


def test_every_testing_builder_state_is_inside_the_catalogue() -> None:
    platform = CreditPlatform()
    builders = [
        lambda s: s.on_severe_list(),
        lambda s: s.on_judgment_defaulter_list(),
        lambda s: s.on_red_list(),
        lambda s: s.with_dishonesty_record(),
        lambda s: s.with_expired_record(),
        lambda s: s.with_repaired_severe_listing(),
        lambda s: s.with_disputed_severe_listing(),
        lambda s: s.with_commendation(),
    ]
    for i, build in enumerate(builders):
        subject = platform.subject(fake_uscc(100 + i))
        build(subject)
        rep = CreditReport.model_validate(subject.report)
        assert _report_categories(rep) <= SHIPPED.categories, i
