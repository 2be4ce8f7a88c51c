"""What a case officer and a host system read: ``Decision.explain()`` and ``Decision.to_dict()``.

``explain()`` keeps the regulation's terms - 设定依据 (legal basis), 实施主体 (implementing body),
the published measure titles, 信用承诺制, 分级分类监管 - and lists everything left out with its
reason code (nothing is filtered silently). ``to_dict()`` is plain JSON and carries
no raw identifier or personal name (Art. 24 ¶3).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from credit_sdk import Decision, Scenario
from credit_sdk._labels import REASON_LABELS
from tests.legal.builders import (
    COMPANY_NAME,
    OTHER_COMPANY,
    PERSON_NAME,
    check,
    linked_party,
    penalty,
    record,
    report,
    resident_id,
    severe_listing,
    severe_record,
    uscc,
)


def _mixed_company() -> Decision:
    """A severe-list supplier with an expired record, a simple-procedure penalty, neutral
    information and a record under objection, checked at a procurement."""
    rep = report(
        records=[
            severe_record(),
            record("R-OLD", category="bid_rigging", finding_date="2024-01-10"),
            record("R-SIMPLE", penalty=penalty("simple")),
            record("R-REG", kind="administrative", category="registration"),
            record("R-TAX", category="tax_arrears"),
        ],
        memberships=[severe_listing()],
    )
    return check(rep, Scenario.GOVERNMENT_PROCUREMENT)


def _linked_person() -> Decision:
    rep = report(person=True, linked_parties=[linked_party([severe_listing()])])
    return check(rep, Scenario.QUALIFICATION_REVIEW)


def test_explain_keeps_the_chinese_legal_terms() -> None:
    decision = _mixed_company()
    text = decision.explain()
    for term in ("设定依据", "实施主体", "信用承诺制", "分级分类监管", "政府采购", "结论"):
        assert term in text
    for m in decision.restrictions:
        assert m.title in text
        assert m.implementing_body in text
        for basis in m.legal_basis:
            assert basis in text
    assert "Art. 42(3)" in text
    assert "Art. 27(2)" in text


def test_explain_shows_every_exclusion_with_its_code() -> None:
    decision = _mixed_company()
    text = decision.explain()
    assert "未适用 Left out" in text
    codes = {e.reason.value for e in decision.exclusions}
    assert {"RECORD_EXPIRED", "EXCLUDED_MINOR_PENALTY", "INFORMATION_ONLY", "NOT_RELATED"} <= codes
    lines = text.splitlines()
    for e in decision.exclusions:
        zh = REASON_LABELS[e.reason.value][0]
        wanted = [f"- {zh}", f"[{e.reason.value}]:", *(x for x in (e.item_id, e.measure_id) if x)]
        assert any(all(w in line for w in wanted) for line in lines), e


def test_explain_shows_advisories() -> None:
    rep = report(records=[record("R1", publication_period_months=30)])
    text = check(rep, Scenario.ADMIN_LICENSING).explain()
    assert "提示 Advisories" in text
    assert "PERIOD_OUT_OF_RANGE" in text


def test_explain_names_the_linked_role_and_masks_the_organisation() -> None:
    text = _linked_person().explain()
    assert "法定代表人 legal representative" in text
    assert uscc(OTHER_COMPANY) not in text
    assert resident_id() not in text


@pytest.mark.parametrize("make", [_mixed_company, _linked_person], ids=["company", "person"])
def test_to_dict_is_plain_json_without_identifiers_or_names(make: Callable[[], Decision]) -> None:
    decision = make()
    data = decision.to_dict()
    text = json.dumps(data, ensure_ascii=False)  # no default=: plain JSON types only
    assert json.loads(text) == data
    for secret in (uscc(), uscc(OTHER_COMPANY), resident_id(), PERSON_NAME, COMPANY_NAME):
        assert secret not in text
    assert data["subject"] == decision.subject
    assert data["outcome"] == decision.outcome.value


def test_to_dict_carries_measures_reasons_and_provenance() -> None:
    decision = _mixed_company()
    data = decision.to_dict()
    assert data["outcome"] == "RESTRICTED"
    assert {m["range_item"] for m in data["restrictions"]} >= {"42.3"}
    for m in data["restrictions"]:
        assert m["legal_basis"]
        assert m["implementing_body"]
        assert m["triggered_by"]
    assert {e["reason"] for e in data["exclusions"]} == {
        e.reason.value for e in decision.exclusions
    }
    assert data["commitment_eligible"] is False
    assert data["commitment_reason"] == "SEVERE_DISHONESTY"
    assert data["supervision"]["tier"] == "high"
    provenance = data["provenance"]
    assert provenance["as_of"] == "2026-11-29"
    assert provenance["policy_profile"] == "hlj-draft-2021"
    assert provenance["lists"]
    assert all(len(lst["sha256"]) == 64 for lst in provenance["lists"])
