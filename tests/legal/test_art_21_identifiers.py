"""Art. 21: natural persons are matched by resident ID number (else passport or another valid
certificate); legal persons and unincorporated organisations by their USCC (统一社会信用代码).

A report whose subject kind does not fit its identifier kind is rejected before any decision,
with a :class:`ReportError` that names the rule (Art. 21) and never echoes the number. A
decision carries the subject only in masked form.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from credit_sdk import CreditReport, IdentifierKind, Outcome, ReportError, Scenario
from tests.legal.builders import check, resident_id, severe_listing, uscc


def _report(kind: str, identifier: str) -> dict[str, Any]:
    return {
        "report_id": "legal-test-art21",
        "generated_at": "2026-11-29T09:00:00+08:00",
        "subject": {"kind": kind, "identifier": identifier},
        "list_memberships": [severe_listing()],
    }


@pytest.mark.parametrize(
    ("kind", "identifier", "rule_text"),
    [
        ("natural_person", uscc(), "natural person is identified by an ID number"),
        ("legal_person", resident_id(), "organisations are identified by their USCC"),
        ("unincorporated_organisation", resident_id(), "organisations are identified by"),
        ("legal_person", "passport:E12345678", "organisations are identified by their USCC"),
    ],
)
def test_subject_kind_must_fit_identifier_kind(kind: str, identifier: str, rule_text: str) -> None:
    with pytest.raises(ReportError, match=r"Art\. 21") as info:
        CreditReport.parse(_report(kind, identifier))
    message = str(info.value)
    assert rule_text in message
    assert identifier not in message


@pytest.mark.parametrize(
    ("kind", "identifier", "expected_kind"),
    [
        ("natural_person", resident_id(), IdentifierKind.RESIDENT_ID),
        ("natural_person", "passport:E12345678", IdentifierKind.OTHER),  # 护照等其他有效身份证件
        ("legal_person", uscc(), IdentifierKind.USCC),
        ("unincorporated_organisation", uscc(), IdentifierKind.USCC),
        # 个体工商户: a natural person in civil law trading under a registered code (92...)
        ("natural_person", uscc("92230100MA1C2X3Y4"), IdentifierKind.USCC),
    ],
)
def test_fitting_identifiers_are_accepted(
    kind: str, identifier: str, expected_kind: IdentifierKind
) -> None:
    rep = CreditReport.parse(_report(kind, identifier))
    assert rep.subject.identifier.kind is expected_kind


def test_bad_check_character_is_rejected_without_echoing_the_number() -> None:
    good = uscc()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ReportError, match="check character") as info:
        CreditReport.parse(_report("legal_person", bad))
    assert bad not in str(info.value)


@pytest.mark.parametrize(
    ("kind", "identifier"),
    [
        ("legal_person", uscc()),
        ("natural_person", resident_id()),
        ("natural_person", "passport:E12345678"),
    ],
)
def test_decision_carries_the_subject_masked_only(kind: str, identifier: str) -> None:
    rep = CreditReport.parse(_report(kind, identifier))
    decision = check(rep, Scenario.GOVERNMENT_PROCUREMENT)
    assert decision.outcome is Outcome.RESTRICTED
    assert decision.subject == rep.subject.identifier.masked
    assert decision.subject_kind == kind
    raw = rep.subject.identifier.reveal().split(":")[-1]  # the bare number, without its type
    assert "*" in decision.subject
    assert raw not in decision.subject
    assert raw not in json.dumps(decision.to_dict(), ensure_ascii=False)
    assert raw not in decision.explain()
    assert raw not in repr(decision)
