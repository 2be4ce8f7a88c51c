"""The OpenAPI document is the contract: complete, consistent with the SDK, honoured by the
sandbox, and free of sandbox-only administration."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from starlette.routing import Route

from credit_sdk import Scenario
from credit_sdk.sandbox import create_app, seeded_subjects
from credit_sdk.sandbox.store import sample_report
from tests.sandbox.helpers import (
    AUTH,
    CONTEXT,
    TestClient,
    duty_request,
    feedback_item,
    report_query,
    subject,
)

yaml = pytest.importorskip("yaml")
jsonschema_rs = pytest.importorskip("jsonschema_rs")

DOCUMENT: dict[str, Any] = yaml.safe_load(
    (resources.files("credit_sdk.sandbox") / "openapi.yaml").read_text(encoding="utf-8")
)

CONTRACT = {
    ("post", "/v1/reports:query"),
    ("post", "/v1/reports:batchQuery"),
    ("get", "/v1/measure-lists"),
    ("get", "/v1/measure-lists/{list_id}/versions/{version}"),
    ("post", "/v1/feedback"),
    ("post", "/v1/objections"),
    ("post", "/v1/information:push"),
    ("post", "/v1/information:correct"),
    ("post", "/v1/information:updateBasis"),
    ("post", "/v1/checkpoints"),
    ("get", "/v1/health"),
}


def operations() -> set[tuple[str, str]]:
    return {(method, path) for path, item in DOCUMENT["paths"].items() for method in item}


def validator(name: str) -> Any:
    # The component, with the whole components section beside it so that its $refs resolve.
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]}
    return jsonschema_rs.Draft202012Validator(schema)


def test_it_is_openapi_3_1_with_exactly_the_contract_operations() -> None:
    assert DOCUMENT["openapi"].startswith("3.1.")
    assert operations() == CONTRACT
    assert not any(path.startswith("/_sandbox") for path in DOCUMENT["paths"])


def test_the_app_serves_exactly_the_documented_operations() -> None:
    app = create_app(seed=False)
    served = {
        (method.lower(), route.path)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/v1/")
        for method in (route.methods or ()) - {"HEAD"}
    }
    app.state.sandbox.store.close()
    assert served == CONTRACT


def test_both_security_schemes_and_open_health() -> None:
    schemes = DOCUMENT["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    description = schemes["hmacSignature"]["description"]
    for header in (
        "X-Credit-App-Id",
        "X-Credit-Timestamp",
        "X-Credit-Nonce",
        "X-Credit-Content-SHA256",
    ):
        assert header in description
    assert DOCUMENT["security"] == [{"bearerAuth": []}, {"hmacSignature": []}]
    assert DOCUMENT["paths"]["/v1/health"]["get"]["security"] == []


def test_every_error_is_problem_json_and_every_answer_names_its_request_id() -> None:
    responses = DOCUMENT["components"]["responses"]
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if "$ref" in response:
                    response = responses[response["$ref"].rsplit("/", 1)[1]]
                assert "X-Request-Id" in response["headers"], (method, path, status)
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"]


def test_retry_after_etag_and_idempotency_key_are_declared() -> None:
    responses = DOCUMENT["components"]["responses"]
    assert "Retry-After" in responses["Unavailable"]["headers"]
    assert "Retry-After" in responses["TooManyRequests"]["headers"]
    lists = DOCUMENT["paths"]["/v1/measure-lists"]["get"]["responses"]
    assert "ETag" in lists["200"]["headers"]
    assert "304" in lists
    for path in ("/v1/feedback", "/v1/objections"):
        params = DOCUMENT["paths"][path]["post"]["parameters"]
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in params
    assert DOCUMENT["components"]["parameters"]["IdempotencyKey"]["required"] is True


def test_scenarios_match_the_sdk() -> None:
    assert DOCUMENT["components"]["schemas"]["Scenario"]["enum"] == [s.value for s in Scenario]


@pytest.mark.parametrize("state", [s.state for s in seeded_subjects()])
def test_every_sample_report_fits_the_report_schema(state: str) -> None:
    check = validator("CreditReport")
    errors = [e.message for e in check.iter_errors(sample_report(state))]
    assert errors == []


def test_served_bodies_fit_their_schemas() -> None:
    with TestClient(create_app()) as client:
        query = client.post(
            "/v1/reports:query", json=report_query(subject("severe_list")), headers=AUTH
        )
        assert validator("CreditReport").is_valid(query.json())
        batch = {**CONTEXT, "queries": [{"query_id": "1", "subject": subject("red_list")}]}
        results = client.post("/v1/reports:batchQuery", json=batch, headers=AUTH)
        assert validator("BatchResults").is_valid(results.json())
        index = client.get("/v1/measure-lists", headers=AUTH).json()
        assert validator("MeasureListIndex").is_valid(index)
        for entry in index["lists"]:
            path = f"/v1/measure-lists/{entry['list_id']}/versions/{entry['version']}"
            document = client.get(path, headers=AUTH).json()
            errors = [e.message for e in validator("MeasureList").iter_errors(document)]
            assert errors == [], entry["list_id"]
        feedback = client.post(
            "/v1/feedback",
            json={"items": [feedback_item()]},
            headers={**AUTH, "Idempotency-Key": "k"},
        )
        assert validator("FeedbackAccepted").is_valid(feedback.json())
        assert validator("Health").is_valid(client.get("/v1/health").json())
        problem = client.get("/v1/measure-lists")
        assert validator("Problem").is_valid(problem.json())


def test_request_examples_used_by_the_tests_fit_the_request_schemas() -> None:
    assert validator("ReportQuery").is_valid(report_query(subject("clean")))
    assert validator("FeedbackRequest").is_valid({"items": [feedback_item()]})
    assert not validator("ReportQuery").is_valid(
        {**report_query(subject("clean")), "scenario": "x"}
    )
    assert json.dumps(DOCUMENT)  # plain JSON data: no YAML-only types crept in


@pytest.mark.parametrize(
    ("route", "schema"),
    [
        ("information:push", "InformationPush"),
        ("information:correct", "InformationCorrection"),
        ("information:updateBasis", "BasisUpdate"),
    ],
)
def test_duty_requests_fit_their_schemas(route: str, schema: str) -> None:
    path, body = duty_request(route)
    assert validator(schema).is_valid(body)
    assert not validator(schema).is_valid({k: v for k, v in body.items() if k != "due_on"})
    assert ("post", path) in operations()
