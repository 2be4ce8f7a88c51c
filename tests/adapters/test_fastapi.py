"""FastAPI: the ``credit_check`` dependency with FastAPI's TestClient, on both platforms.

Annotations are evaluated eagerly here (no ``from __future__ import annotations``), as in many
FastAPI apps: ``Annotated[Decision, Depends(check)]`` then works with a per-test ``check``.
"""

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import pytest
from credit_sdk.adapters.decorators import credit_check as service_check
from credit_sdk.adapters.fastapi import CreditProblem, RefusalPolicy, credit_check, install
from fastapi import Depends, FastAPI, Header
from pydantic import BaseModel

from credit_sdk import (
    AsyncCreditClient,
    Authorization,
    ConfigurationError,
    CreditClient,
    Decision,
    Outcome,
    QueryContext,
)
from tests.adapters.conftest import Backend
from tests.adapters.support import (
    CONTEXT,
    CONTEXT_FIELDS,
    TestClient,
    assert_masked_only,
    assert_problem,
    assert_restricted,
    corrupted,
    masked,
    raw,
)


class Application(BaseModel):
    applicant_id: str
    number: str


class AppError(Exception):
    """The application's own failure: the adapter must let it through."""


def query_context(application: Application) -> QueryContext:
    return QueryContext(
        organ="230100-SCJGJ",
        operator="u1024",
        matter_code="LIC-FOOD",
        purpose=f"food business licence application {application.number}",
    )


def licence_app(
    client: CreditClient | AsyncCreditClient | None,
    *,
    policy: RefusalPolicy | None = None,
    installed: bool = True,
    lifespan: Any = None,
) -> tuple[FastAPI, list[Decision]]:
    app = FastAPI(lifespan=lifespan)
    seen: list[Decision] = []
    if installed:
        install(app, client, policy=policy)
        check = credit_check("admin_licensing", subject="applicant_id", context=query_context)
    else:
        check = credit_check(
            "admin_licensing", subject="applicant_id", context=query_context, client=client
        )

    @app.post("/licences")
    def apply(
        application: Application, decision: Annotated[Decision, Depends(check)]
    ) -> dict[str, Any]:
        seen.append(decision)
        if application.number == "boom":
            raise AppError("the licensing database is down")
        return {
            "outcome": decision.outcome.value,
            "subject": decision.subject,
            "query_id": decision.query_id,
            "commitment_eligible": decision.commitment_eligible,
        }

    return app, seen


def post(tc: TestClient, state_or_id: str, number: str = "2026-118") -> Any:
    applicant = raw(state_or_id) if state_or_id.isidentifier() else state_or_id
    return tc.post("/licences", json={"applicant_id": applicant, "number": number})


def test_clear_applicant_reaches_the_handler_with_its_decision(backend: Backend) -> None:
    app, seen = licence_app(backend.client())
    with TestClient(app) as tc:
        response = post(tc, "clean")
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "CLEAR"
    assert body["subject"] == masked("clean")
    assert [d.query_id for d in seen] == [body["query_id"]]
    assert backend.queries == 1
    assert_masked_only("clean", response.content, response.headers)


def test_restricted_is_a_problem_document_with_the_legal_basis(backend: Backend) -> None:
    app, seen = licence_app(backend.client())
    with TestClient(app) as tc:
        response = post(tc, "severe_list")
    problem = assert_problem(
        response.status_code, response.headers, response.content,
        expected_status=403, slug="credit-restricted",
    )  # fmt: skip
    assert_restricted(problem, "severe_list")
    assert "SEVERE_DISHONESTY" in problem["reason_codes"]
    assert problem["commitment_eligible"] is False
    assert response.headers["cache-control"] == "no-store"
    assert_masked_only("severe_list", response.content, response.headers)
    assert seen == []


def test_review_is_409(backend: Backend) -> None:
    app, seen = licence_app(backend.client())
    with TestClient(app) as tc:
        response = post(tc, "disputed")
    problem = assert_problem(
        response.status_code, response.headers, response.content,
        expected_status=409, slug="credit-review",
    )  # fmt: skip
    assert problem["outcome"] == "REVIEW"
    assert problem["held_for_review"]
    assert "Art. 53" in problem["detail"]
    assert seen == []


