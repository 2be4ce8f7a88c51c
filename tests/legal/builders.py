"""Builders for article-by-article legal tests: reports in the regulation's own terms.

Tests build the smallest report that shows a rule, and decide it against the shipped catalog
and the draft regulation's profile on ``AS_OF`` unless they say otherwise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from credit_sdk import CreditReport, Decision, Scenario, decide
from credit_sdk._identifiers import compute_resident_check, compute_uscc_check

AS_OF = dt.date(2026, 11, 29)

COMPANY = "91230100MA1C2X3Y4"
PERSON = "23010319850612001"


def uscc(body: str = COMPANY) -> str:
    return body + compute_uscc_check(body)


def resident_id(body: str = PERSON) -> str:
    return body + compute_resident_check(body)


def basis(
    kind: str = "administrative_penalty_decision",
    issued_on: str = "2026-05-01",
    effective: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "number": "哈示例罚〔2026〕118号",
        "issuer": "哈尔滨市示例局",
        "issued_on": issued_on,
        "effective": effective,
        **extra,
    }


def record(
    record_id: str = "R1",
    kind: str = "dishonesty",
    category: str = "false_materials",
    finding_date: str = "2026-05-01",
    **extra: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "record_id": record_id,
        "kind": kind,
        "category": category,
        "finding_date": finding_date,
        "basis": basis(issued_on=finding_date),
    }
    data.update(extra)
    return data


def membership(
    membership_id: str = "L1",
    list_type: str = "severe_dishonesty",
    listed_on: str = "2026-03-01",
    category: str = "bid_rigging",
    **extra: Any,
) -> dict[str, Any]:
    kind = {
        "severe_dishonesty": "severe_list_decision",
        "judgment_defaulter": "court_defaulter_decision",
    }.get(list_type)
    data: dict[str, Any] = {
        "membership_id": membership_id,
        "list_type": list_type,
        "listed_on": listed_on,
        "listing_body": "黑龙江省示例认定单位",
        "category": category,
    }
    if kind is not None:
        data["decision"] = basis(kind=kind, issued_on=listed_on)
    data.update(extra)
    return data


def report(
    *,
    person: bool = False,
    records: list[dict[str, Any]] | None = None,
    memberships: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> CreditReport:
    subject = (
        {"kind": "natural_person", "identifier": resident_id(), "name": "张示例"}
        if person
        else {"kind": "legal_person", "identifier": uscc(), "name": "示例建设工程有限公司"}
    )
    return CreditReport.model_validate(
        {
            "report_id": "legal-test",
            "generated_at": "2026-11-29T09:00:00+08:00",
            "subject": subject,
            "records": records or [],
            "list_memberships": memberships or [],
            **extra,
        }
    )


def check(
    rep: CreditReport,
    scenario: Scenario | str,
    as_of: dt.date = AS_OF,
    **kwargs: Any,
) -> Decision:
    return decide(rep, scenario, as_of=as_of, **kwargs)


def range_items(measures: Any) -> set[str]:
    return {m.range_item for m in measures}


def reasons(decision: Decision, item_id: str | None = None) -> set[str]:
    return {e.reason.value for e in decision.exclusions if item_id is None or e.item_id == item_id}
