"""Builders for article-by-article legal tests: reports in the regulation's own terms.

Tests build the smallest report that shows a rule, and decide it against the shipped catalog
and the draft regulation's profile on ``AS_OF`` unless they say otherwise. Every identifier is
synthetic: a fixed body with its check character computed, never a real person's or company's.

Where a test is about a *mechanism* (publication dates, editions, voluntary flags) rather than
about what the shipped sample lists contain, it builds its own small catalog with
:func:`measure`, :func:`measure_list` and :func:`catalog_of`, so that a colleague adjusting the
shipped lists cannot make it pass or fail by accident.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from credit_sdk import (
    Catalog,
    CreditReport,
    Decision,
    MeasureList,
    PolicyProfile,
    Scenario,
    decide,
    period_last_day,
    sample_report_path,
)
from credit_sdk._identifiers import compute_resident_check, compute_uscc_check

AS_OF = dt.date(2026, 11, 29)

COMPANY = "91230100MA1C2X3Y4"
OTHER_COMPANY = "91230100MA1C2X3Y5"
PERSON = "23010319850612001"
PERSON_NAME = "张示例"
COMPANY_NAME = "示例建设工程有限公司"

# Art. 41 / 42 / 40 range items as the catalog numbers them (42.11 is Art. 42's second "（十）").
RANGE_40 = frozenset(f"40.{i}" for i in range(1, 7))
RANGE_41 = frozenset(f"41.{i}" for i in range(1, 4))
RANGE_42 = frozenset(
    [f"42.{i}" for i in range(1, 10)] + [f"42.10.{i}" for i in range(1, 10)] + ["42.11"]
)
HIGH_CONSUMPTION = frozenset(f"42.10.{i}" for i in range(1, 10))


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


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


def penalty(procedure: str = "general", **flags: Any) -> dict[str, Any]:
    """An administrative penalty (行政处罚): ``simple`` (简易程序) or ``general`` procedure."""
    return {"procedure": procedure, "types": ["fine"], **flags}


def objection(
    status: str = "pending",
    filed_on: str = "2026-11-20",
    decided_on: str | None = None,
    objection_id: str = "OBJ-1",
) -> dict[str, Any]:
    """An objection (异议), Art. 53."""
    data: dict[str, Any] = {
        "objection_id": objection_id,
        "filed_on": filed_on,
        "labelled_on": filed_on,
        "status": status,
    }
    if decided_on is not None:
        data["decided_on"] = decided_on
    return data


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


def severe_record(
    record_id: str = "R-SEVERE",
    category: str = "bid_rigging",
    finding_date: str = "2026-03-02",
    **extra: Any,
) -> dict[str, Any]:
    """A severe dishonesty record (严重失信信息), Art. 37."""
    return record(record_id, "severe_dishonesty", category, finding_date, **extra)


def commendation(
    record_id: str = "R-HONOUR", finding_date: str = "2026-01-20", **extra: Any
) -> dict[str, Any]:
    """A commendation (守信信息 / 荣誉表彰), Art. 19(2)."""
    data = record(record_id, "commendation", "honour", finding_date, **extra)
    data["basis"] = basis(kind="administrative_decision", issued_on=finding_date)
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


def severe_listing(membership_id: str = "L-SEVERE", **extra: Any) -> dict[str, Any]:
    """An entry on the severe dishonesty list (严重失信主体名单) with its written decision,
    which states a term (期限, Art. 38 ¶1): two years from the listing unless given
    (``term_end=None``: a decision that states none)."""
    listed_on = dt.date.fromisoformat(extra.get("listed_on", "2026-03-01"))
    last = period_last_day(listed_on, months=24)
    extra.setdefault("term_end", last.isoformat() if last is not None else "长期")
    return membership(membership_id, "severe_dishonesty", **extra)


def court_defaulter(membership_id: str = "L-COURT", **extra: Any) -> dict[str, Any]:
    """An entry on the court's list of dishonest judgment defaulters (失信被执行人名单)."""
    extra.setdefault("category", "judgment_default")
    extra.setdefault("domain", "judicial")
    return membership(membership_id, "judgment_defaulter", listed_on="2026-05-12", **extra)


def red_list(membership_id: str = "L-RED", **extra: Any) -> dict[str, Any]:
    """An entry on the red list (守信激励对象名单), Art. 36, 38."""
    extra.setdefault("category", "general")
    return membership(membership_id, "red_list", listed_on="2026-04-15", **extra)


def commitment(
    commitment_id: str = "CMT-1",
    status: str = "false",
    made_on: str = "2026-06-02",
    found_on: str | None = "2026-07-28",
    **extra: Any,
) -> dict[str, Any]:
    """A credit commitment (信用承诺), Art. 28-30."""
    data: dict[str, Any] = {
        "commitment_id": commitment_id,
        "made_on": made_on,
        "matter": "食品经营许可（告知承诺制）",
        "status": status,
    }
    if found_on is not None:
        data["found_on"] = found_on
    data.update(extra)
    return data


def evaluation(
    evaluation_id: str,
    kind: str,
    risk_level: str,
    evaluated_on: str = "2026-06-30",
    valid_until: str | None = "2027-06-29",
    grade: str = "B",
) -> dict[str, Any]:
    """A comprehensive (公共信用综合评价) or industry (行业信用评价) evaluation, Art. 31."""
    data: dict[str, Any] = {
        "evaluation_id": evaluation_id,
        "kind": kind,
        "grade": grade,
        "risk_level": risk_level,
        "evaluated_on": evaluated_on,
        "valid_until": valid_until,
    }
    if kind == "industry":
        data["industry"] = "food_drug"
    return data


