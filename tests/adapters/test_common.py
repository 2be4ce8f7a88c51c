"""The framework-free core: refusal policy, problem documents, request-field parsing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from credit_sdk.adapters._common import (
    Problem,
    RefusalPolicy,
    RouteCheck,
    decision_problem,
    error_problem,
    field_value,
    form_or_json,
)
from credit_sdk.adapters.decorators import credit_check

from credit_sdk import (
    AuditError,
    ConfigurationError,
    CreditReport,
    FailurePolicy,
    InvalidIdentifier,
    MemoryQueryLog,
    Outcome,
    PlatformUnavailable,
    QueryIntent,
    Scenario,
    decide,
    sample_report_path,
)
from tests.adapters.conftest import Backend
from tests.adapters.support import AS_OF, CONTEXT, raw


def decision_for(state: str, scenario: Scenario = Scenario.ADMIN_LICENSING) -> Any:
    report = CreditReport.parse(sample_report_path(state).read_bytes())
    return decide(report, scenario, as_of=AS_OF)


def test_default_policy_and_copies() -> None:
    policy = RefusalPolicy()
    assert dict(policy.statuses) == {
        Outcome.RESTRICTED: 403,
        Outcome.REVIEW: 409,
        Outcome.INDETERMINATE: 503,
    }
    lenient = policy.allow(Outcome.REVIEW, "INDETERMINATE")
    assert dict(lenient.statuses) == {Outcome.RESTRICTED: 403}
    assert dict(policy.statuses)[Outcome.REVIEW] == 409  # the original is unchanged
    assert policy.refuse("CLEAR", 451).status_for_outcome(Outcome.CLEAR) == 451
    assert RefusalPolicy.never().refuses(decision_for("severe_list")) is False
    with pytest.raises(TypeError):
        policy.statuses[Outcome.CLEAR] = 400  # type: ignore[index]


@pytest.mark.parametrize("state", ["severe_list", "disputed", "judgment_defaulter"])
def test_problem_documents_carry_masked_subjects_only(state: str) -> None:
    decision = decision_for(state)
    problem = decision_problem(decision, 403, RefusalPolicy())
    text = problem.json_bytes().decode("utf-8")
    assert raw(state) not in text
    assert json.loads(text)["subject"] == decision.subject
    assert raw(state) not in repr(problem)
    for member in ("type", "title", "status", "detail", "outcome", "reason_codes"):
        assert member in problem.body
    assert problem.all_headers()["Content-Type"] == "application/problem+json"


def test_problem_type_base_is_configurable() -> None:
    policy = RefusalPolicy(problem_type_base="https://permits.example.gov.cn/problems/")
    problem = decision_problem(decision_for("severe_list"), 403, policy)
    assert problem.body["type"] == "https://permits.example.gov.cn/problems/credit-restricted"


def test_error_problems() -> None:
    policy = RefusalPolicy(retry_after=120)
    audit = error_problem(AuditError("disk full"), policy)
    assert audit is not None
    assert (audit.status, audit.headers["Retry-After"]) == (503, "120")
    assert "disk full" not in audit.json_bytes().decode()
    platform = error_problem(PlatformUnavailable("down"), policy)
    assert platform is not None
    assert platform.body["type"].endswith("platform-unavailable")
    assert error_problem(ConfigurationError("no key"), policy) is None
    bad = InvalidIdentifier("invalid USCC (rule charset): ...", rule="charset", kind="uscc")
    assert error_problem(bad, RefusalPolicy(errors_as_problems=False)) is None
    problem = error_problem(bad, policy, field_name="bidder")
    assert problem is not None
    assert problem.body["identifier_kind"] == "uscc"
    assert problem.body["field"] == "bidder"


def test_request_bodies() -> None:
    assert form_or_json("application/json", b'{"a": {"b": "c"}}') == {"a": {"b": "c"}}
    assert form_or_json("application/problem+json; charset=utf-8", b'{"a": 1}') == {"a": 1}
    assert form_or_json("application/json", b"[1, 2]") == {}
    assert form_or_json("application/json", b"{nope") == {}
    assert form_or_json("application/x-www-form-urlencoded", b"a=1&b=%E4%B8%AD") == {
        "a": "1",
        "b": "中",
    }
    assert form_or_json("application/x-www-form-urlencoded", b"\xff=1") == {}
    assert form_or_json("text/plain", b"a=1") == {}
    places = [("path", {"x": "from path"}), ("body", {"x": "from body", "n": {"m": "deep"}})]
    assert field_value("x", places) == "from path"
    assert field_value("n.m", places) == "deep"
    assert field_value("n.missing.deeper", places) is None


def test_route_check_validates_its_declaration() -> None:
    assert RouteCheck("BIDDING").scenario is Scenario.BIDDING
    with pytest.raises(ConfigurationError):
        RouteCheck(Scenario.BIDDING, subject="")
    with pytest.raises(ConfigurationError):
        RouteCheck(Scenario.BIDDING, context="organ")  # type: ignore[arg-type]
    assert isinstance(Problem(400, {}).json_bytes(), bytes)


class BrokenLog(MemoryQueryLog):
    """A query log whose disk is full."""

    def record_intent(self, intent: QueryIntent) -> None:
        raise AuditError("the query log is not writable")


def test_an_unwritable_query_log_fails_closed(memory_backend: Backend) -> None:
    log = BrokenLog()
    memory_backend.logs.append(log)  # closed with the backend
    client = memory_backend.client(audit=log)

    @credit_check(client, "bidding", subject="bidder", context=CONTEXT)
    def admit(bidder: str) -> str:
        return "admitted"

    with pytest.raises(AuditError):
        admit(raw("clean"))
    assert memory_backend.queries == 0


def test_raise_on_unavailable_becomes_a_503(memory_backend: Backend) -> None:
    from credit_sdk.adapters.fastapi import credit_check as dependency
    from credit_sdk.adapters.fastapi import install
    from fastapi import Depends, FastAPI

    from tests.adapters.support import TestClient, assert_problem

    client = memory_backend.client(
        failure_policy=FailurePolicy.fail_closed(raise_on_unavailable=True)
    )
    app = FastAPI()
    install(app, client)
    check = Depends(dependency("bidding", subject="bidder", context=CONTEXT))

    @app.post("/bids")
    def bids(decision: Any = check) -> str:
        return str(decision.outcome)

    memory_backend.down()
    with TestClient(app) as tc:
        response = tc.post("/bids", json={"bidder": raw("clean")})
    assert_problem(
        response.status_code, response.headers, response.content,
        expected_status=503, slug="platform-unavailable",
    )  # fmt: skip
    assert response.headers["retry-after"] == "30"
