"""An individual business (个体工商户, USCC ``92...``) is a natural person in law (Art. 21), and
the report parser refuses a report that calls it an organisation. The reports the SDK's own
platforms build for a subject they know nothing about (the sandbox, docs/sandbox.md; the
in-memory `MemoryProvider`, docs/client.md "Testing your system without a network") must say
so too: otherwise every check of an unknown individual business ends `INDETERMINATE` on a
`ReportError` instead of `CLEAR`, and the query log records it as a legal person."""

from __future__ import annotations

import json
from typing import Any

import pytest

from credit_sdk import (
    CheckInfo,
    CreditClient,
    CreditReport,
    Hook,
    MemoryProvider,
    MemoryQueryLog,
    Outcome,
    QueryContext,
    SubjectKind,
    parse_identifier,
)
from credit_sdk.sandbox import create_app
from credit_sdk.testing import fake_uscc
from tests.sandbox.helpers import AUTH, TestClient, report_query

CTX = QueryContext(organ="230100-GGZY", operator="u1024", matter_code="BID-2026-017",
                   purpose="qualification screening of the bidders of tender 2026-17")  # fmt: skip


def _individual_business() -> str:
    for _ in range(100):
        uscc = fake_uscc()
        body = "92" + uscc[2:17]
        for check in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            try:
                return str(parse_identifier(body + check).reveal())
            except ValueError:
                continue
    raise AssertionError("no individual business code")


class _Seen(Hook):
    def __init__(self) -> None:
        self.kinds: list[str] = []

    def before(self, info: CheckInfo) -> None:
        self.kinds.append(info.subject_kind)


@pytest.mark.parametrize("scenario", ["bidding", "admin_licensing"])
def test_memory_provider_reports_an_unknown_individual_business_as_a_person(
    scenario: str,
) -> None:
    seen = _Seen()
    client = CreditClient(provider=MemoryProvider({}), audit=MemoryQueryLog(),
                          pseudonym_key=b"k" * 32, list_sync_interval=None,
                          hooks=[seen])  # fmt: skip
    with client:
        decision = client.check(_individual_business(), scenario, CTX)
    assert decision.outcome is Outcome.CLEAR
    assert seen.kinds == [SubjectKind.NATURAL_PERSON.value]


def test_the_sandbox_reports_an_unknown_individual_business_as_a_person() -> None:
    number = _individual_business()
    with TestClient(create_app(seed=False)) as http:
        answer = http.post(
            "/v1/reports:query",
            json=report_query({"kind": "uscc", "number": number}),
            headers=AUTH,
        )
    assert answer.status_code == 200, answer.text[:200]
    body: dict[str, Any] = answer.json()
    assert body["subject"]["kind"] == "natural_person"
    report = CreditReport.parse(json.dumps(body))
    assert report.subject.kind is SubjectKind.NATURAL_PERSON