def test_platform_down_fails_closed_with_503_and_retry_after(backend: Backend) -> None:
    app, seen = licence_app(backend.client())
    backend.down()
    with TestClient(app) as tc:
        response = post(tc, "clean")
    problem = assert_problem(
        response.status_code, response.headers, response.content,
        expected_status=503, slug="credit-indeterminate",
    )  # fmt: skip
    assert problem["outcome"] == "INDETERMINATE"
    assert "PLATFORM_UNAVAILABLE" in problem["reason_codes"]
    assert response.headers["retry-after"] == "30"
    assert seen == []


def test_invalid_identifier_is_422_naming_the_rule_before_any_query(backend: Backend) -> None:
    app, _ = licence_app(backend.client())
    bad = corrupted("severe_list")
    with TestClient(app) as tc:
        response = post(tc, bad)
    problem = assert_problem(
        response.status_code, response.headers, response.content,
        expected_status=422, slug="invalid-identifier",
    )  # fmt: skip
    assert problem["rule"] == "check_character"
    assert problem["field"] == "applicant_id"
    assert bad not in response.text
    assert backend.queries == 0


def test_a_number_is_not_an_identifier(memory_backend: Backend) -> None:
    app = FastAPI()
    install(app, memory_backend.client())

    @app.post("/by-field")
    def by_field(
        decision: Annotated[Decision, Depends(credit_check("admin_licensing", context=CONTEXT))],
    ) -> str:
        return decision.outcome.value

    with TestClient(app) as tc:
        response = tc.post("/by-field", json={"subject": 91230100})
    problem = assert_problem(
        response.status_code, response.headers, response.content,
        expected_status=422, slug="invalid-identifier",
    )  # fmt: skip
    assert problem["rule"] == "type"


def test_missing_subject_is_400(memory_backend: Backend) -> None:
    app = FastAPI()
    install(app, memory_backend.client())

    @app.post("/anything")
    def anything(
        decision: Annotated[
            Decision, Depends(credit_check("bidding", subject="bidder", context=CONTEXT))
        ],
    ) -> str:
        return decision.outcome.value

    with TestClient(app) as tc:
        response = tc.post("/anything", json={"other": "x"})
    problem = assert_problem(
        response.status_code, response.headers, response.content,
        expected_status=400, slug="invalid-query",
    )  # fmt: skip
    assert problem["rule"] == "subject_missing"
    assert "bidder" in problem["detail"]


def test_the_applications_own_exceptions_propagate(backend: Backend) -> None:
    app, seen = licence_app(backend.client())
    with TestClient(app) as tc, pytest.raises(AppError, match="licensing database"):
        post(tc, "clean", number="boom")
    assert len(seen) == 1


def test_async_client_is_awaited_on_the_apps_loop(backend: Backend) -> None:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with backend.async_client() as client:
            if backend.name == "sandbox":
                await client.sync_lists()
            install(app, client)
            yield

    app, seen = licence_app(None, lifespan=lifespan)
    with TestClient(app) as tc:
        clear = post(tc, "clean")
        restricted = post(tc, "severe_list")
        red = post(tc, "red_list")
    assert clear.status_code == 200
    assert clear.json()["outcome"] == "CLEAR"
    assert restricted.status_code == 403
    assert_restricted(restricted.json(), "severe_list")
    assert red.json()["outcome"] == "INCENTIVES"
    assert [d.outcome for d in seen] == [Outcome.CLEAR, Outcome.INCENTIVES]


def test_async_handler_with_the_blocking_client(memory_backend: Backend) -> None:
    app = FastAPI()
    install(app, memory_backend.client())
    check = credit_check("admin_licensing", subject="applicant_id", context=query_context)

    @app.post("/licences")
    async def apply(application: Application, decision: Annotated[Decision, Depends(check)]) -> str:
        return decision.outcome.value

    with TestClient(app) as tc:
        assert post(tc, "red_list").json() == "INCENTIVES"
        assert post(tc, "severe_list").status_code == 403


