"""Django: settings-based configuration, the middleware and the view decorator, with Django's
test client, on both platforms. This module is also the test project's URLconf."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from credit_sdk.adapters.decorators import credit_check as service_check
from credit_sdk.adapters.django import RefusalPolicy, credit_check, decision_of
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import AsyncClient, Client, override_settings
from django.urls import path

from credit_sdk import ConfigurationError, CreditClient, Decision, QueryContext
from tests.adapters.conftest import Backend
from tests.adapters.support import (
    CONTEXT,
    CONTEXT_FIELDS,
    assert_masked_only,
    assert_problem,
    assert_restricted,
    configure_django,
    masked,
    raw,
)

configure_django()


class AppError(Exception):
    pass


def officer_context(request: HttpRequest) -> QueryContext:
    return QueryContext(
        organ="230100-CZJ",
        operator=request.headers.get("X-Officer", "u1024"),
        matter_code="ZB-2026-7",
        purpose="bid evaluation, tender 2026-7",
    )


# --- the test project's views -----------------------------------------------------------------


@credit_check("admin_licensing", subject="applicant_id", context=CONTEXT)
def licence(request: HttpRequest, decision: Decision) -> HttpResponse:
    assert decision_of(request) is decision
    if request.POST.get("number") == "boom":
        raise AppError("the licensing database is down")
    return JsonResponse({"outcome": decision.outcome.value, "subject": decision.subject})


def bid(request: HttpRequest, lot: int) -> HttpResponse:
    # Checked by the middleware (settings ROUTES), not by a decorator.
    decision = decision_of(request)
    outcome = decision.outcome.value if decision is not None else None
    return JsonResponse({"lot": lot, "outcome": outcome})


def _client_from_settings() -> Any:
    # The client is resolved at call time, so the decorator can be applied at import.
    return settings.CREDIT_SDK["CLIENT"]


@service_check(_client_from_settings, "fiscal_funds", subject="applicant", context=CONTEXT)
def grant_subsidy(applicant: str) -> str:
    return "granted"


def subsidy(request: HttpRequest) -> HttpResponse:
    return HttpResponse(grant_subsidy(json.loads(request.body)["applicant"]))


@credit_check("admin_licensing", subject="applicant_id", context=CONTEXT)
async def async_licence(request: HttpRequest, decision: Decision) -> HttpResponse:
    return JsonResponse({"outcome": decision.outcome.value})


@credit_check("bidding")
def by_fields(request: HttpRequest) -> HttpResponse:
    decision = decision_of(request)
    assert decision is not None
    return HttpResponse(decision.outcome.value)


def review_candidate(request: HttpRequest) -> HttpResponse:
    # A workflow helper called inside a view: its SDK errors become problems (middleware).
    from credit_sdk.adapters.personnel import check_candidate

    candidate = json.loads(request.body)["candidate"]
    found = check_candidate(
        settings.CREDIT_SDK["CLIENT"], candidate, "civil_service_hiring", CONTEXT,
        authorization=None,
    )  # fmt: skip
    return HttpResponse(found.standing.value)


urlpatterns = [
    path("candidates/", review_candidate, name="candidate"),
    path("licences/", licence, name="licence-apply"),
    path("tenders/<int:lot>/bids/", bid, name="bid"),
    path("subsidies/", subsidy, name="subsidy"),
    path("async-licences/", async_licence, name="async-licence"),
    path("check/", by_fields, name="check"),
]


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def configured(backend: Backend) -> Iterator[Backend]:
    config = {
        "CLIENT": backend.client(),
        "CONTEXT": officer_context,
        "ROUTES": {"bid": {"scenario": "bidding", "subject": "bidder"}},
    }
    with override_settings(CREDIT_SDK=config):
        yield backend


def form(state: str, **extra: str) -> dict[str, str]:
    return {"applicant_id": raw(state), "number": "2026-118", **extra}


# --- the decorator -------------------------------------------------------------------------------


def test_decorated_view_gets_the_decision(configured: Backend) -> None:
    response = Client().post("/licences/", form("red_list"))
    assert response.status_code == 200
    assert response.json() == {"outcome": "INCENTIVES", "subject": masked("red_list")}
    assert configured.queries == 1


def test_restricted_is_a_problem_document(configured: Backend) -> None:
    response = Client().post("/licences/", form("severe_list"))
    problem = assert_problem(
        response.status_code, response.headers, response.content,
        expected_status=403, slug="credit-restricted",
    )  # fmt: skip
    assert_restricted(problem, "severe_list")
    assert_masked_only("severe_list", response.content, response.headers)


def test_review_and_platform_down(configured: Backend) -> None:
    review = Client().post("/licences/", form("disputed"))
    assert_problem(
        review.status_code, review.headers, review.content,
        expected_status=409, slug="credit-review",
    )  # fmt: skip
    configured.down()
    down = Client().post("/licences/", form("clean"))
    problem = assert_problem(
        down.status_code, down.headers, down.content,
        expected_status=503, slug="credit-indeterminate",
    )  # fmt: skip
    assert down.headers["Retry-After"] == "30"
    assert problem["outcome"] == "INDETERMINATE"


def test_bad_and_missing_subjects(configured: Backend) -> None:
    bad = Client().post("/licences/", {"applicant_id": "9123-0100-MA1E", "number": "1"})
    problem = assert_problem(
        bad.status_code, bad.headers, bad.content, expected_status=422, slug="invalid-identifier"
    )
    assert problem["rule"] == "charset"
    absent = Client().post("/licences/", {"number": "1"})
    problem = assert_problem(
        absent.status_code, absent.headers, absent.content,
        expected_status=400, slug="invalid-query",
    )  # fmt: skip
    assert problem["rule"] == "subject_missing"
    assert configured.queries == 0


def test_the_views_own_exceptions_propagate(configured: Backend) -> None:
    with pytest.raises(AppError):
        Client().post("/licences/", form("clean", number="boom"))


def test_json_body_and_settings_context(configured: Backend) -> None:
    response = Client().post(
        "/check/",
        data={"subject": raw("red_list"), **CONTEXT_FIELDS},
        content_type="application/json",
    )
    assert response.content == b"INCENTIVES"


# --- the middleware ------------------------------------------------------------------------------


def test_middleware_checks_the_routes_named_in_settings(configured: Backend) -> None:
    ok = Client().post("/tenders/7/bids/", {"bidder": raw("red_list")}, HTTP_X_OFFICER="u7")
    refused = Client().post("/tenders/7/bids/", {"bidder": raw("general_dishonesty")})
    assert ok.json() == {"lot": 7, "outcome": "INCENTIVES"}
    problem = assert_problem(
        refused.status_code, refused.headers, refused.content,
        expected_status=403, slug="credit-restricted",
    )  # fmt: skip
    assert problem["scenario"] == "bidding"
    assert_masked_only("general_dishonesty", refused.content, refused.headers)


def test_middleware_answers_check_refused_from_services(configured: Backend) -> None:
    granted = Client().post(
        "/subsidies/", data={"applicant": raw("clean")}, content_type="application/json"
    )
    refused = Client().post(
        "/subsidies/", data={"applicant": raw("severe_list")}, content_type="application/json"
    )
    assert granted.content == b"granted"
    assert_restricted(refused.json(), "severe_list")
    assert refused.headers["Content-Type"] == "application/problem+json"


def test_settings_accept_dotted_paths_and_a_policy(memory_backend: Backend) -> None:
    global _DOTTED_CLIENT
    _DOTTED_CLIENT = memory_backend.client()
    config = {
        "CLIENT": f"{__name__}.dotted_client",
        "POLICY": RefusalPolicy.never(),
        "ROUTES": {"bid": "bidding"},
    }
    with override_settings(CREDIT_SDK=config):
        response = Client().post(
            "/tenders/3/bids/", {"subject": raw("severe_list"), **CONTEXT_FIELDS}
        )
    assert response.json() == {"lot": 3, "outcome": "RESTRICTED"}


_DOTTED_CLIENT: CreditClient | None = None


def dotted_client() -> CreditClient:
    assert _DOTTED_CLIENT is not None
    return _DOTTED_CLIENT


def test_missing_configuration_is_loud() -> None:
    with override_settings(CREDIT_SDK={}), pytest.raises(ConfigurationError, match="CLIENT"):
        Client().post("/licences/", form("clean"))
    broken = {"CLIENT": object(), "ROUTES": {"bid": {"lot": 1}}}
    with override_settings(CREDIT_SDK=broken), pytest.raises(ConfigurationError, match="scenario"):
        Client().post("/tenders/1/bids/", {})


# --- async views ---------------------------------------------------------------------------------


def test_async_view_with_the_blocking_client(configured: Backend) -> None:
    response = Client().post("/async-licences/", form("severe_list"))
    assert response.status_code == 403
    assert Client().post("/async-licences/", form("clean")).json() == {"outcome": "CLEAR"}


def test_async_view_with_the_async_client(backend: Backend) -> None:
    async def run() -> list[Any]:
        async with backend.async_client() as client:
            if backend.name == "sandbox":
                await client.sync_lists()
            # Django's async handler runs its sync parts on asgiref's process-wide single
            # thread; that idle thread is Django's, it outlives this test by design.
            with override_settings(CREDIT_SDK={"CLIENT": client}):
                tc = AsyncClient()
                return [
                    await tc.post("/async-licences/", form("red_list")),
                    await tc.post("/async-licences/", form("severe_list")),
                ]

    ok, refused = asyncio.run(run())
    assert ok.json() == {"outcome": "INCENTIVES"}
    assert refused.status_code == 403


def test_workflow_helper_errors_in_a_view_are_told_apart(configured: Backend) -> None:
    client = Client()
    bad = raw("clean")[:-1] + ("0" if raw("clean")[-1] != "0" else "1")
    answers = {}
    for name, candidate in (("no consent", raw("judgment_defaulter")), ("bad id", bad)):
        response = client.post(
            "/candidates/", json.dumps({"candidate": candidate}), content_type="application/json"
        )
        answers[name] = response
        assert candidate not in response.content.decode()
    consent = assert_problem(
        answers["no consent"].status_code, answers["no consent"].headers,
        answers["no consent"].content, expected_status=403, slug="authorization-required",
    )  # fmt: skip
    invalid = assert_problem(
        answers["bad id"].status_code, answers["bad id"].headers, answers["bad id"].content,
        expected_status=422, slug="invalid-identifier",
    )  # fmt: skip
    assert consent["title"].startswith("信息主体的授权不允许本次查询")
    assert invalid["title"].startswith("证件号码或统一社会信用代码无效")
    assert consent["rule"] == "authorization_missing"
