"""The public credit information catalogue is a foreign document like the measure lists and
the reports (docs/measure-lists.md, CHANGELOG issue 9): decoded within the same bounds, refused
with a `CatalogError` naming the rule, never a decoder's own exception, and never quoting the
catalogue's text (a category or a source that holds a number or a name is not echoed)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from credit_sdk import CatalogError, InformationCatalogue
from credit_sdk._data import DATA_DIR

SHIPPED = json.loads(
    (DATA_DIR / "catalogue" / "hlj-public-credit-information-sample.json").read_text("utf-8")
)
PHONE = "13912345678"
PERSON = "110101199003077778"


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        (b"\xff\xfe{}", "json.utf8"),
        (b"\xef\xbb\xbf{}", "json.bom"),
        ("[" * 100_000 + "]" * 100_000, "json.depth"),
        ('{"catalogue_id": 1, "catalogue_id": 2}', "json.duplicate_key"),
        ('{"version": NaN}', "json.non_finite"),
        ('{"version": ' + "9" * 5000 + "}", "json.number_range"),
    ],
    ids=["not-utf8", "bom", "deep", "duplicate-key", "nan", "huge-int"],
)
def test_a_hostile_document_is_a_catalog_error_naming_the_rule(document: Any, rule: str) -> None:
    with pytest.raises(CatalogError, match=rule):
        InformationCatalogue.from_json(document)


def test_a_deep_mapping_is_refused_too() -> None:
    deep: Any = {}
    for _ in range(200):
        deep = {"a": deep}
    with pytest.raises(CatalogError, match=r"json\.depth"):
        InformationCatalogue.from_json({**SHIPPED, "sources": [deep]})


@pytest.mark.parametrize("data", [5, None, 1.5, ["{}"]], ids=repr)
def test_data_of_a_wrong_type_is_a_type_error_naming_it(data: Any) -> None:
    with pytest.raises(TypeError, match=r"^data must be"):
        InformationCatalogue.from_json(data)


def _refusal(doc: dict[str, Any], source: str = "") -> str:
    with pytest.raises(CatalogError) as caught:
        InformationCatalogue.from_json(json.dumps(doc, ensure_ascii=False), source=source)
    return f"{caught.value} {caught.value!r}"


@pytest.mark.parametrize("planted", [PHONE, PERSON, "张三丰"])
def test_refusals_never_quote_the_catalogues_text(planted: str) -> None:
    twice = copy.deepcopy(SHIPPED)
    twice["entries"][0]["category"] = planted
    twice["entries"].append(copy.deepcopy(twice["entries"][0]))
    assert planted not in _refusal(twice)
    unknown = copy.deepcopy(SHIPPED)
    unknown["entries"][0]["national_category"] = planted
    assert planted not in _refusal(unknown)
    assert planted not in _refusal({"entries": "x"}, source=planted)


def test_a_category_twice_is_named_by_its_position() -> None:
    twice = copy.deepcopy(SHIPPED)
    twice["entries"].append(copy.deepcopy(twice["entries"][0]))
    assert f"entries.{len(twice['entries']) - 1}.category" in _refusal(twice)


@pytest.mark.parametrize("category", [None, 5, [], {}, b"honour"], ids=repr)
def test_a_category_that_is_not_text_is_a_type_error_naming_it(category: Any) -> None:
    catalogue = InformationCatalogue.default()
    with pytest.raises(TypeError, match=r"^category must be str"):
        catalogue.lookup(category)
    with pytest.raises(TypeError, match=r"^category must be str"):
        catalogue.require(category)
    assert category not in catalogue