def test_attach_only_policy_hands_every_decision_to_the_handler(backend: Backend) -> None:
    app, seen = licence_app(backend.client(), policy=RefusalPolicy.never())
    with TestClient(app) as tc:
        response = post(tc, "severe_list")
    assert response.status_code == 200
    assert response.json()["outcome"] == "RESTRICTED"
    assert seen[0].restrictions


def test_allowing_review_through(memory_backend: Backend) -> None:
    app, _ = licence_app(memory_backend.client(), policy=RefusalPolicy().allow("REVIEW"))
    with TestClient(app) as tc:
        assert post(tc, "disputed").json()["outcome"] == "REVIEW"
        assert post(tc, "severe_list").status_code == 403


def test_without_install_a_refusal_keeps_fastapis_default_shape(memory_backend: Backend) -> None:
    app, _ = licence_app(memory_backend.client(), installed=False)
    with TestClient(app) as tc:
        response = post(tc, "severe_list")
    assert response.status_code == 403
    assert response.headers["cache-control"] == "no-store"
    detail = response.json()["detail"]
    assert detail["type"] == "urn:credit-sdk:problem:credit-restricted"
    assert_masked_only("severe_list", response.content, response.headers)


def test_without_a_client_the_route_fails_loudly(memory_backend: Backend) -> None:
    app, _ = licence_app(None)
    with TestClient(app) as tc, pytest.raises(ConfigurationError, match="no credit client"):
        post(tc, "clean")


def test_subject_and_context_can_be_dependencies(backend: Backend) -> None:
    def applicant(application: Application) -> str:
        return application.applicant_id

    async def officer_context(application: Application, x_officer: str = Header()) -> QueryContext:
        return QueryContext(
            organ="230100-SCJGJ",
            operator=x_officer,
            matter_code="LIC-FOOD",
            purpose=f"food business licence application {application.number}",
        )

    app = FastAPI()
    install(app, backend.client())
    check = credit_check("admin_licensing", subject=applicant, context=officer_context)

    @app.post("/licences")
    def apply(application: Application, decision: Annotated[Decision, Depends(check)]) -> str:
        return decision.outcome.value

    body = {"applicant_id": raw("red_list"), "number": "2026-7"}
    with TestClient(app) as tc:
        ok = tc.post("/licences", json=body, headers={"X-Officer": "u2048"})
        empty = tc.post("/licences", json=body, headers={"X-Officer": "  "})
    assert ok.json() == "INCENTIVES"
    problem = assert_problem(
        empty.status_code, empty.headers, empty.content,
        expected_status=422, slug="invalid-query",
    )  # fmt: skip
    assert "operator" in problem["detail"]


def test_context_from_request_fields_by_default(memory_backend: Backend) -> None:
    app = FastAPI()
    install(app, memory_backend.client())

    @app.post("/check")
    def check(decision: Annotated[Decision, Depends(credit_check("bidding"))]) -> str:
        return decision.outcome.value

    with TestClient(app) as tc:
        ok = tc.post("/check", json={"subject": raw("red_list"), **CONTEXT_FIELDS})
        partial = tc.post(
            "/check",
            json={"subject": raw("red_list"), "organ": "230100-CZJ"},
            headers={"X-Credit-Operator": "u1", "X-Credit-Matter-Code": "ZB-1"},
        )
    assert ok.json() == "INCENTIVES"
    problem = assert_problem(
        partial.status_code, partial.headers, partial.content,
        expected_status=400, slug="invalid-query",
    )  # fmt: skip
    assert problem["rule"] == "context_missing"
    assert problem["detail"].startswith("查询条件不符合规则 context_missing。")
    assert "no query context: missing purpose in " in problem["detail"]


class Candidate(BaseModel):
    id_number: str
    consent_grant: str | None = None


