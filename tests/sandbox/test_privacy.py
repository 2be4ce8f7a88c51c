"""No raw identifier in the sandbox's logs or error bodies, whatever happens."""

from __future__ import annotations

import logging

import httpx
import pytest

from credit_sdk.sandbox import SandboxServer, seeded_subjects
from tests.sandbox.helpers import AUTH, CONTEXT, TestClient, report_query

BAD = {"kind": "uscc", "number": "91230100MA1EXA017X"}
UNKNOWN = {"kind": "resident_id", "number": "360426199101010071"}


def raw_identifiers() -> list[str]:
    return [s.identifier.reveal() for s in seeded_subjects()] + [BAD["number"], UNKNOWN["number"]]


def exercise(client: TestClient | httpx.Client) -> list[str]:
    """Drive every path that handles an identifier; return the error bodies seen."""
    errors = []
    for s in seeded_subjects():
        client.post("/v1/reports:query", json=report_query(s.subject), headers=AUTH)
    for ref in (BAD, UNKNOWN):
        response = client.post("/v1/reports:query", json=report_query(ref), headers=AUTH)
        if response.status_code >= 400:
            errors.append(response.text)
    batch = {
        **CONTEXT,
        "queries": [{"query_id": "1", "subject": BAD}, {"query_id": "2", "subject": UNKNOWN}],
    }
    errors.append(
        client.post("/v1/reports:batchQuery", json=batch, headers=AUTH).json()["results"][0][
            "problem"
        ]["detail"]
    )
    objection = {"subject": UNKNOWN, "item_id": "X", "reason": "r", "needs_assistance": False}
    response = client.post(
        "/v1/objections", json=objection, headers={**AUTH, "Idempotency-Key": "o-1"}
    )
    errors.append(response.text)
    for body in (
        {"subject": BAD["number"], "state": "clean"},
        {"subject": UNKNOWN, "state": "severe_list"},
    ):
        errors.append(client.put("/_sandbox/subjects", json=body, headers=AUTH).text)
    client.put(
        "/_sandbox/subjects",
        json={"subject": UNKNOWN["number"], "state": "judgment_defaulter"},
        headers=AUTH,
    )
    client.post("/v1/reports:query", json=report_query(UNKNOWN))  # refused: no credentials
    return errors


def test_error_bodies_never_echo_identifiers(client: TestClient) -> None:
    errors = exercise(client)
    assert len(errors) >= 5
    for text in errors:
        for raw in raw_identifiers():
            assert raw not in text
            assert raw[-6:] not in text  # not even a masked tail


def test_logs_name_subjects_by_pseudonym_only(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.DEBUG),
        SandboxServer(log_level="debug") as server,
        httpx.Client(base_url=server.url) as http,
    ):
        exercise(http)
        server.admin.inject_fault("reports:query", status=503, times=1)
        http.post("/v1/reports:query", json=report_query(UNKNOWN), headers=AUTH)
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "reports:query subject=" in caplog.text  # subjects are logged, as pseudonyms
    for raw in raw_identifiers():
        assert raw not in text
        assert raw[:4] + "**" not in text  # and not masked either: pseudonyms only
