"""Sandbox-only administration: seeded subjects, state changes, list editions, counters, reset."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from credit_sdk import CreditReport
from credit_sdk._catalog import MeasureList
from credit_sdk._models import sample_report_path
from credit_sdk.sandbox import SEEDED, seeded_subject, seeded_subjects
from credit_sdk.sandbox.store import sample_report
from tests.sandbox.helpers import AUTH, TestClient, report_query, subject

# Every state the engine distinguishes must be reachable in a seeded sandbox (issue 4, §3).
REQUIRED_STATES = {
    "severe_list",
    "judgment_defaulter",
    "general_dishonesty",
    "expired",
    "repaired",
    "revoked",
    "disputed",
    "red_list",
    "linked_person",
    "false_commitment",
    "clean",
}


def report_of(client: TestClient, ref: dict[str, str]) -> CreditReport:
    response = client.post("/v1/reports:query", json=report_query(ref), headers=AUTH)
    assert response.status_code == 200
    return CreditReport.parse(response.content)


def test_seeded_subjects_cover_every_state() -> None:
    states = {s.state for s in seeded_subjects()}
    assert states >= REQUIRED_STATES
    assert seeded_subjects() == SEEDED
    # One subject per shipped sample report, named after it.
    for s in seeded_subjects():
        assert sample_report_path(s.state).is_file()
    # Evaluation grades are part of the seed too.
    assert any(sample_report(s.state).get("evaluations") for s in seeded_subjects())


def test_seeded_subject_lookup_and_masking() -> None:
    s = seeded_subject("judgment_defaulter")
    assert s.kind == "natural_person"
    assert s.subject == {"kind": "resident_id", "number": s.identifier.reveal()}
    assert s.identifier.reveal() not in repr(s)
    with pytest.raises(ValueError, match="available"):
        seeded_subject("no-such-state")


def test_admin_lists_the_seeded_subjects(client: TestClient) -> None:
    listed = client.get("/_sandbox/subjects", headers=AUTH).json()["subjects"]
    by_state = {row["state"]: row for row in listed}
    assert set(by_state) == {s.state for s in seeded_subjects()}
    for s in seeded_subjects():
        row = by_state[s.state]
        assert row["identifier"] == s.identifier.reveal()
        assert row["masked"] == s.identifier.masked
        assert row["kind"] == s.kind
        assert row["seeded"] is True
        assert len(row["pseudonym"]) == 64


def put_subject(client: TestClient, body: dict[str, Any]) -> Any:
    return client.put("/_sandbox/subjects", json=body, headers=AUTH)


def test_set_a_subjects_report(client: TestClient) -> None:
    ref = subject("clean")
    report = sample_report("severe_list")
    report["subject"] = {**report["subject"], "identifier": ref["number"]}
    response = put_subject(client, {"subject": ref, "report": report, "state": "now-severe"})
    assert response.status_code == 200
    assert response.json()["state"] == "now-severe"
    served = report_of(client, ref)
    assert [m.list_type.value for m in served.list_memberships] == ["severe_dishonesty"]
    states = {
        r["masked"]: r["state"]
        for r in client.get("/_sandbox/subjects", headers=AUTH).json()["subjects"]
    }
    assert states[seeded_subject("clean").identifier.masked] == "now-severe"


def test_set_a_subject_to_a_sample_state(client: TestClient) -> None:
    # The severe-list company becomes repaired: its identifier, the repaired sample's records.
    ref = subject("severe_list")
    assert put_subject(client, {"subject": ref, "state": "repaired"}).status_code == 200
    served = report_of(client, ref)
    assert served.subject.identifier.reveal() == ref["number"]
    assert [r.record_id for r in served.records] == ["REC-SAMPLE-0501"]


def test_a_new_subject_can_be_added_by_string(client: TestClient) -> None:
    response = put_subject(client, {"subject": "91110000600037341L", "state": "red_list"})
    assert response.status_code == 200
    served = report_of(client, {"kind": "uscc", "number": "91110000600037341L"})
    assert [m.list_type.value for m in served.list_memberships] == ["red_list"]


def test_state_unknown_forgets_the_subject(client: TestClient) -> None:
    ref = subject("severe_list")
    response = put_subject(client, {"subject": ref, "state": "unknown"})
    assert response.json()["deleted"] is True
    served = report_of(client, ref)
    assert served.records == served.list_memberships == ()


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"subject": {"kind": "uscc", "number": "91230100MA1EXA017X"}, "state": "clean"},
            "rule check_character",
        ),
        ({"subject": 42, "state": "clean"}, "subject must be"),
        ({"subject": "91110000600037341L"}, "give a report"),
        ({"subject": "91110000600037341L", "state": "no-such-sample"}, "no sample state"),
        ({"subject": "91110000600037341L", "report": {"report_id": "x"}}, "generated_at"),
        ({"subject": "91110000600037341L", "report": "nope"}, "JSON object"),
        # A person's report for a company, or someone else's report: refused.
        ({"subject": "91110000600037341L", "state": "judgment_defaulter"}, "subject"),
    ],
)
def test_bad_subject_changes_are_422(client: TestClient, body: dict[str, Any], detail: str) -> None:
    response = put_subject(client, body)
    assert response.status_code == 422
    assert detail in response.json()["detail"]
    assert "91230100MA1EXA017X" not in response.text


def test_report_for_another_subject_is_refused(client: TestClient) -> None:
    report = sample_report("clean")
    response = put_subject(client, {"subject": subject("red_list"), "report": report})
    assert response.status_code == 422
    assert "not this subject" in response.json()["detail"]


def test_admin_rejects_non_json(client: TestClient) -> None:
    response = client.put(
        "/_sandbox/subjects", content=b"[1,2", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 422


# --- measure-list editions ------------------------------------------------------------------


def new_edition(
    version: str = "sample-2026.2", title: str = "守信激励措施清单（示例，第二版）"
) -> dict[str, Any]:
    served = json.loads(
        (
            sample_report_path("clean").parent.parent / "lists" / "hlj-incentive-sample.json"
        ).read_text(encoding="utf-8")
    )
    edition = copy.deepcopy(served)
    edition.pop("sha256", None)
    edition.update(version=version, title=title, effective_from="2026-12-01")
    return edition


def test_publish_an_edition_for_background_sync(client: TestClient) -> None:
    before = client.get("/v1/measure-lists", headers=AUTH)
    response = client.put("/_sandbox/measure-lists", json=new_edition(), headers=AUTH)
    assert response.status_code == 201
    answer = response.json()
    assert answer["created"] is True
    after = client.get(
        "/v1/measure-lists", headers={**AUTH, "If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200  # the index changed, so the old ETag no longer matches
    versions = {(e["list_id"], e["version"]) for e in after.json()["lists"]}
    assert ("hlj-incentive-sample", "sample-2026.2") in versions
    doc = client.get("/v1/measure-lists/hlj-incentive-sample/versions/sample-2026.2", headers=AUTH)
    assert MeasureList.from_json(doc.content).sha256 == answer["sha256"]


def test_publishing_the_same_edition_again_is_harmless(client: TestClient) -> None:
    client.put("/_sandbox/measure-lists", json=new_edition(), headers=AUTH)
    again = client.put("/_sandbox/measure-lists", json=new_edition(), headers=AUTH)
    assert again.status_code == 200
    assert again.json()["created"] is False


def test_an_edition_never_changes(client: TestClient) -> None:
    client.put("/_sandbox/measure-lists", json=new_edition(), headers=AUTH)
    changed = new_edition(title="改过的标题")
    response = client.put("/_sandbox/measure-lists", json=changed, headers=AUTH)
    assert response.status_code == 409


def test_a_list_that_breaks_art_39_is_refused(client: TestClient) -> None:
    edition = new_edition()
    edition["measures"][0]["legal_basis"] = []
    response = client.put("/_sandbox/measure-lists", json=edition, headers=AUTH)
    assert response.status_code == 422
    assert "Art.39" in response.json()["detail"]


def test_a_wrong_declared_digest_is_refused(client: TestClient) -> None:
    edition = new_edition()
    edition["sha256"] = "0" * 64
    assert client.put("/_sandbox/measure-lists", json=edition, headers=AUTH).status_code == 422


# --- faults, counters, reset ----------------------------------------------------------------


def test_faults_can_be_listed_and_cleared(client: TestClient) -> None:
    client.post("/_sandbox/faults", json={"route": "feedback", "status": 503}, headers=AUTH)
    client.post(
        "/_sandbox/faults", json={"route": "health", "latency_ms": 5, "times": 2}, headers=AUTH
    )
    faults = client.get("/_sandbox/faults", headers=AUTH).json()["faults"]
    assert {f["route"] for f in faults} == {"feedback", "health"}
    assert client.delete("/_sandbox/faults?route=health", headers=AUTH).json() == {"cleared": 1}
    assert client.delete("/_sandbox/faults", headers=AUTH).json() == {"cleared": 1}
    assert client.get("/_sandbox/faults", headers=AUTH).json() == {"faults": []}


@pytest.mark.parametrize(
    "fault",
    [
        {"route": "admin", "status": 503},
        {"route": "health"},
        {"route": "health", "status": 200},
        {"route": "health", "status": 700, "mode": "malformed"},
        {"route": "health", "mode": "explode"},
        {"route": "health", "status": 503, "times": 0},
        {"route": "health", "status": 503, "retry_after": -1},
        {"route": "health", "retry_after": 3},
        {"route": "health", "latency_ms": 10**6},
        {"route": "health", "status": "503"},
        {"route": "health", "status": 503, "colour": "red"},
        {"route": "health", "mode": "malformed", "size_bytes": 2048},
        {"route": "health", "mode": "oversized", "size_bytes": 10},
        {"status": 503},
    ],
)
def test_bad_faults_are_422(client: TestClient, fault: dict[str, Any]) -> None:
    assert client.post("/_sandbox/faults", json=fault, headers=AUTH).status_code == 422


def test_request_counters(client: TestClient) -> None:
    client.get("/v1/health")
    client.get("/v1/health")
    client.get("/v1/measure-lists")  # refused (no credentials) but counted
    client.get("/v1/measure-lists/a/versions/b", headers=AUTH)
    client.post("/v1/reports:query", json=report_query(subject("clean")), headers=AUTH)
    counts = client.get("/_sandbox/requests", headers=AUTH).json()["counts"]
    assert counts == {"health": 2, "measure-lists": 2, "reports:query": 1}
    assert client.delete("/_sandbox/requests", headers=AUTH).json() == {"counts": {}}


def test_reset_restores_the_seed(client: TestClient) -> None:
    put_subject(client, {"subject": subject("severe_list"), "state": "unknown"})
    client.put("/_sandbox/measure-lists", json=new_edition(), headers=AUTH)
    client.post("/_sandbox/faults", json={"route": "*", "status": 503}, headers=AUTH)
    client.post("/v1/feedback", json={"items": []}, headers={**AUTH, "Idempotency-Key": "k"})
    response = client.post("/_sandbox/reset", headers=AUTH)
    assert response.json() == {"reset": True, "subjects": len(seeded_subjects())}
    assert client.get("/_sandbox/faults", headers=AUTH).json() == {"faults": []}
    assert client.get("/_sandbox/requests", headers=AUTH).json() == {"counts": {}}
    assert client.get("/_sandbox/feedback", headers=AUTH).json() == {"items": []}
    assert report_of(client, subject("severe_list")).list_memberships
    versions = {e["version"] for e in client.get("/v1/measure-lists", headers=AUTH).json()["lists"]}
    assert "sample-2026.2" not in versions


def test_unseeded_sandbox_starts_empty_and_stays_empty_on_reset(empty_client: TestClient) -> None:
    assert empty_client.get("/_sandbox/subjects", headers=AUTH).json() == {"subjects": []}
    empty_client.post("/_sandbox/reset", headers=AUTH)
    assert empty_client.get("/_sandbox/subjects", headers=AUTH).json() == {"subjects": []}