def linked_party(
    memberships: list[dict[str, Any]],
    role: str = "legal_representative",
    since: str | None = "2019-05-06",
    until: str | None = None,
    organisation: str = OTHER_COMPANY,
) -> dict[str, Any]:
    """An organisation in which the (natural-person) subject holds an Art. 45 role."""
    data: dict[str, Any] = {
        "organisation": uscc(organisation),
        "organisation_name": COMPANY_NAME,
        "role": role,
        "memberships": memberships,
    }
    if since is not None:
        data["since"] = since
    if until is not None:
        data["until"] = until
    return data


def points(score: int, assessed_on: str = "2026-10-01") -> dict[str, Any]:
    """A natural person's integrity points (诚信积分), Art. 47."""
    return {"scheme": "示例市民诚信积分", "score": score, "assessed_on": assessed_on}


def report(
    *,
    person: bool = False,
    records: list[dict[str, Any]] | None = None,
    memberships: list[dict[str, Any]] | None = None,
    entity_type: str | None = None,
    **extra: Any,
) -> CreditReport:
    """A report on the sample person or company; ``entity_type`` states what kind of body it
    is (a state-owned enterprise, ...) where the USCC cannot tell."""
    subject: dict[str, Any] = (
        {"kind": "natural_person", "identifier": resident_id(), "name": PERSON_NAME}
        if person
        else {"kind": "legal_person", "identifier": uscc(), "name": COMPANY_NAME}
    )
    if entity_type is not None:
        subject["entity_type"] = entity_type
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


def sample(state: str) -> CreditReport:
    """A shipped sample report (``credit_sdk/data/reports/{state}.json``)."""
    return CreditReport.model_validate_json(sample_report_path(state).read_text(encoding="utf-8"))


def profile(**update: Any) -> PolicyProfile:
    """The draft regulation's profile with some rules changed (a deployment's custom profile).

    Validated (unlike ``model_copy(update=...)``), so that plain strings become the profile's
    enums exactly as they would from a JSON profile; tests of the documented
    ``PolicyProfile.default().model_copy(update={...})`` recipe use it directly.
    """
    base = PolicyProfile.default().model_dump()
    return PolicyProfile.model_validate(
        {**base, "profile_id": "legal-test-custom", "status": "custom", **update}
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


def measure_ids(measures: Any) -> set[str]:
    return {m.measure_id for m in measures}


def kinds(measures: Any) -> set[str]:
    return {str(m.kind) for m in measures}


def reasons(decision: Decision, item_id: str | None = None) -> set[str]:
    return {e.reason.value for e in decision.exclusions if item_id is None or e.item_id == item_id}


def advisory_codes(decision: Decision, item_id: str | None = None) -> set[str]:
    return {a.code.value for a in decision.advisories if item_id is None or a.item_id == item_id}


def exclusions_for(decision: Decision, reason: str) -> list[Any]:
    return [e for e in decision.exclusions if e.reason.value == reason]


def triggered_items(measures: Iterable[Any]) -> set[str]:
    return {t.item_id for m in measures for t in m.triggered_by}


# --- small catalogs for mechanism tests -------------------------------------------------------


def measure(
    measure_id: str,
    grounds: list[str],
    *,
    kind: str = "punishment",
    range_item: str = "42.3",
    scenarios: list[str] | None = None,
    published: str | None = None,
    body_type: str = "state_organ",
    voluntary: bool = False,
    roles: list[str] | None = None,
    **triggers: Any,
) -> dict[str, Any]:
    """One measure row with the five Art. 39 elements (措施、内容、对象、设定依据、实施主体)."""
    data: dict[str, Any] = {
        "measure_id": measure_id,
        "kind": kind,
        "range_item": range_item,
        "title": f"测试措施 {measure_id}",
        "content": "测试惩戒/激励内容",
        "target": {"description": "测试对象", "roles": roles or ["subject"]},
        "legal_basis": ["《黑龙江省社会信用条例（征求意见稿）》（测试）"],
        "implementing_body": {"name": "测试实施主体", "type": body_type},
        "scenarios": scenarios or ["procurement"],
        "triggers": {"grounds": grounds, **triggers},
        "voluntary": voluntary,
    }
    if published is not None:
        data["publication"] = {"reference": "测试〔2027〕9号", "date": published}
    return data


def measure_list(
    measures: list[dict[str, Any]],
    *,
    list_id: str = "legal-test-list",
    version: str = "1",
    kind: str = "punishment_supplementary",
    effective_from: str = "2026-01-01",
    effective_until: str | None = None,
    published: str | None = None,
) -> MeasureList:
    data: dict[str, Any] = {
        "list_id": list_id,
        "version": version,
        "title": "法律测试清单（示例）",
        "kind": kind,
        "jurisdiction": "test",
        "publication": {"reference": f"测试〔{version}〕1号", "date": published or effective_from},
        "effective_from": effective_from,
        "effective_until": effective_until,
        "provenance": {"status": "sample", "statement": "synthetic list for the legal tests"},
        "measures": measures,
    }
    return MeasureList.from_json(json.dumps(data, ensure_ascii=False), source=list_id)


def catalog_of(*lists: MeasureList) -> Catalog:
    return Catalog(tuple(lists))
