"""Each contract endpoint of the sandbox, happy paths and refusals (Starlette's TestClient)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from credit_sdk import CreditReport
from credit_sdk._catalog import Catalog, MeasureList
from credit_sdk.sandbox import NOTICE, SeededSubject, seeded_subjects
from tests.sandbox.helpers import AUTH, CONTEXT, TestClient, feedback_item, report_query, subject

# --- reports:query --------------------------------------------------------------------------


@pytest.mark.parametrize("seeded", seeded_subjects(), ids=lambda s: s.state)
def test_every_seeded_subject_gets_its_report(client: TestClient, seeded: SeededSubject) -> None:
    state = seeded.state
    response = client.post("/v1/reports:query", json=report_query(subject(state)), headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    report = CreditReport.model_validate_json(response.content)
    assert report.subject.identifier == seeded.identifier


def test_report_id_is_unique_per_query_and_generated_now(client: TestClient) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ids = set()
    for i in range(3):
        body = report_query(subject("severe_list"), query_id=f"q-{i}")
        report = CreditReport.parse(
            client.post("/v1/reports:query", json=body, headers=AUTH).content
        )
        ids.add(report.report_id)
        assert before <= report.generated_at <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        assert report.generated_at.utcoffset() == dt.timedelta(hours=8)
    assert len(ids) == 3


def test_severe_list_report_carries_the_listing(client: TestClient) -> None:
    body = report_query(subject("severe_list"))
    report = CreditReport.parse(client.post("/v1/reports:query", json=body, headers=AUTH).content)
    assert [m.list_type.value for m in report.list_memberships] == ["severe_dishonesty"]


def test_unknown_subject_gets_an_empty_report(client: TestClient) -> None:
    ref = {"kind": "uscc", "number": "91110000600037341L"}
    response = client.post("/v1/reports:query", json=report_query(ref), headers=AUTH)
    report = CreditReport.parse(response.content)
    assert response.status_code == 200
    assert report.records == report.list_memberships == report.evaluations == ()
    assert report.subject.identifier.reveal() == "91110000600037341L"
    assert report.subject.kind.value == "legal_person"


@pytest.mark.parametrize(
    ("ref", "kind"),
    [
        ({"kind": "resident_id", "number": "360426199101010071"}, "natural_person"),
        ({"kind": "other", "number": "E12345678", "id_type": "passport"}, "natural_person"),
        ({"kind": "other", "number": "passport:E12345678"}, "natural_person"),
    ],
)
def test_unknown_natural_persons_get_valid_reports(
    client: TestClient, ref: dict[str, str], kind: str
) -> None:
    response = client.post("/v1/reports:query", json=report_query(ref), headers=AUTH)
    assert CreditReport.parse(response.content).subject.kind.value == kind


@pytest.mark.parametrize(
    ("ref", "rule"),
    [
        ({"kind": "uscc", "number": "91230100MA1EXA017X"}, "check_character"),
        ({"kind": "resident_id", "number": "360426199101010072"}, "check_character"),
        ({"kind": "resident_id", "number": "12345"}, "length"),
        ({"kind": "resident_id", "number": "360426199101010071", "id_type": "passport"}, "type"),
    ],
)
def test_invalid_identifier_is_422_without_echoing_it(
    client: TestClient, ref: dict[str, str], rule: str
) -> None:
    response = client.post("/v1/reports:query", json=report_query(ref), headers=AUTH)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert f"rule {rule}" in problem["detail"]
    number = ref["number"]
    for fragment in (number, number[:4] + "*", number[-4:]):
        assert fragment not in response.text


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({**report_query({"kind": "uscc", "number": "x"}), "scenario": "karaoke"}, "scenario"),
        (
            {
                k: v
                for k, v in report_query({"kind": "uscc", "number": "x"}).items()
                if k != "purpose"
            },
            "purpose",
        ),
        ({**report_query({"kind": "uscc", "number": "x"}), "organ": ""}, "organ"),
        ({**report_query({"kind": "passport", "number": "x"})}, "subject.kind"),
        ({**report_query({"kind": "uscc", "number": "x"}), "query_id": 7}, "query_id"),
    ],
)
def test_invalid_body_is_422_naming_the_field(
    client: TestClient, body: dict[str, object], where: str
) -> None:
    response = client.post("/v1/reports:query", json=body, headers=AUTH)
    assert response.status_code == 422
    assert where in response.json()["detail"]


def test_not_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/v1/reports:query", content=b"{nope", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 422


def test_non_json_content_type_is_415(client: TestClient) -> None:
    body = json.dumps(report_query(subject("clean"))).encode()
    response = client.post(
        "/v1/reports:query", content=body, headers={**AUTH, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415


def test_body_over_2_mib_is_413(client: TestClient) -> None:
    body = json.dumps(report_query(subject("clean"), padding="x" * (2 * 1024 * 1024))).encode()
    response = client.post(
        "/v1/reports:query", content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_extra_fields_are_tolerated(client: TestClient) -> None:
    body = report_query(subject("clean"), client_version="9.9", trace={"a": 1})
    assert client.post("/v1/reports:query", json=body, headers=AUTH).status_code == 200


# --- reports:batchQuery ---------------------------------------------------------------------


def batch(refs: list[dict[str, str]]) -> dict[str, object]:
    queries = [{"query_id": f"b-{i}", "subject": ref} for i, ref in enumerate(refs)]
    return {**CONTEXT, "queries": queries}


def test_batch_answers_in_request_order_and_isolates_bad_queries(client: TestClient) -> None:
    refs = [
        subject("severe_list"),
        {"kind": "uscc", "number": "91230100MA1EXA017X"},  # bad check character
        subject("red_list"),
        {"kind": "uscc", "number": "91110000600037341L"},  # valid, unknown
    ]
    response = client.post("/v1/reports:batchQuery", json=batch(refs), headers=AUTH)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["query_id"] for r in results] == ["b-0", "b-1", "b-2", "b-3"]
    assert [r["status"] for r in results] == [200, 422, 200, 200]
    assert results[1]["problem"]["status"] == 422
    assert "91230100MA1EXA017X" not in response.text
    reports = [CreditReport.model_validate(r["report"]) for r in results if r["status"] == 200]
    assert len({r.report_id for r in reports}) == 3


def test_batch_of_100_is_accepted(client: TestClient) -> None:
    response = client.post(
        "/v1/reports:batchQuery", json=batch([subject("clean")] * 100), headers=AUTH
    )
    assert response.status_code == 200
    assert len(response.json()["results"]) == 100


def test_batch_over_100_is_413(client: TestClient) -> None:
    response = client.post(
        "/v1/reports:batchQuery", json=batch([subject("clean")] * 101), headers=AUTH
    )
    assert response.status_code == 413
    assert "100" in response.json()["detail"]


def test_empty_batch_is_422(client: TestClient) -> None:
    assert client.post("/v1/reports:batchQuery", json=batch([]), headers=AUTH).status_code == 422


# --- measure lists --------------------------------------------------------------------------


def test_list_index_serves_the_shipped_lists(client: TestClient) -> None:
    response = client.get("/v1/measure-lists", headers=AUTH)
    assert response.status_code == 200
    index = response.json()["lists"]
    shipped = {(lst.list_id, lst.version, lst.sha256) for lst in Catalog.default().lists}
    assert {(e["list_id"], e["version"], e["sha256"]) for e in index} == shipped
    for entry in index:
        assert set(entry) == {
            "list_id", "version", "sha256", "kind", "title", "effective_from", "effective_until"
        }  # fmt: skip


def test_list_index_etag_and_304(client: TestClient) -> None:
    first = client.get("/v1/measure-lists", headers=AUTH)
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{64}"', etag)
    for candidate in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get("/v1/measure-lists", headers={**AUTH, "If-None-Match": candidate})
        assert again.status_code == 304, candidate
        assert again.content == b""
        assert again.headers["etag"] == etag
    stale = client.get("/v1/measure-lists", headers={**AUTH, "If-None-Match": '"0000"'})
    assert stale.status_code == 200


def test_each_edition_verifies_against_its_sha256(client: TestClient) -> None:
    for entry in client.get("/v1/measure-lists", headers=AUTH).json()["lists"]:
        path = f"/v1/measure-lists/{entry['list_id']}/versions/{entry['version']}"
        response = client.get(path, headers=AUTH)
        assert response.status_code == 200
        assert response.headers["etag"] == f'"{entry["sha256"]}"'
        # MeasureList.from_json recomputes the digest and refuses a mismatch.
        assert MeasureList.from_json(response.content).sha256 == entry["sha256"]
        cached = client.get(path, headers={**AUTH, "If-None-Match": response.headers["etag"]})
        assert cached.status_code == 304


def test_unknown_edition_is_404(client: TestClient) -> None:
    response = client.get("/v1/measure-lists/hlj-incentive-sample/versions/9999", headers=AUTH)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_unseeded_sandbox_has_no_lists(empty_client: TestClient) -> None:
    assert empty_client.get("/v1/measure-lists", headers=AUTH).json() == {"lists": []}


# --- feedback -------------------------------------------------------------------------------


def post_feedback(client: TestClient, key: str | bytes | None, payload: object) -> Any:
    headers: dict[str, str | bytes] = dict(AUTH)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/v1/feedback", json=payload, headers=headers)


def test_feedback_is_accepted_and_stored(client: TestClient) -> None:
    items = [feedback_item("i-1"), feedback_item("i-2", applied=False, reason="NOT_RELATED")]
    response = post_feedback(client, "req-1", {"items": items})
    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "duplicates": 0}
    stored = client.get("/_sandbox/feedback", headers=AUTH).json()["items"]
    assert [s["idempotency_key"] for s in stored] == ["i-1", "i-2"]
    assert stored[1]["reason"] == "NOT_RELATED"
    assert stored[0]["request_idempotency_key"] == "req-1"


def test_same_key_and_body_gets_the_same_answer(client: TestClient) -> None:
    payload = {"items": [feedback_item("i-1")]}
    first = post_feedback(client, "req-1", payload)
    # Same JSON value, other spelling: still the same body.
    spaced = json.dumps(payload, indent=2, sort_keys=True).encode()
    again = client.post(
        "/v1/feedback",
        content=spaced,
        headers={**AUTH, "Idempotency-Key": "req-1", "Content-Type": "application/json"},
    )
    assert again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(client.get("/_sandbox/feedback", headers=AUTH).json()["items"]) == 1


def test_same_key_with_another_body_is_409(client: TestClient) -> None:
    post_feedback(client, "req-1", {"items": [feedback_item("i-1")]})
    response = post_feedback(client, "req-1", {"items": [feedback_item("i-2")]})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


def test_items_already_received_count_as_duplicates(client: TestClient) -> None:
    post_feedback(client, "req-1", {"items": [feedback_item("i-1")]})
    items = [feedback_item("i-1"), feedback_item("i-2"), feedback_item("i-2")]
    response = post_feedback(client, "req-2", {"items": items})
    assert response.json() == {"accepted": 1, "duplicates": 2}
    assert len(client.get("/_sandbox/feedback", headers=AUTH).json()["items"]) == 2


@pytest.mark.parametrize("key", [None, "", "has space", "x" * 256, "ключ".encode()])
def test_missing_or_bad_idempotency_key_is_422(client: TestClient, key: str | bytes | None) -> None:
    response = post_feedback(client, key, {"items": [feedback_item()]})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]


def test_feedback_limits(client: TestClient) -> None:
    too_many = {"items": [feedback_item(f"i-{i}") for i in range(501)]}
    assert post_feedback(client, "big", too_many).status_code == 413
    assert post_feedback(client, "none", {"items": []}).status_code == 422
    bad = {"items": [feedback_item(applied="yes")]}
    assert post_feedback(client, "bad", bad).status_code == 422


def test_feedback_accepts_500_items(client: TestClient) -> None:
    items = {"items": [feedback_item(f"i-{i}") for i in range(500)]}
    response = post_feedback(client, "full", items)
    assert response.json() == {"accepted": 500, "duplicates": 0}


# --- objections -----------------------------------------------------------------------------


def objection(state: str, item_id: str, **extra: object) -> dict[str, object]:
    return {
        "subject": subject(state),
        "item_id": item_id,
        "reason": "the penalty decision was annulled on review",
        "needs_assistance": False,
        **extra,
    }


def test_objection_is_filed_and_labels_the_item(client: TestClient) -> None:
    headers = {**AUTH, "Idempotency-Key": "obj-1"}
    response = client.post(
        "/v1/objections", json=objection("general_dishonesty", "REC-SAMPLE-0301"), headers=headers
    )
    assert response.status_code == 201
    receipt = response.json()
    assert receipt["status"] == "pending"
    assert receipt["objection_id"].startswith("OBJ-")
    dt.date.fromisoformat(receipt["received_on"])
    body = report_query(subject("general_dishonesty"))
    report = CreditReport.parse(client.post("/v1/reports:query", json=body, headers=AUTH).content)
    label = report.records[0].objection
    assert label is not None
    assert label.objection_id == receipt["objection_id"]
    assert label.status.value == "pending"
    listed = client.get("/_sandbox/objections", headers=AUTH).json()["objections"]
    assert [o["item_id"] for o in listed] == ["REC-SAMPLE-0301"]
    assert "91230102MA1EXA0257" not in json.dumps(listed)  # stored by pseudonym


def test_objection_to_a_list_membership(client: TestClient) -> None:
    response = client.post(
        "/v1/objections",
        json=objection(
            "severe_list", "MEM-SAMPLE-0101", needs_assistance=True, organ="哈尔滨市财政局"
        ),
        headers={**AUTH, "Idempotency-Key": "obj-2"},
    )
    assert response.status_code == 201
    body = report_query(subject("severe_list"))
    report = CreditReport.parse(client.post("/v1/reports:query", json=body, headers=AUTH).content)
    label = report.list_memberships[0].objection
    assert label is not None
    assert label.needs_assistance


def test_objection_replay_and_conflict(client: TestClient) -> None:
    headers = {**AUTH, "Idempotency-Key": "obj-3"}
    payload = objection("revoked", "REC-SAMPLE-0601")
    first = client.post("/v1/objections", json=payload, headers=headers)
    again = client.post("/v1/objections", json=payload, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = client.post("/v1/objections", json={**payload, "reason": "other"}, headers=headers)
    assert other.status_code == 409
    assert len(client.get("/_sandbox/objections", headers=AUTH).json()["objections"]) == 1


@pytest.mark.parametrize(
    "payload",
    [
        objection("severe_list", "REC-DOES-NOT-EXIST"),
        {
            **objection("severe_list", "REC-SAMPLE-0101"),
            "subject": {"kind": "uscc", "number": "91110000600037341L"},
        },
    ],
    ids=["unknown item", "unknown subject"],
)
def test_objection_to_something_unknown_is_404(
    client: TestClient, payload: dict[str, object]
) -> None:
    response = client.post("/v1/objections", json=payload, headers={**AUTH, "Idempotency-Key": "o"})
    assert response.status_code == 404
    assert "91110000600037341L" not in response.text


def test_objection_needs_an_idempotency_key(client: TestClient) -> None:
    response = client.post(
        "/v1/objections", json=objection("revoked", "REC-SAMPLE-0601"), headers=AUTH
    )
    assert response.status_code == 422


# --- health, errors, headers ----------------------------------------------------------------


def test_health_says_it_is_not_production(client: TestClient) -> None:
    health = client.get("/v1/health").json()
    assert health["status"] == "ok"
    assert health["sandbox"] is True
    assert health["production"] is False
    assert health["notice"] == NOTICE
    assert "NOT a production" in NOTICE


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/health", 200),
        ("GET", "/v1/nothing-here", 404),
        ("DELETE", "/v1/health", 405),
        ("GET", "/v1/reports:query", 405),
        ("POST", "/v1/reports:query", 401),
        ("GET", "/_sandbox/subjects", 200),
    ],
)
def test_every_response_has_a_request_id_and_the_sandbox_marker(
    client: TestClient, method: str, path: str, status: int
) -> None:
    headers = AUTH if path.startswith("/_sandbox") else {}
    response = client.request(method, path, headers=headers)
    assert response.status_code == status
    assert response.headers["x-request-id"]
    assert response.headers["x-credit-sandbox"] == "not-a-production-platform"
    if status >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["request_id"] == response.headers["x-request-id"]


def test_a_sane_client_request_id_is_used(client: TestClient) -> None:
    ok = client.get("/v1/health", headers={"X-Request-Id": "trace-123.abc"})
    assert ok.headers["x-request-id"] == "trace-123.abc"
    odd = client.get("/v1/health", headers={"X-Request-Id": "no spaces please"})
    assert odd.headers["x-request-id"] != "no spaces please"


def test_the_contract_document_is_served(client: TestClient) -> None:
    response = client.get("/_sandbox/openapi.yaml")
    assert response.status_code == 200
    assert response.text.startswith("openapi: 3.1")
    assert "NOT a production" in client.get("/").json()["notice"]


def test_hostile_bodies_are_422_not_500(client: Any) -> None:
    """The sandbox decodes request bodies within the SDK's bounds too."""
    for body in (b"[" * 3000, b'{"a": NaN}', b"\xef\xbb\xbf{}", b'{"a": 1, "a": 2}'):
        for path in ("/v1/reports:query", "/v1/reports:batchQuery", "/v1/feedback"):
            headers = {**AUTH, "Content-Type": "application/json", "Idempotency-Key": "k-1"}
            response = client.post(path, content=body, headers=headers)
            assert response.status_code == 422, (path, body[:10])
