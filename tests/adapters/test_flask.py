"""Flask: the ``CreditSDK`` extension and the ``credit_check`` view decorator, with Flask's
test client, on both platforms."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from credit_sdk.adapters.decorators import credit_check as service_check
from credit_sdk.adapters.flask import CreditSDK, RefusalPolicy, credit_check, decision_of
from flask import Flask, g, request

from credit_sdk import Authorization, ConfigurationError, Decision, QueryContext
from tests.adapters.conftest import Backend
from tests.adapters.support import (
    CONTEXT,
    CONTEXT_FIELDS,
    assert_masked_only,
    assert_problem,
    assert_restricted,
    masked,
    raw,
)


class AppError(Exception):
    pass


def officer_context(req: Any) -> QueryContext:
    return QueryContext(
        organ="230100-RSJ",
        operator=req.headers.get("X-Officer", "u1024"),
        matter_code="HIRE-2026",
        purpose=f"civil service recruitment, post {req.view_args['post']}",
    )


def consent(req: Any) -> Authorization | None:
    grant = (req.get_json(silent=True) or {}).get("consent")
    if grant is None:
        return None
    return Authorization(
        subject=req.get_json(silent=True)["candidate"]["id_number"],
        grant_id=grant,
        scope=("personnel",),
        purpose="2026 civil service recruitment",
        granted_on=dt.date(2026, 11, 1),
        expires_on=dt.date(2027, 2, 1),
    )


def flask_app() -> Flask:
    app = Flask(__name__)
    app.config["TESTING"] = True  # exceptions reach the test instead of becoming a 500
    return app


def hiring_app(client: Any, **extension: Any) -> Flask:
    app = flask_app()
    CreditSDK(app, client=client, context=officer_context, **extension)

    @app.post("/hiring/<int:post>")
    @credit_check("civil_service_hiring", subject="candidate.id_number", authorization=consent)
    def hire(post: int, decision: Decision) -> dict[str, Any]:
        assert g.credit_decision is decision
        assert decision_of() is decision
        if post == 500:
            raise AppError("the personnel database is down")
        return {"post": post, "outcome": decision.outcome.value, "subject": decision.subject}

    @app.post("/licences")
    @credit_check("admin_licensing", subject="applicant_id", context=CONTEXT)
    def licence() -> str:
        decision = decision_of()
        assert decision is not None
        return decision.outcome.value

    return app


def candidate(state: str, grant: str | None = "G-2026-0042") -> dict[str, Any]:
    data: dict[str, Any] = {"candidate": {"id_number": raw(state)}}
    if grant is not None:
        data["consent"] = grant
    return data


def test_decision_reaches_the_view(backend: Backend) -> None:
    app = hiring_app(backend.client())
    with app.test_client() as tc:
        response = tc.post("/hiring/12", json=candidate("prohibited_fields"))
    assert response.status_code == 200
    assert response.get_json() == {
        "post": 12,
        "outcome": "CLEAR",
        "subject": masked("prohibited_fields"),
    }
    assert_masked_only("prohibited_fields", response.data, response.headers)
    assert backend.queries == 1


def test_restricted_candidate_gets_a_problem_document(backend: Backend) -> None:
    app = hiring_app(backend.client())
    with app.test_client() as tc:
        response = tc.post("/hiring/12", json=candidate("judgment_defaulter"))
    problem = assert_problem(
        response.status_code, response.headers, response.data,
        expected_status=403, slug="credit-restricted",
    )  # fmt: skip
    assert_restricted(problem, "judgment_defaulter")
    assert problem["scenario"] == "civil_service_hiring"
    assert_masked_only("judgment_defaulter", response.data, response.headers)


def test_review_is_409(backend: Backend) -> None:
    app = hiring_app(backend.client())
    with app.test_client() as tc:
        response = tc.post("/licences", json={"applicant_id": raw("disputed")})
    assert_problem(
        response.status_code, response.headers, response.data,
        expected_status=409, slug="credit-review",
    )  # fmt: skip


def test_platform_down_fails_closed(backend: Backend) -> None:
    app = hiring_app(backend.client())
    backend.down()
    with app.test_client() as tc:
        response = tc.post("/hiring/12", json=candidate("prohibited_fields"))
    problem = assert_problem(
        response.status_code, response.headers, response.data,
        expected_status=503, slug="credit-indeterminate",
    )  # fmt: skip
    assert response.headers["Retry-After"] == "30"
    assert problem["outcome"] == "INDETERMINATE"


def test_missing_consent_and_bad_subjects(backend: Backend) -> None:
    app = hiring_app(backend.client())
    with app.test_client() as tc:
        no_consent = tc.post("/hiring/12", json=candidate("judgment_defaulter", grant=None))
        bad = tc.post("/hiring/12", json={"candidate": {"id_number": "23010319850612001"}})
        absent = tc.post("/hiring/12", json={"candidate": {}})
    problem = assert_problem(
        no_consent.status_code, no_consent.headers, no_consent.data,
        expected_status=403, slug="authorization-required",
    )  # fmt: skip
    assert problem["rule"] == "authorization_missing"
    problem = assert_problem(
        bad.status_code, bad.headers, bad.data, expected_status=422, slug="invalid-identifier"
    )
    assert problem["rule"] == "length"
    assert "23010319850612001" not in bad.get_data(as_text=True)
    problem = assert_problem(
        absent.status_code, absent.headers, absent.data, expected_status=400, slug="invalid-query"
    )
    assert problem["rule"] == "subject_missing"
    assert backend.queries == 0


def test_the_views_own_exceptions_propagate(memory_backend: Backend) -> None:
    app = hiring_app(memory_backend.client())
    with app.test_client() as tc, pytest.raises(AppError):
        tc.post("/hiring/500", json=candidate("prohibited_fields"))


def test_app_policy_and_per_view_policy(memory_backend: Backend) -> None:
    app = hiring_app(memory_backend.client(), policy=RefusalPolicy.never())

    @app.post("/strict")
    @credit_check("bidding", subject="bidder", context=CONTEXT, policy=RefusalPolicy())
    def strict() -> str:
        return "ok"

    with app.test_client() as tc:
        lenient = tc.post("/hiring/12", json=candidate("judgment_defaulter"))
        refused = tc.post("/strict", data={"bidder": raw("severe_list")})
    assert lenient.get_json()["outcome"] == "RESTRICTED"
    assert refused.status_code == 403


def test_context_from_fields_and_query_string(memory_backend: Backend) -> None:
    app = flask_app()
    CreditSDK(app, client=memory_backend.client())

    @app.get("/check")
    @credit_check("bidding")
    def check() -> str:
        decision = decision_of()
        assert decision is not None
        return decision.outcome.value

    with app.test_client() as tc:
        response = tc.get("/check", query_string={"subject": raw("red_list"), **CONTEXT_FIELDS})
    assert response.get_data(as_text=True) == "INCENTIVES"


def test_app_factory_with_init_app(memory_backend: Backend) -> None:
    credit = CreditSDK(client=memory_backend.client())

    def create_app() -> Flask:
        app = flask_app()
        credit.init_app(app)

        @app.post("/licences")
        @credit.check("admin_licensing", subject="applicant_id", context=CONTEXT)
        def licence(decision: Decision) -> str:
            return decision.outcome.value

        return app

    with create_app().test_client() as tc:
        assert tc.post("/licences", json={"applicant_id": raw("red_list")}).text == "INCENTIVES"


def test_check_refused_from_a_service_function(memory_backend: Backend) -> None:
    client = memory_backend.client()

    @service_check(client, "fiscal_funds", subject="applicant", context=CONTEXT)
    def grant(applicant: str) -> str:
        return "granted"

    app = flask_app()
    CreditSDK(app, client=client)

    @app.post("/subsidies")
    def subsidies() -> str:
        return grant(request.form["applicant"])

    with app.test_client() as tc:
        assert tc.post("/subsidies", data={"applicant": raw("clean")}).text == "granted"
        refused = tc.post("/subsidies", data={"applicant": raw("severe_list")})
    problem = assert_problem(
        refused.status_code, refused.headers, refused.data,
        expected_status=403, slug="credit-restricted",
    )  # fmt: skip
    assert_restricted(problem, "severe_list")


def test_misconfiguration_is_loud(memory_backend: Backend) -> None:
    app = flask_app()

    @app.post("/x")
    @credit_check("bidding", context=CONTEXT)
    def x() -> str:
        return "x"

    with app.test_client() as tc, pytest.raises(ConfigurationError, match="CreditSDK"):
        tc.post("/x", json={"subject": raw("clean")})
    with pytest.raises(ConfigurationError, match="client"):
        CreditSDK(app)
    with pytest.raises(ConfigurationError, match="synchronous"):

        @credit_check("bidding")
        async def coroutine_view() -> str:
            return "x"


def test_async_client_is_refused(memory_backend: Backend) -> None:
    client = memory_backend.async_client()
    app = flask_app()
    CreditSDK(app, client=client)

    @app.post("/x")
    @credit_check("bidding", context=CONTEXT)
    def x() -> str:
        return "x"

    with app.test_client() as tc, pytest.raises(ConfigurationError, match="AsyncCreditClient"):
        tc.post("/x", json={"subject": raw("clean")})


def test_workflow_helper_errors_in_a_view_are_told_apart(backend: Backend) -> None:
    from credit_sdk.adapters.personnel import check_candidate

    app = flask_app()
    app.config["TESTING"] = False  # as in production: an unanswered error would be a 500
    sdk_client = backend.client()
    CreditSDK(app, client=sdk_client)

    @app.post("/candidates")
    def review() -> str:
        found = check_candidate(
            sdk_client, request.get_json()["candidate"], "civil_service_hiring", CONTEXT,
            authorization=None,
        )  # fmt: skip
        return found.standing.value

    http = app.test_client()
    bad = raw("clean")[:-1] + ("0" if raw("clean")[-1] != "0" else "1")
    no_consent = http.post("/candidates", json={"candidate": raw("judgment_defaulter")})
    invalid = http.post("/candidates", json={"candidate": bad})
    consent = assert_problem(
        no_consent.status_code, no_consent.headers, no_consent.data,
        expected_status=403, slug="authorization-required",
    )  # fmt: skip
    identifier = assert_problem(
        invalid.status_code, invalid.headers, invalid.data,
        expected_status=422, slug="invalid-identifier",
    )  # fmt: skip
    assert consent["title"].startswith("信息主体的授权不允许本次查询")
    assert identifier["title"].startswith("证件号码或统一社会信用代码无效")
    assert bad not in invalid.data.decode()
