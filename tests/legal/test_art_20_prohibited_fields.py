"""Art. 20 (and Art. 24 ¶3): prohibited data is never kept; personal fields are desensitised.

禁止采集自然人的宗教信仰、血型信息，疾病、病史信息，指纹、基因等生物识别信息 (Art. 20 ¶4); income,
deposits, securities, commercial insurance, real estate and tax amounts only with written consent
(Art. 20 ¶2). Whatever a platform sends, those fields are dropped while parsing, at any depth,
and the decision says so (``PROHIBITED_FIELDS_DROPPED``), naming paths, never values. Names are
personal information (Art. 24 ¶3): masked in every form the SDK returns.
"""

from __future__ import annotations

import json
from typing import Any

from credit_sdk import CreditReport, Outcome, Scenario, shown
from tests.legal.builders import (
    PERSON_NAME,
    advisory_codes,
    check,
    commendation,
    linked_party,
    record,
    report,
    resident_id,
    severe_listing,
)

# Values that must not survive anywhere (they would be visible if they did).
SECRET_VALUES = ("SECRET-RELIGION", "SECRET-GENOME", "SECRET-DIAGNOSIS", "987654")


def _tainted() -> dict[str, Any]:
    """A platform answer that carries prohibited fields at several depths."""
    rec = record("R1", category="false_materials")
    rec["income"] = 987654  # 收入 (¶2)
    rec["basis"]["fingerprint"] = "SECRET-GENOME"  # 生物识别信息, two levels down
    listing = severe_listing()
    listing["medical_history"] = "SECRET-DIAGNOSIS"  # 病史, inside a linked party's listing
    return {
        "report_id": "legal-test-art20",
        "generated_at": "2026-11-29T09:00:00+08:00",
        "subject": {
            "kind": "natural_person",
            "identifier": resident_id(),
            "name": PERSON_NAME,
            "Religion": "SECRET-RELIGION",  # 宗教信仰, any spelling
            "blood-type": "O",  # 血型
        },
        "records": [rec],
        "linked_parties": [linked_party([listing])],
        "integrity_points": {
            "scheme": "示例市民诚信积分",
            "score": 820,
            "assessed_on": "2026-10-01",
            "taxAmount": 12345,  # 纳税数额
        },
    }


def test_prohibited_fields_dropped_at_any_depth() -> None:
    rep = CreditReport.parse(_tainted())
    assert set(rep.prohibited_fields_dropped) == {
        "$.subject.Religion",
        "$.subject.blood-type",
        "$.records[0].income",
        "$.records[0].basis.fingerprint",
        "$.linked_parties[0].memberships[0].medical_history",
        "$.integrity_points.taxAmount",
    }
    kept = rep.model_dump_json()
    for value in SECRET_VALUES:
        assert value not in kept


def test_decision_flags_the_dropped_fields_by_path_only() -> None:
    decision = check(CreditReport.parse(_tainted()), Scenario.ADMIN_LICENSING)
    assert "PROHIBITED_FIELDS_DROPPED" in advisory_codes(decision)
    (advisory,) = [a for a in decision.advisories if a.code.value == "PROHIBITED_FIELDS_DROPPED"]
    assert "$.subject.Religion" in advisory.message
    assert "Art. 20" in advisory.message
    assert "禁止采集的信息（Art. 20）：$.subject.Religion" in shown(advisory.message, "zh")
    rendered = json.dumps(decision.to_dict(), ensure_ascii=False) + decision.explain()
    for value in SECRET_VALUES:
        assert value not in rendered


def test_dropping_fields_changes_no_measure() -> None:
    tainted = check(CreditReport.parse(_tainted()), Scenario.ADMIN_LICENSING)
    clean_data = _tainted()
    del clean_data["subject"]["Religion"], clean_data["subject"]["blood-type"]
    del clean_data["records"][0]["income"], clean_data["records"][0]["basis"]["fingerprint"]
    del clean_data["linked_parties"][0]["memberships"][0]["medical_history"]
    del clean_data["integrity_points"]["taxAmount"]
    clean = check(CreditReport.parse(clean_data), Scenario.ADMIN_LICENSING)
    assert tainted.outcome is clean.outcome
    assert tainted.outcome is Outcome.RESTRICTED
    assert tainted.applied_measure_ids == clean.applied_measure_ids
    assert "PROHIBITED_FIELDS_DROPPED" not in advisory_codes(clean)


def test_platform_cannot_forge_the_dropped_list() -> None:
    """``prohibited_fields_dropped`` is computed by the SDK, never taken from the platform."""
    rep = report(records=[commendation()], prohibited_fields_dropped=["$.nothing"])
    assert rep.prohibited_fields_dropped == ()
    assert "PROHIBITED_FIELDS_DROPPED" not in advisory_codes(check(rep, Scenario.AWARDS))


def test_personal_name_is_masked_in_every_form() -> None:
    rep = report(person=True, records=[commendation()])
    assert rep.subject.name is not None
    assert str(rep.subject.name) == "张**"
    assert rep.subject.name.reveal() == PERSON_NAME
    assert PERSON_NAME not in repr(rep)
    assert PERSON_NAME not in rep.model_dump_json()
    assert PERSON_NAME not in json.dumps(rep.model_dump(mode="json"), ensure_ascii=False)
    decision = check(rep, Scenario.AWARDS)
    assert decision.outcome is Outcome.INCENTIVES
    assert PERSON_NAME not in repr(decision)
    assert PERSON_NAME not in json.dumps(decision.to_dict(), ensure_ascii=False)
    assert PERSON_NAME not in decision.explain()
