"""Starlette: ``CreditCheckMiddleware`` per route and app-wide, with Starlette's TestClient."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from credit_sdk.adapters.decorators import credit_check as service_check
from credit_sdk.adapters.starlette import (
    CheckRefused,
    CreditCheckMiddleware,
    RefusalPolicy,
    RouteCheck,
    check_refused_handler,
    decision_of,
)
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from credit_sdk import ConfigurationError, CreditClient, QueryContext
from tests.adapters.conftest import Backend
from tests.adapters.support import (
    CONTEXT,
    CONTEXT_FIELDS,
    TestClient,
    assert_masked_only,
    assert_problem,
    assert_restricted,
    masked,
    raw,
)


class AppError(Exception):
    pass


async def officer_context(request: Request) -> QueryContext:
    body = await request.json()
    return QueryContext(
        organ="230100-SCJGJ",
        operator=request.headers.get("x-officer", "u1024"),
        matter_code="LIC-FOOD",
        purpose=f"food business licence application {body.get('number', '?')}",
    )


async def apply(request: Request) -> JSONResponse:
    decision = decision_of(request)
    assert decision is not None
    body = await request.json()  # the middleware read the body first: the app still gets it
    if body.get("number") == "boom":
        raise AppError("the licensing database is down")
    return JSONResponse(
        {"outcome": decision.outcome.value, "subject": decision.subject, "echo": body["number"]}
    )


async def public(request: Request) -> PlainTextResponse:
    assert decision_of(request) is None
    return PlainTextResponse("open")


def per_route_app(client: Any, **options: Any) -> Starlette:
    check = Middleware(
        CreditCheckMiddleware,
        client=client,
        scenario="admin_licensing",
        subject="applicant_id",
        context=officer_context,
        **options,
    )
    return Starlette(
        routes=[
            Route("/licences", apply, methods=["POST"], middleware=[check]),
            Route("/public", public),
        ]
    )


def body(state: str, number: str = "2026-118") -> dict[str, str]:
    return {"applicant_id": raw(state), "number": number}


def test_per_route_middleware_on_both_platforms(backend: Backend) -> None:
    app = per_route_app(backend.client())
    with TestClient(app) as tc:
        clear = tc.post("/licences", json=body("clean"))
        restricted = tc.post("/licences", json=body("severe_list"))
        review = tc.post("/licences", json=body("disputed"))
        open_route = tc.get("/public")
    assert clear.status_code == 200
    assert clear.json() == {"outcome": "CLEAR", "subject": masked("clean"), "echo": "2026-118"}
    problem = assert_problem(
        restricted.status_code, restricted.headers, restricted.content,
        expected_status=403, slug="credit-restricted",
    )  # fmt: skip
    assert_restricted(problem, "severe_list")
    assert_masked_only("severe_list", restricted.content, restricted.headers)
    assert review.status_code == 409
    assert open_route.text == "open"
    assert backend.queries == 3


def test_platform_down_is_503_and_the_route_never_runs(backend: Backend) -> None:
    app = per_route_app(backend.client())
    backend.down()
    with TestClient(app) as tc:
        response = tc.post("/licences", json=body("clean"))
    problem = assert_problem(
        response.status_code, response.headers, response.content,
        expected_status=503, slug="credit-indeterminate",
    )  # fmt: skip
    assert problem["outcome"] == "INDETERMINATE"
    assert response.headers["retry-after"] == "30"


def test_a_body_over_the_limit_is_refused_before_it_is_buffered(backend: Backend) -> None:
    app = per_route_app(backend.client(), max_body_bytes=256)
    with TestClient(app) as tc:
        response = tc.post("/licences", json=body("clean", number="x" * 1000))
        small = tc.post("/licences", json=body("clean"))
    problem = assert_problem(
        response.status_code, response.headers, response.content,
        expected_status=413, slug="request-too-large",
    )  # fmt: skip
    assert problem["status"] == 413
    assert small.status_code == 200
    assert backend.queries == 1


def test_invalid_and_missing_subjects(backend: Backend) -> None:
    app = per_route_app(backend.client())
    with TestClient(app) as tc:
        invalid = tc.post("/licences", json={"applicant_id": "91230100MA1EXA017Z", "number": "1"})
        absent = tc.post("/licences", json={"number": "1"})
    problem = assert_problem(
        invalid.status_code, invalid.headers, invalid.content,
        expected_status=422, slug="invalid-identifier",
    )  # fmt: skip
    assert problem["rule"]
    assert "91230100MA1EXA017Z" not in invalid.text
    problem = assert_problem(
        absent.status_code, absent.headers, absent.content,
        expected_status=400, slug="invalid-query",
    )  # fmt: skip
    assert problem["rule"] == "subject_missing"
    assert backend.queries == 0


def test_the_applications_own_exceptions_propagate(memory_backend: Backend) -> None:
    app = per_route_app(memory_backend.client())
    with TestClient(app) as tc, pytest.raises(AppError):
        tc.post("/licences", json=body("clean", number="boom"))


def test_app_wide_mapping_checks_only_the_declared_routes(backend: Backend) -> None:
    async def bid(request: Request) -> JSONResponse:
        decision = decision_of(request)
        outcome = decision.outcome.value if decision is not None else None
        return JSONResponse({"outcome": outcome, "lot": request.path_params["lot"]})

    app = Starlette(
        routes=[Route("/tenders/{lot:int}/bids", bid, methods=["POST", "GET"]), Route("/", public)]
    )
    app.add_middleware(
        CreditCheckMiddleware,
        client=backend.client(),
        routes={"POST /tenders/{lot:int}/bids": RouteCheck("bidding", subject="bidder")},
    )
    form = {"bidder": raw("red_list"), **CONTEXT_FIELDS}
    with TestClient(app) as tc:
        # A URL-encoded form body works as well as JSON.
        ok = tc.post("/tenders/7/bids", data=form)
        refused = tc.post("/tenders/7/bids", data={**form, "bidder": raw("general_dishonesty")})
        unchecked = tc.get("/")
        listing = tc.get("/tenders/7/bids")  # only POST is declared
    assert ok.json() == {"outcome": "INCENTIVES", "lot": 7}
    assert refused.status_code == 403
    assert unchecked.text == "open"
    assert listing.json() == {"outcome": None, "lot": 7}
    assert backend.queries == 2


def test_subject_from_the_path_and_a_constant_context(memory_backend: Backend) -> None:
    async def show(request: Request) -> JSONResponse:
        decision = decision_of(request)
        assert decision is not None
        return JSONResponse(decision.outcome.value)

    app = Starlette(routes=[Route("/subjects/{subject}/licensing", show)])
    app.add_middleware(
        CreditCheckMiddleware,
        client=memory_backend.client(),
        routes={"/subjects/{subject}/licensing": RouteCheck("admin_licensing", context=CONTEXT)},
    )
    with TestClient(app) as tc:
        assert tc.get(f"/subjects/{raw('red_list')}/licensing").json() == "INCENTIVES"


def test_async_client_created_in_the_lifespan(backend: Backend) -> None:
    holder: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with backend.async_client() as client:
            if backend.name == "sandbox":
                await client.sync_lists()
            holder["client"] = client
            yield

    check = Middleware(
        CreditCheckMiddleware,
        client=lambda: holder["client"],
        scenario="admin_licensing",
        subject="applicant_id",
        context=officer_context,
    )
    app = Starlette(
        routes=[Route("/licences", apply, methods=["POST"], middleware=[check])],
        lifespan=lifespan,
    )
    with TestClient(app) as tc:
        assert tc.post("/licences", json=body("red_list")).json()["outcome"] == "INCENTIVES"
        assert tc.post("/licences", json=body("severe_list")).status_code == 403


def test_attach_only_policy(memory_backend: Backend) -> None:
    app = per_route_app(memory_backend.client(), policy=RefusalPolicy.never())
    with TestClient(app) as tc:
        response = tc.post("/licences", json=body("severe_list"))
    assert response.status_code == 200
    assert response.json()["outcome"] == "RESTRICTED"


def test_check_refused_handler(memory_backend: Backend) -> None:
    client = memory_backend.client()

    @service_check(client, "fiscal_funds", subject="applicant", context=CONTEXT)
    def grant(applicant: str) -> str:
        return "granted"

    async def subsidy(request: Request) -> PlainTextResponse:
        return PlainTextResponse(grant((await request.json())["applicant"]))

    app = Starlette(
        routes=[Route("/subsidies", subsidy, methods=["POST"])],
        exception_handlers={CheckRefused: check_refused_handler},
    )
    with TestClient(app) as tc:
        assert tc.post("/subsidies", json={"applicant": raw("clean")}).text == "granted"
        refused = tc.post("/subsidies", json={"applicant": raw("severe_list")})
    assert_restricted(refused.json(), "severe_list")
    assert refused.headers["content-type"] == "application/problem+json"


def test_configuration_is_checked_up_front(memory_backend: Backend) -> None:
    client: CreditClient = memory_backend.client()
    with pytest.raises(ConfigurationError, match="either scenario"):
        CreditCheckMiddleware(public, client=client)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="either scenario"):
        CreditCheckMiddleware(
            public,  # type: ignore[arg-type]
            client=client,
            scenario="bidding",
            routes={"/": "bidding"},
        )
    middleware = CreditCheckMiddleware(public, client=client, routes={"/": "bidding"})  # type: ignore[arg-type]
    assert raw("clean") not in repr(middleware)
