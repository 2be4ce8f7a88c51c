"""The completion record carries the digest of the report the decision was made from: the
SHA-256 of the report's canonical bytes (as received, after the Art. 20 screening)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from credit_sdk import CreditReport, MemoryQueryLog, QueryContext, Scenario
from credit_sdk._models import sample_report_path
from credit_sdk._replay import report_bytes, report_digest, report_from_bytes
from credit_sdk.testing import CreditPlatform, fake_uscc

SAMPLES = sorted(p.stem for p in sample_report_path("clean").parent.glob("*.json"))
CTX = QueryContext(
    organ="230100-SCJGJ", operator="u1024", matter_code="LIC-1", purpose="licence 2026-118"
)


def _sample(name: str) -> bytes:
    return sample_report_path(name).read_bytes()


def _parses(raw: bytes) -> bool:
    try:
        CreditReport.parse(raw)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name", [n for n in SAMPLES if _parses(_sample(n))])
def test_canonical_bytes_parse_back_to_the_same_report_and_digest(name: str) -> None:
    report = CreditReport.parse(_sample(name))
    data = report_bytes(report)
    assert data is not None
    again = report_from_bytes(data)
    assert again == report
    assert report_bytes(again) == data
    assert report_digest(again) == report_digest(report) == hashlib.sha256(data).hexdigest()
    # Whitespace and key order of what was received do not matter; content does.
    reordered = json.dumps(json.loads(_sample(name)), indent=2, sort_keys=False)
    assert report_digest(CreditReport.parse(reordered)) == report_digest(report)


def test_prohibited_fields_never_reach_the_canonical_bytes() -> None:
    raw = json.loads(_sample("clean"))
    raw["subject"]["religion"] = "never-kept-value"
    raw["subject"]["blood_type"] = "AB"
    report = CreditReport.parse(json.dumps(raw))
    assert report.prohibited_fields_dropped
    data = report_bytes(report)
    assert data is not None
    assert b"never-kept-value" not in data
    kept = json.loads(data)
    assert "religion" not in kept["subject"]
    assert "blood_type" not in kept["subject"]
    # Only the paths of what was dropped stay, so a replay flags it the same way.
    assert sorted(kept["prohibited_fields_dropped"]) == sorted(report.prohibited_fields_dropped)


def test_a_report_built_in_code_has_no_digest() -> None:
    built = CreditReport.model_validate_json(_sample("clean"))  # not through parse()
    assert built.received is None
    assert report_digest(built) is None


def test_a_changed_report_has_another_digest() -> None:
    raw = json.loads(_sample("severe_list"))
    first = report_digest(CreditReport.parse(json.dumps(raw)))
    raw["records"][0]["title"] = raw["records"][0]["title"] + "。"
    assert report_digest(CreditReport.parse(json.dumps(raw))) != first


def _completions(log: MemoryQueryLog) -> list[dict[str, Any]]:
    return [r.data for r in log.export() if r.kind == "completion"]


def test_every_completion_through_the_client_names_the_report_digest() -> None:
    platform = CreditPlatform()
    company = fake_uscc(3)
    platform.subject(company).on_severe_list(category="bid_rigging")
    served: list[CreditReport] = []
    original = platform.query_report

    def spy(query: Any) -> CreditReport:
        report = original(query)
        served.append(report)
        return report

    platform.query_report = spy  # type: ignore[method-assign]
    log = MemoryQueryLog()
    with platform.client(audit=log) as client:
        decision = client.check(company, Scenario.BIDDING, CTX)
    (done,) = _completions(log)
    (report,) = served
    assert done["report_sha256"] == report_digest(report)
    assert done["report_id"] == decision.provenance.report_id
    assert len(done["report_sha256"]) == 64


def test_a_cached_decision_names_the_same_digest_and_a_failed_one_none() -> None:
    platform = CreditPlatform()
    company = fake_uscc(4)
    log = MemoryQueryLog()
    with platform.client(audit=log, cache_ttl=60.0) as client:
        client.check(company, Scenario.BIDDING, CTX)
        client.check(company, Scenario.BIDDING, CTX)
        platform.down()
        client.check(fake_uscc(5), Scenario.BIDDING, CTX)
    first, second, failed = _completions(log)
    assert first["report_sha256"] is not None
    assert second["report_sha256"] == first["report_sha256"]
    assert failed["report_sha256"] is None
    assert failed["outcome"] == "INDETERMINATE"
