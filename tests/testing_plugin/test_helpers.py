"""credit_sdk.testing's parts: synthetic identifiers, builders, faults, the wire fake."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from typing import Any

import httpx
import pytest

from credit_sdk import (
    AsyncCreditClient,
    CreditClient,
    CreditReport,
    Outcome,
    PlatformError,
    QueryContext,
    ReasonCode,
    ResidentId,
    Uscc,
    decide,
    parse_identifier,
    sample_report_path,
)
from credit_sdk.testing import (
    ROUTES,
    CreditPlatform,
    HttpCreditPlatform,
    SubjectBuilder,
    fake_resident_id,
    fake_uscc,
)

# --- synthetic identifiers ----------------------------------------------------------------------


def test_fake_identifiers_validate_and_are_marked_synthetic() -> None:
    for n in range(300):
        assert Uscc(fake_uscc(n)).reveal()[8:12] == "FAKE"
        assert ResidentId(fake_resident_id(n)).birth_date.year == 1900
    assert fake_uscc(5) == fake_uscc(5) != fake_uscc(6)
    assert fake_resident_id(5) == fake_resident_id(5) != fake_resident_id(6)
    assert Uscc(fake_uscc()).region_code == "230100"  # unseeded: any valid number


def test_fake_identifier_options() -> None:
    assert Uscc(fake_uscc(1, region="110000", authority="12")).registration_authority == "1"
    person = ResidentId(fake_resident_id(1, birth_date=dt.date(1990, 5, 8), region="230103"))
    assert (person.birth_date, person.region_code) == (dt.date(1990, 5, 8), "230103")
    with pytest.raises(ValueError, match="region"):
        fake_uscc(1, region="23")
    with pytest.raises(ValueError, match="region"):
        fake_resident_id(1, region="x")


# --- builders: each state decides as documented -------------------------------------------------


def _build(platform: CreditPlatform, state: str) -> SubjectBuilder:
    if state == "linked":
        return platform.subject(fake_resident_id(1)).linked_to_severe_list_company()
    if state == "defaulter":
        return platform.subject(fake_resident_id(2)).on_judgment_defaulter_list()
    company = platform.subject(fake_uscc(hash(state) % 1000))
    return {
        "clean": company.clean,
        "severe": lambda: company.on_severe_list(category="bid_rigging"),
        "red": company.on_red_list,
        "dishonesty": lambda: company.with_dishonesty_record(category="bid_fraud"),
        "expired": company.with_expired_record,
        "repaired": company.with_repaired_severe_listing,
        "disputed": company.with_disputed_severe_listing,
        "false_commitment": company.with_false_commitment,
        "unfulfilled": lambda: company.with_false_commitment(unfulfilled=True),
        "commendation": company.with_commendation,
    }[state]()


@pytest.mark.parametrize(
    ("state", "scenario", "outcome", "measures"),
    [
        ("clean", "bidding", "CLEAR", set()),
        ("severe", "bidding", "RESTRICTED", {"HLJ-SUP-42.3-04", "HLJ-SUP-42.3-02"}),
        ("defaulter", "civil_service_hiring", "RESTRICTED", {"HLJ-SUP-42.7-01"}),
        ("red", "admin_licensing", "INCENTIVES", {"HLJ-INC-40.1-01", "HLJ-INC-40.1-02"}),
        ("dishonesty", "bidding", "RESTRICTED", {"HLJ-RES-41.3-02", "HLJ-SUP-42.3-03"}),
        ("expired", "bidding", "CLEAR", set()),
        ("repaired", "bidding", "CLEAR", set()),
        ("disputed", "bidding", "REVIEW", set()),
        (
            "false_commitment",
            "admin_licensing",
            "RESTRICTED",
            {"HLJ-RES-41.1-02", "HLJ-RES-41.2-01"},
        ),
        ("unfulfilled", "admin_licensing", "RESTRICTED", {"HLJ-RES-41.1-02", "HLJ-RES-41.2-01"}),
        ("linked", "qualification_review", "RESTRICTED", {"HLJ-SUP-42.6-01"}),
        ("commendation", "bidding", "INCENTIVES", {"HLJ-INC-40.2-02"}),
    ],
)
def test_each_builder_state_decides_as_documented(
    credit_platform: CreditPlatform,
    credit_client: CreditClient,
    credit_query_context: QueryContext,
    state: str,
    scenario: str,
    outcome: str,
    measures: set[str],
) -> None:
    builder = _build(credit_platform, state)
    grant = None
    if builder.is_person:
        from credit_sdk import Authorization

        today = credit_platform.today
        grant = Authorization(subject=builder.identifier,
                              grant_id="G-1", scope=("personnel", "qualification"),
                              purpose="test", granted_on=today,
                              expires_on=today + dt.timedelta(days=30))  # fmt: skip
    decision = credit_client.check(
        builder.identifier, scenario, credit_query_context, authorization=grant
    )
    assert decision.outcome == outcome
    assert set(decision.applied_measure_ids) == measures


def test_exclusion_reasons_of_expired_and_repaired(
    credit_platform: CreditPlatform, credit_client: CreditClient, credit_query_context: QueryContext
) -> None:
    credit_platform.subject(fake_uscc(1)).with_expired_record()
    credit_platform.subject(fake_uscc(2)).with_repaired_severe_listing()
    expired = credit_client.check(fake_uscc(1), "bidding", credit_query_context)
    repaired = credit_client.check(fake_uscc(2), "bidding", credit_query_context)
    assert {e.reason for e in expired.exclusions} == {ReasonCode.RECORD_EXPIRED}
    assert {e.reason for e in repaired.exclusions} == {ReasonCode.RECORD_REPAIRED}


def test_builder_surface(credit_platform: CreditPlatform) -> None:
    builder = credit_platform.subject(fake_uscc(1)).on_severe_list().with_evaluation()
    assert credit_platform.subject(fake_uscc(1)) is builder
    assert len(builder.item_ids) == 2
    report = builder.report
    report["records"].clear()  # a copy: the platform's report is untouched
    assert builder.report["records"]
    assert fake_uscc(1) not in repr(builder)
    assert builder.identifier.masked in repr(builder)
    assert builder.clean().item_ids == ()
    sample = json.loads(sample_report_path("red_list").read_text(encoding="utf-8"))
    sample["subject"]["identifier"] = fake_uscc(1)
    builder.with_report(sample)
    assert builder.report["list_memberships"][0]["list_type"] == "red_list"
    with pytest.raises(ValueError, match="natural person"):
        builder.linked_to_severe_list_company()
    with pytest.raises(ValueError, match="role"):
        credit_platform.subject(fake_resident_id(1)).linked_to_severe_list_company(role="cfo")
    with pytest.raises(ValueError, match="social credit code"):
        credit_platform.subject(fake_resident_id(1)).linked_to_severe_list_company(
            fake_resident_id(2)
        )


def test_builders_count_back_from_the_platforms_today() -> None:
    platform = CreditPlatform(today=dt.date(2030, 1, 15))
    report = platform.subject(fake_uscc(1)).on_severe_list().report
    assert report["list_memberships"][0]["listed_on"] == "2029-11-16"
    platform.today = dt.date(2031, 1, 1)
    assert platform.today == dt.date(2031, 1, 1)
    assert platform.report_json(fake_uscc(9))["records"] == []  # unknown: an empty report


def test_linked_person_reuses_an_already_listed_company(credit_platform: CreditPlatform) -> None:
    company = credit_platform.subject(fake_uscc(1)).on_severe_list(category="wage_arrears")
    person = credit_platform.subject(fake_resident_id(1)).linked_to_severe_list_company(
        company.identifier
    )
    (linked,) = person.report["linked_parties"]
    assert linked["organisation"] == fake_uscc(1)
    assert [m["membership_id"] for m in linked["memberships"]] == [company.item_ids[1]]


# --- faults in memory ---------------------------------------------------------------------------


def test_faults_count_down_and_clear(
    credit_platform: CreditPlatform, credit_client: CreditClient, credit_query_context: QueryContext
) -> None:
    credit_platform.down(times=2)
    outcomes = [
        credit_client.check(fake_uscc(1), "bidding", credit_query_context).outcome for _ in range(3)
    ]
    assert outcomes == [Outcome.INDETERMINATE, Outcome.INDETERMINATE, Outcome.CLEAR]
    credit_platform.timeout()
    assert credit_client.check(fake_uscc(1), "bidding", credit_query_context).outcome == (
        Outcome.INDETERMINATE
    )
    credit_platform.up()
    credit_platform.malformed(times=1)
    malformed = credit_client.check(fake_uscc(1), "bidding", credit_query_context)
    assert malformed.outcome is Outcome.INDETERMINATE
    assert "PlatformProtocolError" in malformed.advisories[0].message
    credit_platform.refusing(403, times=1)
    refused = credit_client.check(fake_uscc(1), "bidding", credit_query_context)
    assert "PlatformError" in refused.advisories[0].message
    assert credit_platform.calls["query_report"] == 6


def test_faults_can_be_limited_to_a_route(
    credit_platform: CreditPlatform, credit_client: CreditClient, credit_query_context: QueryContext
) -> None:
    credit_platform.subject(fake_uscc(1)).on_severe_list()
    credit_platform.down(route="feedback")
    decision = credit_client.check(fake_uscc(1), "bidding", credit_query_context)
    assert decision.outcome is Outcome.RESTRICTED
    credit_client.feedback(decision, applied=list(decision.applied_measure_ids),
                           case_id="T-1", implementing_department="D")  # fmt: skip
    queued = len(decision.applied_measure_ids)
    assert credit_client.flush(timeout=0.2).pending == queued
    assert credit_platform.feedback == []
    credit_platform.up()
    assert credit_client.flush(timeout=5).pending == 0
    assert len(credit_platform.feedback_for(decision)) == queued


def test_slow_is_a_real_delay_sync_and_async(
    credit_platform: CreditPlatform,
    credit_client: CreditClient,
    async_credit_client: AsyncCreditClient,
    credit_query_context: QueryContext,
) -> None:
    credit_platform.slow(0.05, times=1)
    started = time.perf_counter()
    assert credit_client.check(fake_uscc(1), "bidding", credit_query_context).outcome == "CLEAR"
    assert time.perf_counter() - started >= 0.05

    async def main() -> float:
        async with async_credit_client as client:
            credit_platform.slow(0.05, times=1)
            begin = time.perf_counter()
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.005)

            task = asyncio.create_task(ticker())
            await client.check(fake_uscc(1), "bidding", credit_query_context)
            task.cancel()
            assert ticks > 3  # the event loop kept running while the platform was slow
            return time.perf_counter() - begin

    assert asyncio.run(main()) >= 0.05


def test_fault_arguments_are_checked(credit_platform: CreditPlatform) -> None:
    with pytest.raises(ValueError, match="route"):
        credit_platform.down(route="everything")
    with pytest.raises(ValueError, match="times"):
        credit_platform.down(times=0)
    with pytest.raises(ValueError, match="negative"):
        credit_platform.slow(-1)
    with pytest.raises(ValueError, match="4xx"):
        credit_platform.refusing(200)
    routes = {"reports", "feedback", "objections", "duties", "checkpoints", "lists", "health"}
    assert frozenset(routes) == ROUTES


def test_one_subject_unavailable_in_a_batch(
    credit_platform: CreditPlatform, credit_client: CreditClient, credit_query_context: QueryContext
) -> None:
    credit_platform.unavailable_for(fake_uscc(2))
    results = credit_client.check_many(
        [fake_uscc(1), fake_uscc(2)], "bidding", credit_query_context
    )
    assert [r.unwrap().outcome for r in results] == [Outcome.CLEAR, Outcome.INDETERMINATE]
    credit_platform.up()
    assert credit_client.check(fake_uscc(2), "bidding", credit_query_context).outcome == "CLEAR"


def test_objection_labels_the_item_and_unknown_items_are_404(
    credit_platform: CreditPlatform, credit_client: CreditClient, credit_query_context: QueryContext
) -> None:
    company = credit_platform.subject(fake_uscc(1)).on_severe_list()
    for item_id in company.item_ids:
        receipt = credit_client.file_objection(fake_uscc(1), item_id, "basis revoked")
        assert receipt.received_on == credit_platform.today
    assert len(credit_platform.objections) == 2
    after = credit_client.check(fake_uscc(1), "bidding", credit_query_context)
    assert after.outcome is Outcome.REVIEW
    with pytest.raises(PlatformError) as err:
        credit_client.file_objection(fake_uscc(1), "REC-NOPE", "no such item")
    assert err.value.status_code == 404


def test_platform_health_and_repr(credit_platform: CreditPlatform) -> None:
    assert credit_platform.health()["production"] is False
    credit_platform.subject(fake_uscc(1)).on_red_list()
    assert fake_uscc(1) not in repr(credit_platform)
    assert "CreditPlatform(subjects=1" in repr(credit_platform)
    assert "as_async" in repr(credit_platform.as_async())


# --- the wire fake --------------------------------------------------------------------------


def _post(http: httpx.Client, path: str, body: Any, **headers: str) -> httpx.Response:
    return http.post(path, content=json.dumps(body), headers={
        "Content-Type": "application/json", **headers})  # fmt: skip


def test_wire_contract_details(credit_platform_http: HttpCreditPlatform) -> None:
    auth = {"Authorization": f"Bearer {credit_platform_http.token}"}
    with httpx.Client(base_url=credit_platform_http.url, headers=auth) as http:
        index = http.get("/v1/measure-lists")
        assert index.status_code == 200
        etag = index.headers["etag"]
        assert http.get("/v1/measure-lists", headers={"If-None-Match": etag}).status_code == 304
        first = index.json()["lists"][0]
        edition = http.get(f"/v1/measure-lists/{first['list_id']}/versions/{first['version']}")
        assert edition.headers["etag"] == f'"{first["sha256"]}"'
        assert http.get("/v1/measure-lists/nope/versions/1").status_code == 404
        assert http.get("/v1/measure-lists/a/b").status_code == 404
        assert http.get("/v1/nothing-here").status_code == 404

        item = {
            "query_id": "q1", "measure_id": "M-1", "applied": True, "case_id": "C-1",
            "implementing_department": "D", "occurred_at": "2026-11-29T00:00:00+00:00",
            "idempotency_key": "k1",
        }  # fmt: skip
        assert _post(http, "/v1/feedback", {"items": [item]}).status_code == 422  # no key
        first_post = _post(http, "/v1/feedback", {"items": [item]}, **{"Idempotency-Key": "b1"})
        assert (first_post.status_code, first_post.json()) == (
            202,
            {"accepted": 1, "duplicates": 0},
        )
        replay = _post(http, "/v1/feedback", {"items": [item]}, **{"Idempotency-Key": "b1"})
        assert replay.headers["idempotent-replayed"] == "true"
        other = _post(http, "/v1/feedback", {"items": [item, item]}, **{"Idempotency-Key": "b1"})
        assert other.status_code == 409
        again = _post(http, "/v1/feedback", {"items": [item]}, **{"Idempotency-Key": "b2"})
        assert again.json() == {"accepted": 0, "duplicates": 1}
        assert (
            _post(http, "/v1/feedback", {"items": [{}]}, **{"Idempotency-Key": "b3"}).status_code
            == 422
        )

        subject = {"kind": "uscc", "number": fake_uscc(1)}
        objection = {"subject": subject, "item_id": "X", "reason": "r", "needs_assistance": False}
        assert (
            _post(http, "/v1/objections", objection, **{"Idempotency-Key": "o1"}).status_code == 404
        )
        assert (
            _post(http, "/v1/objections", {"subject": 1}, **{"Idempotency-Key": "o2"}).status_code
            == 422
        )

        batch = {"scenario": "bidding", "organ": "O", "operator": "u", "matter_code": "M",
                 "purpose": "p", "queries": [{"query_id": f"q{i}", "subject": subject}
                                             for i in range(101)]}  # fmt: skip
        assert _post(http, "/v1/reports:batchQuery", batch).status_code == 413
        bad = _post(http, "/v1/reports:query", {"query_id": "q", "subject": {"number": "1"}})
        assert bad.status_code == 422
        assert fake_uscc(1) not in bad.text  # problems never echo identifiers
        wrong_type = http.post(
            "/v1/reports:query", content=b"x", headers={"Content-Type": "text/plain"}
        )
        assert wrong_type.status_code == 415
    with httpx.Client(base_url=credit_platform_http.url) as anonymous:
        assert anonymous.get("/v1/health").status_code == 200
        refused = anonymous.get("/v1/measure-lists")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
    assert credit_platform_http.requests["feedback"] == 6


def test_wire_passes_other_hosts_through(
    credit_platform_http: HttpCreditPlatform, sandbox_server: Any
) -> None:
    # A real loopback server keeps working while the fake is on.
    with httpx.Client() as http:
        assert http.get(f"{sandbox_server.url}/v1/health").json()["status"] == "ok"


def test_wire_faults_and_batches(
    credit_platform: CreditPlatform,
    credit_platform_http: HttpCreditPlatform,
    credit_query_context: QueryContext,
) -> None:
    credit_platform.subject(fake_uscc(1)).on_severe_list()
    client = credit_platform_http.client()
    credit_platform.refusing(503, times=1)
    assert client.check(fake_uscc(1), "bidding", credit_query_context).outcome == "RESTRICTED"
    credit_platform.unavailable_for(fake_uscc(2))
    results = client.check_many([fake_uscc(1), fake_uscc(2)], "bidding", credit_query_context)
    assert [r.unwrap().outcome for r in results] == ["RESTRICTED", "INDETERMINATE"]
    credit_platform.up()
    credit_platform.slow(0.02, times=1)
    assert client.check(fake_uscc(1), "bidding", credit_query_context).outcome == "RESTRICTED"
    assert [q.subject for q in credit_platform.queries].count(parse_identifier(fake_uscc(1))) == 3
    assert credit_platform.calls["list_index"] >= 1  # lists synced over the wire
    assert credit_platform.calls["fetch_list"] >= 1


def test_wire_objection_round_trip(
    credit_platform: CreditPlatform,
    credit_platform_http: HttpCreditPlatform,
    credit_query_context: QueryContext,
) -> None:
    company = credit_platform.subject(fake_uscc(1)).on_severe_list()
    client = credit_platform_http.client()
    for item_id in company.item_ids:  # the record and the listing
        receipt = client.file_objection(fake_uscc(1), item_id, "basis revoked")
        assert receipt.status == "pending"
    held = client.check(fake_uscc(1), "bidding", credit_query_context)
    assert held.outcome is Outcome.REVIEW
    assert [m.measure_id for m in held.held_for_review] == ["HLJ-SUP-42.3-04"]
    assert credit_platform_http.requests["objections"] == 2


def test_stop_closes_the_clients_it_built(credit_platform: CreditPlatform) -> None:
    wire = HttpCreditPlatform(credit_platform).start()
    assert wire.start() is wire  # idempotent
    client = wire.client()
    aclient = wire.async_client()
    wire.stop()
    wire.stop()
    from credit_sdk import ConfigurationError

    with pytest.raises(ConfigurationError, match="closed"):
        client.check(fake_uscc(1), "bidding", QueryContext("O", "u", "M", "p"))
    assert "running=False" in repr(wire)
    del aclient


def test_of_type_states_the_entity_type_and_survives_other_calls() -> None:
    """Art. 39, 44 ¶1: the interview reaches a severe-listed state-owned enterprise, not an
    ordinary enterprise; the stated type is kept when the subject is described further."""
    platform = CreditPlatform()
    soe = platform.subject(fake_uscc(41)).of_type("state_owned_enterprise").clean()
    soe.on_severe_list()
    plain = platform.subject(fake_uscc(42)).on_severe_list()
    today = platform.today
    interview = "HLJ-SUP-42.1-01"
    soe_decision = decide(CreditReport.parse(soe.report), "other", as_of=today)
    plain_decision = decide(CreditReport.parse(plain.report), "other", as_of=today)
    assert interview in {m.measure_id for m in soe_decision.restrictions}
    assert interview not in {m.measure_id for m in plain_decision.restrictions}
    with pytest.raises(ValueError, match="not_a_type"):
        platform.subject(fake_uscc(43)).of_type("not_a_type")


def test_individual_business_identifier_is_a_natural_person() -> None:
    """Art. 21: a 92... code is an individual business, a natural person; its report parses."""
    platform = CreditPlatform()
    shop = platform.subject(fake_uscc(44, authority="92")).on_severe_list()
    report = CreditReport.parse(shop.report)
    assert report.subject.kind.value == "natural_person"
    assert report.subject.resolved_entity_type is not None
    assert report.subject.resolved_entity_type.value == "individual_business"