def test_personnel_check_needs_the_persons_authorisation(backend: Backend) -> None:
    def consent(candidate: Candidate) -> Authorization | None:
        if candidate.consent_grant is None:
            return None
        return Authorization(
            subject=candidate.id_number,
            grant_id=candidate.consent_grant,
            scope=("civil_service_hiring",),
            purpose="2026 civil service recruitment",
            granted_on=dt.date(2026, 11, 1),
            expires_on=dt.date(2027, 2, 1),
        )

    app = FastAPI()
    install(app, backend.client())
    check = credit_check(
        "civil_service_hiring",
        subject="id_number",
        context=CONTEXT,
        authorization=consent,
        policy=RefusalPolicy.never(),
    )

    @app.post("/hiring")
    def hire(candidate: Candidate, decision: Annotated[Decision, Depends(check)]) -> str:
        return decision.outcome.value

    with TestClient(app) as tc:
        refused = tc.post("/hiring", json={"id_number": raw("judgment_defaulter")})
        allowed = tc.post(
            "/hiring", json={"id_number": raw("judgment_defaulter"), "consent_grant": "G-1"}
        )
    problem = assert_problem(
        refused.status_code, refused.headers, refused.content,
        expected_status=403, slug="authorization-required",
    )  # fmt: skip
    assert problem["rule"] == "authorization_missing"
    assert_masked_only("judgment_defaulter", refused.content, refused.headers)
    assert allowed.json() == "RESTRICTED"


def test_check_refused_from_a_service_function_is_answered(memory_backend: Backend) -> None:
    client = memory_backend.client()

    @service_check(client, "fiscal_funds", subject="applicant", context=CONTEXT)
    def grant_subsidy(applicant: str) -> str:
        return "granted"

    app = FastAPI()
    install(app, client)

    @app.post("/subsidies")
    def subsidies(body: dict[str, str]) -> str:
        return grant_subsidy(body["applicant"])

    with TestClient(app) as tc:
        granted = tc.post("/subsidies", json={"applicant": raw("clean")})
        refused = tc.post("/subsidies", json={"applicant": raw("severe_list")})
    assert granted.json() == "granted"
    problem = assert_problem(
        refused.status_code, refused.headers, refused.content,
        expected_status=403, slug="credit-restricted",
    )  # fmt: skip
    assert_restricted(problem, "severe_list")


def test_credit_problem_carries_the_decision(memory_backend: Backend) -> None:
    raised: list[CreditProblem] = []
    app, _ = licence_app(memory_backend.client())

    @app.exception_handler(CreditProblem)
    async def keep(request: Any, exc: CreditProblem) -> Any:
        raised.append(exc)
        from credit_sdk.adapters.fastapi import problem_response

        return problem_response(exc.problem)

    with TestClient(app) as tc:
        assert post(tc, "severe_list").status_code == 403
    assert raised[0].decision is not None
    assert raised[0].decision.outcome is Outcome.RESTRICTED
    assert raw("severe_list") not in repr(raised[0])


def test_install_inside_the_lifespan_answers_problems(backend: Backend) -> None:
    sdk_client = backend.client()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        install(app, sdk_client)  # the stack is built by now
        yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/check")
    def route(
        decision: Annotated[Decision, Depends(credit_check("bidding", context=CONTEXT))],
    ) -> str:
        return decision.outcome.value

    @app.post("/candidates")
    def candidates() -> str:
        from credit_sdk.adapters.personnel import check_candidate

        check_candidate(sdk_client, raw("judgment_defaulter"), "civil_service_hiring", CONTEXT,
                        authorization=None)  # fmt: skip
        return "unreachable"

    with TestClient(app) as http:
        refused = http.post("/check", json={"subject": raw("severe_list")})
        no_consent = http.post("/candidates")
    assert_problem(
        refused.status_code, refused.headers, refused.content,
        expected_status=403, slug="credit-restricted",
    )  # fmt: skip
    assert "detail" in refused.json()
    assert refused.json()["outcome"] == "RESTRICTED"
    assert_problem(
        no_consent.status_code, no_consent.headers, no_consent.content,
        expected_status=403, slug="authorization-required",
    )  # fmt: skip


def test_install_refuses_loudly_when_it_cannot_reach_a_started_app() -> None:
    app = FastAPI()
    app.middleware_stack = lambda scope, receive, send: None  # type: ignore[assignment]
    with pytest.raises(ConfigurationError, match="before it starts"):
        install(app)
