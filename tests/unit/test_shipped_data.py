"""The data shipped in ``credit_sdk/data``: measure lists and sample credit reports.

The lists must load under the rules of Art. 39-48, say where they come from (official partial
transcription or sample), and cover the ranges they claim to illustrate. The sample reports must
fit the platform contract, carry the ``_sample`` marker and use synthetic identifiers only.

The negative tests tamper with a copy of a shipped list, one rule at a time, and expect a
:class:`~credit_sdk.CatalogError` that names the list, the measure and the rule.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import credit_sdk
from credit_sdk import CatalogError, InformationCatalogue
from credit_sdk._catalog import (
    Catalog,
    Ground,
    MeasureKind,
    MeasureList,
    _expand_scenarios,
    content_sha256,
    diff_lists,
    validate_list,
)
from credit_sdk._identifiers import IdentifierKind, parse_identifier
from credit_sdk._models import (
    CommitmentStatus,
    CreditReport,
    ListType,
    MembershipStatus,
    ObjectionStatus,
    RecordKind,
    RecordStatus,
    RiskLevel,
    SubjectKind,
    sample_report_path,
)
from credit_sdk._scenarios import Scenario, ScenarioFamily

DATA = Path(credit_sdk.__file__).parent / "data"
LISTS = DATA / "lists"
REPORTS = DATA / "reports"
AS_OF = dt.date(2026, 11, 29)  # the demo date the sample reports are written for

NATIONAL = "national-basic-punishment-2021-partial.json"
SUPPLEMENTARY = "hlj-supplementary-punishment-sample.json"
RESTRICTION = "hlj-restriction-sample.json"
INCENTIVE = "hlj-incentive-sample.json"
LIST_FILES = {
    NATIONAL: "cn-basic-punishment-2021-partial",
    SUPPLEMENTARY: "hlj-supplementary-punishment-sample",
    RESTRICTION: "hlj-restriction-sample",
    INCENTIVE: "hlj-incentive-sample",
}
SAMPLE_LISTS = (SUPPLEMENTARY, RESTRICTION, INCENTIVE)

REPORT_STATES = {
    "severe_list",
    "judgment_defaulter",
    "general_dishonesty",
    "expired",
    "repaired",
    "revoked",
    "disputed",
    "red_list",
    "linked_person",
    "false_commitment",
    "clean",
    "minor_penalty",
    "minor_corrected",
    "prohibited_fields",
}
SAMPLE_MARKER = "SAMPLE DATA: synthetic subject, not a real person or organisation"

# Art. 42 items: (一)-(九), the nine high-consumption sub-items of (十), and the catch-all item
# that the draft numbers "（十）" a second time (42.11 in the SDK).
ART42_ITEMS = frozenset(
    [f"42.{i}" for i in range(1, 10)] + [f"42.10.{i}" for i in range(1, 10)] + ["42.11"]
)
ART41_ITEMS = frozenset({"41.1", "41.2", "41.3"})
ART40_ITEMS = frozenset(f"40.{i}" for i in range(1, 7))
ART45_ROLES = frozenset(
    {"legal_representative", "principal", "actual_controller", "directly_responsible_person"}
)

# The conduct categories are those of the public credit information catalogue (Art. 19 ¶1);
# "general" names a listing without a more specific ground and is never a record's category.
CATALOGUE_CATEGORIES = InformationCatalogue.default().categories
CATEGORIES = CATALOGUE_CATEGORIES | {"general"}
DOMAINS = frozenset(
    [
        "food_drug",
        "environment",
        "construction_quality",
        "work_safety",
        "fire_safety",
        "ccc",
        "finance",
        "procurement",
        "bidding",
        "tax",
        "labour",
        "market",
        "judicial",
        "national_defence",
    ]
)

# Identifiers published as examples or test vectors (python-stdnum's doctests and this SDK's own
# docstrings). Synthetic sample subjects must never reuse one of them.
PUBLIC_SAMPLE_IDENTIFIERS = frozenset(
    {
        "360426199101010071",
        "44011320141005001X",
        "412723199010050012",
        "110102199101010078",
        "120110198012010073",
        "120110199212010072",
        "990426199112010074",
        "110111198012010078",
        "110201199312010077",
        "36042619910102009X",
        "91110000600037341L",
        "230103198001010010",
    }
)


# --- helpers -----------------------------------------------------------------------------------


def _raw(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((LISTS / name).read_text(encoding="utf-8"))
    return data


def _load(name: str) -> MeasureList:
    return MeasureList.load(LISTS / name)


def _report_json(state: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REPORTS / f"{state}.json").read_text(encoding="utf-8"))
    return data


def _report(state: str) -> CreditReport:
    return CreditReport.model_validate_json((REPORTS / f"{state}.json").read_text(encoding="utf-8"))


def _measure(raw: dict[str, Any], measure_id: str) -> dict[str, Any]:
    for m in raw["measures"]:
        if m["measure_id"] == measure_id:
            found: dict[str, Any] = m
            return found
    raise AssertionError(f"{measure_id} not in {raw['list_id']}")


def _by_item(lst: MeasureList, item: str) -> list[Any]:
    return [m for m in lst.measures if m.range_item == item]


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


# --- the shipped lists load --------------------------------------------------------------------


def test_the_shipped_list_directory_holds_exactly_the_four_lists() -> None:
    assert {p.name for p in LISTS.glob("*.json")} == set(LIST_FILES)


@pytest.mark.parametrize("name", sorted(LIST_FILES))
def test_each_shipped_list_loads_with_a_matching_declared_sha256(name: str) -> None:
    raw = _raw(name)
    lst = _load(name)
    assert lst.list_id == LIST_FILES[name]
    assert lst.measures
    # The file declares its digest, and the declaration is what from_json verified.
    assert raw["sha256"] == content_sha256(raw) == lst.sha256


def test_the_whole_directory_loads_as_one_catalog() -> None:
    catalog = Catalog.load([LISTS])
    assert {lst.list_id for lst in catalog.lists} == set(LIST_FILES.values())
    assert len(catalog) == sum(len(_load(name).measures) for name in LIST_FILES)


def test_the_default_catalog_is_the_shipped_directory() -> None:
    assert {lst.list_id for lst in Catalog.default().lists} == set(LIST_FILES.values())


def test_measure_ids_are_unique_across_lists_and_prefixed_by_their_list() -> None:
    prefixes = {
        NATIONAL: "CN-BASIC-2021-",
        SUPPLEMENTARY: "HLJ-SUP-",
        RESTRICTION: "HLJ-RES-",
        INCENTIVE: "HLJ-INC-",
    }
    seen: set[str] = set()
    for name, prefix in prefixes.items():
        for m in _load(name).measures:
            assert m.measure_id.startswith(prefix), m.measure_id
            assert m.measure_id not in seen
            seen.add(m.measure_id)
            if name != NATIONAL:
                # HLJ-SUP-42.10.3-01 sits on 42.10.3: the id says where the measure is.
                assert m.measure_id.startswith(f"{prefix}{m.range_item}-"), m.measure_id


# --- coverage of the ranges ----------------------------------------------------------------------


def test_the_supplementary_sample_covers_every_item_of_art42() -> None:
    items = {m.range_item for m in _load(SUPPLEMENTARY).measures}
    assert items == ART42_ITEMS
    assert {f"42.10.{i}" for i in range(1, 10)} <= items  # the nine high-consumption items


def test_the_high_consumption_items_use_the_regulations_words() -> None:
    lst = _load(SUPPLEMENTARY)
    expected = {
        "42.10.1": "G字头动车组全部座位",
        "42.10.2": "星级以上宾馆、酒店及其他高消费住宿场所",
        "42.10.3": "购买不动产或者新建、扩建、高档装修房屋",
        "42.10.4": "租赁高档写字楼、宾馆、公寓等场所办公",
        "42.10.5": "购买非经营必需车辆",
        "42.10.6": "团队出境旅游",
        "42.10.7": "子女入学就读高收费私立学校",
        "42.10.8": "支付高额保费购买保险理财产品",
        "42.10.9": "其他高消费和非生活、工作必需的消费行为",
    }
    for item, words in expected.items():
        (measure,) = _by_item(lst, item)
        assert words in measure.title, item


def test_the_restriction_sample_covers_art41_and_the_incentive_sample_covers_art40() -> None:
    assert {m.range_item for m in _load(RESTRICTION).measures} == ART41_ITEMS
    assert {m.range_item for m in _load(INCENTIVE).measures} == ART40_ITEMS


# --- provenance and labelling -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LIST_FILES))
def test_every_list_states_its_provenance(name: str) -> None:
    lst = _load(name)
    assert len(lst.provenance.statement) > 200
    assert lst.provenance.sources
    for source in lst.provenance.sources:
        assert set(source) == {"title", "url", "tag"}
        assert source["title"].strip()
        assert source["url"].startswith(("http://", "https://"))
    assert lst.publication.reference.strip()


@pytest.mark.parametrize("name", SAMPLE_LISTS)
def test_samples_are_labelled_as_samples(name: str) -> None:
    lst = _load(name)
    assert lst.provenance.status == "sample"
    assert "示例" in lst.title
    assert "SAMPLE" in lst.provenance.statement
    assert "NOT the province's published list" in lst.provenance.statement
    assert lst.publication.reference.startswith("示例〔2026〕")
    assert lst.publication.date == dt.date(2026, 1, 1)
    assert lst.effective_from == dt.date(2026, 1, 1)
    assert all(m.publication is None for m in lst.measures)  # no measure claims a real one
    assert all("SAMPLE" in m.note for m in lst.measures)


def test_the_supplementary_sample_points_to_the_real_provincial_list() -> None:
    lst = _load(SUPPLEMENTARY)
    assert "黑营商规〔2024〕2号" in lst.provenance.statement
    assert any("黑营商规〔2024〕2号" in s["title"] for s in lst.provenance.sources)


def test_the_national_list_is_a_partial_transcription_citing_s_sources() -> None:
    lst = _load(NATIONAL)
    assert lst.provenance.status == "official_partial_transcription"
    assert "部分转录" in lst.title
    assert "Partial transcription" in lst.provenance.statement
    assert "NOT the complete list" in lst.provenance.statement
    assert "platform serves the authoritative list" in lst.provenance.statement
    assert all(s["tag"] == "S" for s in lst.provenance.sources)
    assert lst.publication.url in {s["url"] for s in lst.provenance.sources}
    assert "not verified" in lst.publication.reference


def test_every_national_row_cites_an_s_source() -> None:
    lst = _load(NATIONAL)
    s_urls = {s["url"] for s in lst.provenance.sources if s["tag"] == "S"}
    for m in lst.measures:
        cited = set(re.findall(r"https?://\S+", m.note))
        assert cited, m.measure_id
        assert cited <= s_urls, m.measure_id
        assert m.note.startswith("Source (S): "), m.measure_id


def test_the_national_list_does_not_present_unverified_facts_as_official() -> None:
    text = (LISTS / NATIONAL).read_text(encoding="utf-8")
    # The document number of the 2021 edition was not verified: it must not be cited.
    assert "1827" not in text
    # Rows whose facts were not verified are left out (food, drug, company-law and work-safety
    # bans, exit bans, school admission, rail and air travel lists, category B measures).
    unverified = ("食品安全法", "药品管理法", "公司法", "安全生产法", "出境入境管理法", "兵役法")
    for law in unverified:
        assert law not in text
    lst = _load(NATIONAL)
    # Where an implementing body was not verified, the row says so instead of guessing.
    not_transcribed = {
        m.measure_id for m in lst.measures if m.implementing_body.name.startswith("未转录")
    }
    assert not_transcribed == {
        "CN-BASIC-2021-02",
        "CN-BASIC-2021-03",
        "CN-BASIC-2021-04",
        "CN-BASIC-2021-05",
    }


def test_the_superseded_national_edition_is_not_in_force_at_the_demo_date() -> None:
    lst = _load(NATIONAL)
    assert lst.effective_from == dt.date(2021, 12, 1)
    assert lst.in_force_at(dt.date(2022, 6, 1))
    assert not lst.in_force_at(AS_OF)
    catalog = Catalog.load([LISTS])
    in_force = {list_id for list_id, _ in catalog.editions_in_force(AS_OF)}
    assert in_force == {LIST_FILES[name] for name in SAMPLE_LISTS}


def test_the_national_consumption_row_is_split_by_item() -> None:
    lst = _load(NATIONAL)
    row9 = [m for m in lst.measures if m.measure_id.startswith("CN-BASIC-2021-09-")]
    assert sorted(m.range_item for m in row9) == sorted(f"42.10.{i}" for i in range(1, 10))
    for m in row9:
        assert m.implementing_body.type == "court"
        assert set(m.triggers.grounds) == {Ground.JUDGMENT_DEFAULTER}
        assert set(m.target.roles) >= ART45_ROLES


def test_category_c_measures_are_voluntary_and_implemented_by_non_state_bodies() -> None:
    national = {m.measure_id: m for m in _load(NATIONAL).measures}
    assert national["CN-BASIC-2021-18"].implementing_body.type == "financial_institution"
    assert national["CN-BASIC-2021-19"].implementing_body.type == "credit_service_agency"
    for mid in ("CN-BASIC-2021-18", "CN-BASIC-2021-19"):
        assert national[mid].voluntary
        assert national[mid].range_item == "42.11"
    for name in LIST_FILES:
        for m in _load(name).measures:
            state = m.implementing_body.type in {"state_organ", "court", "public_institution"}
            assert m.voluntary is not state, m.measure_id


# --- the legal shape of the sample measures ------------------------------------------------------


def test_linked_roles_sit_on_the_personnel_qualification_and_election_items() -> None:
    lst = _load(SUPPLEMENTARY)
    for item in ("42.6", "42.7", "42.8"):
        for m in _by_item(lst, item):
            assert set(m.target.roles) >= ART45_ROLES, m.measure_id
            assert Ground.SEVERE_DISHONESTY in m.triggers.grounds
            assert m.target.subject_kinds == (SubjectKind.NATURAL_PERSON,)


def test_procurement_score_adjustments() -> None:
    deductions = [m for m in _load(SUPPLEMENTARY).measures if m.score_adjustment is not None]
    assert deductions
    for m in deductions:
        assert m.range_item == "42.3"
        assert m.score_adjustment is not None
        assert m.score_adjustment < 0
        assert set(m.triggers.grounds) == {Ground.DISHONESTY}
        assert m.triggers.categories is not None
        assert {"bid_rigging", "procurement_fraud", "false_materials"} <= set(m.triggers.categories)
        assert m.scenarios == ("procurement",)
    bonuses = [m for m in _load(INCENTIVE).measures if m.score_adjustment is not None]
    assert bonuses
    assert all(m.range_item == "40.2" and (m.score_adjustment or 0) > 0 for m in bonuses)


def test_exit_and_consumption_measures_are_informational_other_only() -> None:
    for name in (NATIONAL, SUPPLEMENTARY):
        for m in _load(name).measures:
            if m.range_item == "42.9" or m.range_item.startswith("42.10."):
                assert m.scenarios == ("other",), m.measure_id


def test_each_measure_is_attached_to_its_own_art27_family() -> None:
    family_of_item = {
        "42.3": {ScenarioFamily.PROCUREMENT},
        "42.4": {ScenarioFamily.FUNDING},
        "42.5": {ScenarioFamily.HONOURS},
        "42.6": {ScenarioFamily.QUALIFICATION},
        "42.7": {ScenarioFamily.PERSONNEL},
        "42.8": {ScenarioFamily.ELECTION},
        "40.2": {ScenarioFamily.PROCUREMENT},
        "40.3": {ScenarioFamily.FUNDING},
        "40.4": {ScenarioFamily.HONOURS},
        "41.1": {ScenarioFamily.ADMINISTRATION},
    }
    catalog = Catalog.load([LISTS])
    for lst in catalog.lists:
        for m in lst.measures:
            expected = family_of_item.get(m.range_item)
            if expected is None:
                continue
            families = {Scenario.parse(s).family for s in m.scenarios if s in set(Scenario)}
            families |= {ScenarioFamily(s) for s in m.scenarios if s in set(ScenarioFamily)}
            assert families == expected, m.measure_id


def test_commitment_restrictions_follow_art28() -> None:
    lst = _load(RESTRICTION)
    no_commitment = [m for m in _by_item(lst, "41.1") if "承诺制" in m.title]
    grounds = {g for m in no_commitment for g in m.triggers.grounds}
    assert {Ground.SEVERE_DISHONESTY, Ground.FALSE_COMMITMENT} <= grounds
    # General dishonesty also restricts, but only where the conduct is related.
    general = [m for m in lst.measures if Ground.DISHONESTY in m.triggers.grounds]
    assert general
    assert any(m.triggers.categories for m in general)


def test_the_incentive_sample_has_points_and_a_voluntary_financial_measure() -> None:
    lst = _load(INCENTIVE)
    points = [m for m in lst.measures if Ground.INTEGRITY_POINTS in m.triggers.grounds]
    assert points
    for m in points:
        assert m.triggers.min_points is not None
        assert m.triggers.min_points > 0
        assert m.target.subject_kinds == (SubjectKind.NATURAL_PERSON,)
    financial = [m for m in lst.measures if m.implementing_body.type == "financial_institution"]
    assert financial
    assert all(m.voluntary for m in financial)
    assert any("信贷" in m.title for m in financial)
    red = {m.range_item for m in lst.measures if Ground.RED_LIST in m.triggers.grounds}
    assert {"40.1", "40.2", "40.3"} <= red


def test_no_list_restricts_on_integrity_points() -> None:
    for name in LIST_FILES:
        for m in _load(name).measures:
            if m.kind is not MeasureKind.INCENTIVE:
                assert Ground.INTEGRITY_POINTS not in m.triggers.grounds
                assert m.triggers.min_points is None


def test_lists_use_the_shared_vocabulary() -> None:
    for name in LIST_FILES:
        for m in _load(name).measures:
            assert set(m.triggers.categories or ()) <= CATEGORIES, m.measure_id
            assert set(m.triggers.domains or ()) <= DOMAINS, m.measure_id


# --- negative tests: a tampered copy of a shipped list must fail --------------------------------


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(measure: dict[str, Any]) -> None:
        node = measure
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return apply


def _delete(key: str) -> Callable[[dict[str, Any]], None]:
    def apply(measure: dict[str, Any]) -> None:
        del measure[key]

    return apply


def _add_ground(ground: str) -> Callable[[dict[str, Any]], None]:
    def apply(measure: dict[str, Any]) -> None:
        measure["triggers"]["grounds"].append(ground)

    return apply


def _add_roles(*roles: str) -> Callable[[dict[str, Any]], None]:
    def apply(measure: dict[str, Any]) -> None:
        measure["target"]["roles"] = ["subject", *roles]

    return apply


# (case id, list file, measure id, tampering, rule, words the message must contain)
TAMPERINGS = [
    ("no-title", SUPPLEMENTARY, "HLJ-SUP-42.3-01", _set(("title",), ""), "Art.39", "措施"),
    ("title-blank", SUPPLEMENTARY, "HLJ-SUP-42.3-01", _set(("title",), "   "), "Art.39", "措施"),
    ("no-content", RESTRICTION, "HLJ-RES-41.1-01", _delete("content"), "Art.39", "内容"),
    (
        "no-target",
        INCENTIVE,
        "HLJ-INC-40.2-01",
        _set(("target", "description"), ""),
        "Art.39",
        "对象",
    ),
    ("no-basis", NATIONAL, "CN-BASIC-2021-01", _set(("legal_basis",), []), "Art.39", "设定依据"),
    ("blank-basis", NATIONAL, "CN-BASIC-2021-01", _set(("legal_basis",), [" "]), "Art.39", "依据"),
    (
        "no-body",
        SUPPLEMENTARY,
        "HLJ-SUP-42.7-01",
        _set(("implementing_body", "name"), ""),
        "Art.39",
        "实施主体",
    ),
    ("art40-range", INCENTIVE, "HLJ-INC-40.6-01", _set(("range_item",), "40.7"), "Art.40", "40.7"),
    (
        "art41-range",
        RESTRICTION,
        "HLJ-RES-41.3-01",
        _set(("range_item",), "41.4"),
        "Art.41",
        "41.4",
    ),
    (
        "art42-range",
        SUPPLEMENTARY,
        "HLJ-SUP-42.11-01",
        _set(("range_item",), "42.12"),
        "Art.42",
        "42.12",
    ),
    (
        "art42-subitem",
        SUPPLEMENTARY,
        "HLJ-SUP-42.10.9-01",
        _set(("range_item",), "42.10.10"),
        "Art.42",
        "42.10.10",
    ),
    (
        "art42-on-41",
        SUPPLEMENTARY,
        "HLJ-SUP-42.1-01",
        _set(("range_item",), "41.1"),
        "Art.42",
        "41.1",
    ),
    (
        "points-restriction",
        RESTRICTION,
        "HLJ-RES-41.1-03",
        _add_ground("integrity_points"),
        "Art.47",
        "integrity points",
    ),
    (
        "points-threshold-punishment",
        SUPPLEMENTARY,
        "HLJ-SUP-42.5-02",
        _set(("triggers", "min_points"), 600),
        "Art.47",
        "integrity points",
    ),
    (
        "forced-bank",
        NATIONAL,
        "CN-BASIC-2021-18",
        _set(("voluntary",), False),
        "Art.48",
        "financial_institution",
    ),
    (
        "forced-credit-agency",
        NATIONAL,
        "CN-BASIC-2021-19",
        _set(("voluntary",), False),
        "Art.48",
        "credit_service_agency",
    ),
    (
        "forced-bank-incentive",
        INCENTIVE,
        "HLJ-INC-40.6-02",
        _delete("voluntary"),
        "Art.48",
        "voluntary",
    ),
    (
        "linked-roles-on-incentive",
        INCENTIVE,
        "HLJ-INC-40.4-01",
        _add_roles("legal_representative"),
        "Art.45",
        "linked roles",
    ),
    (
        "linked-roles-without-severe-listing",
        SUPPLEMENTARY,
        "HLJ-SUP-42.5-02",
        _add_roles("actual_controller"),
        "Art.45",
        "severe",
    ),
]


@pytest.mark.parametrize(
    ("name", "measure_id", "tamper", "rule", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in TAMPERINGS],
)
def test_a_tampered_list_fails_naming_list_measure_and_rule(
    tmp_path: Path,
    name: str,
    measure_id: str,
    tamper: Callable[[dict[str, Any]], None],
    rule: str,
    words: str,
) -> None:
    raw = _raw(name)
    tamper(_measure(raw, measure_id))
    raw["sha256"] = content_sha256(raw)  # a well-declared file: only the tampered rule fails
    path = tmp_path / name
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        MeasureList.load(path)
    err = info.value
    assert (err.list_id, err.measure_id, err.rule) == (LIST_FILES[name], measure_id, rule)
    message = str(err)
    for part in (LIST_FILES[name], measure_id, rule, words):
        assert part in message
    # The same failure surfaces when the file is loaded as part of a catalog directory.
    with pytest.raises(CatalogError, match=re.escape(measure_id)):
        Catalog.load([tmp_path])


def test_the_untampered_copy_loads(tmp_path: Path) -> None:
    # Guards the negative tests: the copy mechanism itself does not break a list.
    for name in LIST_FILES:
        (tmp_path / name).write_text(json.dumps(_raw(name), ensure_ascii=False), "utf-8")
    assert len(Catalog.load([tmp_path])) == len(Catalog.load([LISTS]))


def test_a_duplicate_measure_id_fails() -> None:
    raw = _raw(RESTRICTION)
    raw["measures"].append(copy.deepcopy(raw["measures"][2]))
    raw.pop("sha256")
    with pytest.raises(CatalogError) as info:
        MeasureList.from_json(json.dumps(raw, ensure_ascii=False), source=RESTRICTION)
    err = info.value
    assert (err.list_id, err.measure_id, err.rule) == (
        "hlj-restriction-sample",
        "HLJ-RES-41.1-03",
        "unique_id",
    )
    assert "HLJ-RES-41.1-03" in str(err)
    assert "hlj-restriction-sample" in str(err)


def test_a_measure_of_the_wrong_kind_fails() -> None:
    raw = _raw(RESTRICTION)
    _measure(raw, "HLJ-RES-41.2-01")["kind"] = "incentive"
    raw.pop("sha256")
    with pytest.raises(CatalogError, match=r"HLJ-RES-41\.2-01.*rule kind") as info:
        MeasureList.from_json(raw)
    assert info.value.measure_id == "HLJ-RES-41.2-01"


def test_an_unpublished_measure_fails_art39() -> None:
    # A list without publication data fails at the schema level, naming the list and the field.
    raw = _raw(INCENTIVE)
    del raw["publication"]
    raw.pop("sha256")
    with pytest.raises(CatalogError, match="publication") as info:
        MeasureList.from_json(raw, source=INCENTIVE)
    assert info.value.list_id == "hlj-incentive-sample"
    assert info.value.rule == "schema"
    # The Art. 39 rule itself: neither the measure nor its list carries a publication.
    unpublished = _load(INCENTIVE).model_copy(update={"publication": None})
    with pytest.raises(CatalogError) as info2:
        validate_list(unpublished)
    err = info2.value
    assert (err.list_id, err.measure_id, err.rule) == (
        "hlj-incentive-sample",
        "HLJ-INC-40.1-01",
        "Art.39",
    )
    assert "未向社会公布" in str(err)


def test_a_declared_sha256_that_does_not_match_fails(tmp_path: Path) -> None:
    raw = _raw(SUPPLEMENTARY)
    _measure(raw, "HLJ-SUP-42.3-03")["score_adjustment"] = -30.0  # declared digest left as is
    path = tmp_path / SUPPLEMENTARY
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        MeasureList.load(path)
    err = info.value
    assert (err.list_id, err.rule) == ("hlj-supplementary-punishment-sample", "integrity")
    assert "sha256" in str(err)
    assert "hlj-supplementary-punishment-sample" in str(err)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(None, id="truncated"),
        pytest.param("[1, 2, 3]", id="not-an-object"),
        pytest.param("", id="empty"),
    ],
)
def test_a_file_that_is_not_a_json_list_fails(tmp_path: Path, text: str | None) -> None:
    path = tmp_path / "broken-list.json"
    if text is None:
        text = (LISTS / NATIONAL).read_text(encoding="utf-8")[:500]
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        MeasureList.load(path)
    assert info.value.rule == "format"
    assert "broken-list.json" in str(info.value)
    with pytest.raises(CatalogError, match=re.escape("broken-list.json")):
        Catalog.load([tmp_path])


def test_loading_the_same_edition_twice_fails() -> None:
    with pytest.raises(CatalogError, match="loaded twice") as info:
        Catalog.load([LISTS / INCENTIVE, LISTS / INCENTIVE])
    assert info.value.list_id == "hlj-incentive-sample"


def test_a_new_edition_diffs_against_the_shipped_one() -> None:
    old = _load(INCENTIVE)
    raw = _raw(INCENTIVE)
    raw.pop("sha256")
    raw["version"] = "sample-2026.2"
    raw["effective_from"] = "2026-07-01"
    _measure(raw, "HLJ-INC-40.2-01")["score_adjustment"] = 1.0
    raw["measures"] = [m for m in raw["measures"] if m["measure_id"] != "HLJ-INC-40.5-01"]
    new = MeasureList.from_json(raw)
    diff = diff_lists(old, new)
    assert diff.removed == ("HLJ-INC-40.5-01",)
    assert diff.added == ()
    assert diff.changed == (("HLJ-INC-40.2-01", ("score_adjustment",)),)
    catalog = Catalog((old, new))
    assert ("hlj-incentive-sample", "sample-2026.2") in catalog.editions_in_force(AS_OF)
    assert ("hlj-incentive-sample", "sample-2026.1") in catalog.editions_in_force(
        dt.date(2026, 3, 1)
    )


# --- sample reports ---------------------------------------------------------------------------


def test_the_report_directory_holds_one_sample_per_state() -> None:
    assert {p.stem for p in REPORTS.glob("*.json")} == REPORT_STATES


@pytest.mark.parametrize("state", sorted(REPORT_STATES))
def test_every_sample_report_parses_and_is_marked_as_sample(state: str) -> None:
    raw = _report_json(state)
    assert raw["_sample"] == SAMPLE_MARKER
    report = _report(state)
    assert report.report_id.startswith("RPT-SAMPLE-")
    assert CreditReport.parse(json.dumps(raw, ensure_ascii=False)) == report
    assert sample_report_path(state) == REPORTS / f"{state}.json"
    assert report.generated_at.date() == AS_OF


@pytest.mark.parametrize("state", sorted(REPORT_STATES))
def test_sample_report_dates_are_not_after_the_demo_date(state: str) -> None:
    past_keys = {
        "finding_date",
        "issued_on",
        "effective_on",
        "listed_on",
        "removed_on",
        "status_changed_on",
        "filed_on",
        "labelled_on",
        "made_on",
        "found_on",
        "evaluated_on",
        "since",
        "assessed_on",
    }
    for key, value in _walk(_report_json(state)):
        if key in past_keys and value is not None:
            assert dt.date.fromisoformat(value) <= AS_OF, (state, key)


def test_sample_reports_use_the_shared_vocabulary() -> None:
    for state in REPORT_STATES:
        for key, value in _walk(_report_json(state)):
            if key == "category":
                assert value in CATEGORIES, (state, value)
        for rec in _report_json(state).get("records", []):
            assert rec["category"] in CATALOGUE_CATEGORIES, (state, rec["record_id"])
            if key == "domain" and value is not None:
                assert value in DOMAINS, (state, value)


def _identifiers(raw: dict[str, Any]) -> list[str]:
    found = [raw["subject"]["identifier"]]
    found += [party["organisation"] for party in raw.get("linked_parties", [])]
    return found


def test_sample_identifiers_are_synthetic_heilongjiang_numbers() -> None:
    subjects: dict[str, str] = {}
    for state in REPORT_STATES:
        raw = _report_json(state)
        for number in _identifiers(raw):
            assert number not in PUBLIC_SAMPLE_IDENTIFIERS, state
            ident = parse_identifier(number, today=AS_OF)
            # Harbin numbers: none of the published test vectors is from Heilongjiang (23).
            assert ident.region_code.startswith("2301"), state  # type: ignore[union-attr]
            if ident.kind is IdentifierKind.USCC:
                assert number[:2] in {"91", "92", "93"}, state
        name = raw["subject"]["name"]
        assert "示例" in name, state
        subjects.setdefault(raw["subject"]["identifier"], name)
        assert subjects[raw["subject"]["identifier"]] == name  # one identifier, one subject


def test_prohibited_fields_are_dropped_and_flagged() -> None:
    raw = _report_json("prohibited_fields")
    assert {"religion", "blood_type"} <= set(raw["subject"])
    assert "income" in raw["records"][0]
    report = _report("prohibited_fields")
    assert set(report.prohibited_fields_dropped) == {
        "$.subject.religion",
        "$.subject.blood_type",
        "$.records[0].income",
    }
    dumped = json.dumps(
        report.model_dump(mode="json", exclude={"prohibited_fields_dropped"}), ensure_ascii=False
    )
    for banned in ("religion", "blood_type", "income", "96000", "SAMPLE VALUE"):
        assert banned not in dumped
    # A platform cannot pre-fill the flag: it is always recomputed.
    raw["prohibited_fields_dropped"] = []
    assert len(CreditReport.model_validate(raw).prohibited_fields_dropped) == 3
    # The other samples carry no prohibited field.
    for state in REPORT_STATES - {"prohibited_fields"}:
        assert _report(state).prohibited_fields_dropped == (), state


# --- each sample shows the state it is named after ----------------------------------------------


def test_severe_list_sample() -> None:
    report = _report("severe_list")
    (membership,) = report.list_memberships
    assert membership.list_type is ListType.SEVERE_DISHONESTY
    assert membership.status is MembershipStatus.ACTIVE
    assert membership.decision is not None
    assert membership.decision.effective_at(AS_OF)
    assert membership.decision.kind.value == "severe_list_decision"
    (record,) = report.records
    assert (record.kind, record.category, record.domain) == (
        RecordKind.SEVERE_DISHONESTY,
        "bid_rigging",
        "procurement",
    )
    assert record.basis is not None
    assert record.basis.effective_at(AS_OF)
    assert record.record_id in membership.record_ids


def test_judgment_defaulter_sample() -> None:
    report = _report("judgment_defaulter")
    assert report.subject.kind is SubjectKind.NATURAL_PERSON
    (membership,) = report.list_memberships
    assert membership.list_type is ListType.JUDGMENT_DEFAULTER
    assert membership.decision is not None
    assert membership.decision.kind.value == "court_defaulter_decision"
    assert membership.decision.effective_at(AS_OF)
    assert "人民法院" in membership.listing_body
    assert membership.term_end is not None
    assert membership.term_end > AS_OF


def test_general_dishonesty_and_expired_samples() -> None:
    (recent,) = _report("general_dishonesty").records
    (old,) = _report("expired").records
    for record in (recent, old):
        assert record.kind is RecordKind.DISHONESTY
        assert record.category == "false_materials"
        assert record.status is RecordStatus.ACTIVE  # expiry is computed, never trusted
        assert record.basis is not None
        assert record.basis.effective_at(AS_OF)
        assert record.penalty is not None
        assert not record.penalty.excluded_by_art19
    assert (AS_OF - recent.finding_date).days < 365
    assert 3.8 * 365 < (AS_OF - old.finding_date).days < 4.2 * 365


def test_repaired_revoked_and_disputed_samples() -> None:
    (repaired,) = _report("repaired").records
    assert repaired.status is RecordStatus.REPAIRED
    assert repaired.status_changed_on is not None
    (removed,) = _report("repaired").list_memberships
    assert removed.status is MembershipStatus.REMOVED
    assert removed.removal_reason is not None
    assert removed.removal_reason.value == "repaired"
    (revoked,) = _report("revoked").records
    assert revoked.status is RecordStatus.REVOKED
    assert revoked.status_changed_on is not None
    disputed = _report("disputed")
    (record,) = disputed.records
    assert record.kind is RecordKind.SEVERE_DISHONESTY
    assert record.objection is not None
    assert record.objection.pending_at(AS_OF)
    assert record.objection.status is ObjectionStatus.PENDING
    (membership,) = disputed.list_memberships
    assert membership.status is MembershipStatus.ACTIVE
    assert record.record_id in membership.record_ids


def test_red_list_sample() -> None:
    report = _report("red_list")
    (membership,) = report.list_memberships
    assert membership.list_type is ListType.RED_LIST
    assert membership.status is MembershipStatus.ACTIVE
    assert any(r.kind is RecordKind.COMMENDATION for r in report.records)
    (evaluation,) = report.evaluations
    assert evaluation.risk_level is RiskLevel.LOW
    assert evaluation.valid_at(AS_OF)


def test_linked_person_sample_points_at_the_severe_list_company() -> None:
    report = _report("linked_person")
    company = _report("severe_list")
    assert report.subject.kind is SubjectKind.NATURAL_PERSON
    assert not report.records
    assert not report.list_memberships
    (party,) = report.linked_parties
    assert party.organisation == company.subject.identifier
    assert party.role.value == "legal_representative"
    assert party.memberships == company.list_memberships
    assert party.held_during(company.list_memberships[0].listed_on, AS_OF)


def test_false_commitment_clean_and_minor_samples() -> None:
    (commitment,) = _report("false_commitment").commitments
    assert commitment.status is CommitmentStatus.FALSE
    assert commitment.repaired_on is None
    clean = _report("clean")
    assert not clean.list_memberships
    assert not clean.commitments
    assert all(r.kind is RecordKind.ADMINISTRATIVE for r in clean.records)
    (minor,) = _report("minor_penalty").records
    assert minor.penalty is not None
    assert minor.penalty.procedure == "simple"
    assert minor.penalty.excluded_by_art19
    (corrected,) = _report("minor_corrected").records
    assert corrected.minor_and_corrected
    assert corrected.kind is RecordKind.DISHONESTY
    assert corrected.penalty is None  # Art. 43 ¶2, not the Art. 19 exclusion, applies


# --- data that says no more than its sources (issue 8 §4) ---------------------------------------

_GPL = "政府采购法"
_TBL = "招标投标法"
_TENDERING = {Scenario.BIDDING, Scenario.PUBLIC_RESOURCE_TRADING}


def test_official_editions_take_effect_on_their_sourced_publication_date() -> None:
    """An edition's effective_from is its publication date; where the source gives only the
    month, the provenance says so and the earliest day of it is used, never an invented day."""
    for lst in Catalog.default().lists:
        if lst.provenance.status == "sample":
            continue
        assert lst.effective_from == lst.publication.date, lst.list_id
        if lst.effective_from.day == 1:
            assert "earliest day" in lst.provenance.statement, lst.list_id


def test_tendering_measures_do_not_rest_on_the_government_procurement_law() -> None:
    """The Government Procurement Law governs government procurement; works tendering and
    public-resource trading need another basis (the Tendering and Bidding Law, or the
    province's own)."""
    for lst in Catalog.default().lists:
        for m in lst.measures:
            scenarios = _expand_scenarios(m.scenarios)
            cites_gpl = any(_GPL in b for b in m.legal_basis)
            cites_tbl = any(_TBL in b for b in m.legal_basis)
            if scenarios & _TENDERING and cites_gpl:
                assert cites_tbl, m.measure_id
            if Scenario.GOVERNMENT_PROCUREMENT in scenarios and cites_tbl:
                assert cites_gpl, m.measure_id


def test_national_rows_fire_only_on_the_conduct_they_name() -> None:
    national = Catalog.default().get("cn-basic-punishment-2021-partial")
    rows = {m.measure_id: m for m in national.measures}
    procurement = rows["CN-BASIC-2021-04"].triggers.categories
    assert procurement is not None
    assert set(procurement) <= {"procurement_fraud", "false_materials", "bid_rigging", "bribery"}
    bidding = rows["CN-BASIC-2021-02"].triggers.categories
    assert bidding is not None
    assert set(bidding) <= {"bid_rigging", "bribery", "bid_fraud", "contract_fraud"}


def test_art_44_interview_carries_its_narrower_target() -> None:
    supplementary = Catalog.default().get("hlj-supplementary-punishment-sample")
    interview = next(m for m in supplementary.measures if m.measure_id == "HLJ-SUP-42.1-01")
    assert interview.target.entity_types is not None
    assert {t.value for t in interview.target.entity_types} == {
        "state_organ",
        "public_institution",
        "state_owned_enterprise",
        "large_enterprise",
    }
