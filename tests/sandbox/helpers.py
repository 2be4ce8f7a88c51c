"""Helpers for the sandbox's tests (request bodies, credentials, the TestClient import)."""

from __future__ import annotations

import warnings
from typing import Any

from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Newer Starlette prefers the httpx2 package for its TestClient and warns once, at import,
    # when it falls back to httpx; the client behaves the same.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from credit_sdk.sandbox import DEFAULT_TOKEN, seeded_subject

__all__ = ["AUTH", "CONTEXT", "TestClient", "feedback_item", "report_query", "subject"]

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
CONTEXT = {
    "scenario": "government_procurement",
    "organ": "230100-CZJ",
    "operator": "u1024",
    "matter_code": "ZFCG-2026-118",
    "purpose": "procurement bid review #2026-118",
}


def subject(state: str) -> dict[str, str]:
    """The ``subject`` object for the seeded subject in ``state``."""
    return seeded_subject(state).subject


def report_query(ref: dict[str, str], query_id: str = "q-1", **extra: Any) -> dict[str, Any]:
    return {"query_id": query_id, "subject": ref, **CONTEXT, **extra}


def feedback_item(key: str = "item-1", **extra: Any) -> dict[str, Any]:
    item = {
        "query_id": "q-1",
        "measure_id": "hlj-r-procurement-ban",
        "applied": True,
        "case_id": "case-118",
        "implementing_department": "哈尔滨市财政局",
        "occurred_at": "2026-11-29T10:00:00+08:00",
        "idempotency_key": key,
    }
    item.update(extra)
    return item


DOCUMENT = {
    "kind": "administrative_penalty_decision",
    "number": "哈市监罚〔2026〕118号",
    "issuer": "哈尔滨市市场监督管理局",
    "issued_on": "2026-11-30",
    "effective_on": "2026-11-30",
}


def duty_request(route: str, record_id: str = "PEN-2026-118") -> tuple[str, dict[str, Any]]:
    """A valid request body of one of the duty operations (Art. 22, 52): path and body."""
    common = {
        "subject": subject("severe_list"),
        "record_id": record_id,
        "category": "food_safety",
        "organ": "230100-SCJGJ",
        "due_on": "2026-12-07",
    }
    if route == "information:push":
        body = common | {"summary": "警告并罚款", "produced_on": "2026-11-30", "document": DOCUMENT}
    elif route == "information:correct":
        body = common | {"reason": "wrong", "discovered_on": "2026-12-02", "corrected": "金额更正"}
    else:
        assert route == "information:updateBasis"
        body = common | {"change": "revoked", "changed_on": "2026-12-03", "document": DOCUMENT}
    return f"/v1/{route}", body
