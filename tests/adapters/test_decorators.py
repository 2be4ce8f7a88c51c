"""Generic decorators for plain functions and methods, sync and async, on both platforms."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from credit_sdk.adapters.decorators import CheckRefused, RefusalPolicy, credit_check

from credit_sdk import (
    Authorization,
    AuthorizationError,
    ConfigurationError,
    CreditSDKError,
    Decision,
    InvalidIdentifier,
    InvalidQuery,
    Outcome,
    QueryContext,
)
from tests.adapters.conftest import Backend
from tests.adapters.support import CONTEXT, corrupted, masked, raw


@dataclass
class Application:
    applicant_id: str
    number: str


@dataclass
class Candidate:
    id_number: str
    consent: Authorization | None = None


class AppError(Exception):
    pass


def consent(subject: str) -> Authorization:
    return Authorization(
        subject=subject,
        grant_id="G-2026-0042",
        scope=("qualification",),
        purpose="SOE director qualification review 2026",
        granted_on=dt.date(2026, 11, 1),
        expires_on=dt.date(2027, 2, 1),
    )


def test_sync_function_by_dotted_name(backend: Backend) -> None:
    client = backend.client()

    @credit_check(client, "admin_licensing", subject="application.applicant_id", context="ctx")
    def approve(application: Application, ctx: QueryContext, *, decision: Decision) -> str:
        if application.number == "boom":
            raise AppError("the licensing database is down")
        return f"{decision.outcome.value} {decision.subject}"

    assert approve(Application(raw("red_list"), "1"), CONTEXT) == f"INCENTIVES {masked('red_list')}"
    with pytest.raises(CheckRefused) as refused:
        approve(Application(raw("severe_list"), "2"), CONTEXT)
    assert refused.value.decision.outcome is Outcome.RESTRICTED
    assert refused.value.status == 403
    assert refused.value.problem.body["restrictions"]
    assert isinstance(refused.value, CreditSDKError)
    assert raw("severe_list") not in str(refused.value)
    assert masked("severe_list") in str(refused.value)
    with pytest.raises(AppError):
        approve(Application(raw("clean"), "boom"), CONTEXT)
    assert backend.queries == 3


def test_review_and_platform_down_are_refused(backend: Backend) -> None:
    client = backend.client()

    @credit_check(client, "bidding", subject="bidder")
    def admit(bidder: str, ctx: QueryContext) -> str:
        return "admitted"

    with pytest.raises(CheckRefused) as review:
        admit(raw("disputed"), CONTEXT)
    assert review.value.status == 409
    backend.down()
    with pytest.raises(CheckRefused) as down:
        admit(raw("clean"), CONTEXT)
    assert down.value.decision.outcome is Outcome.INDETERMINATE
    assert down.value.status == 503
    assert down.value.problem.headers["Retry-After"] == "30"


def test_sdk_errors_propagate_before_any_query(backend: Backend) -> None:
    client = backend.client()

    @credit_check(client, "bidding", subject="bidder")
    def admit(bidder: Any, ctx: QueryContext) -> str:
        return "admitted"

    with pytest.raises(InvalidIdentifier) as bad:
        admit(corrupted("severe_list"), CONTEXT)
    assert bad.value.rule == "check_character"
    assert corrupted("severe_list") not in str(bad.value)
    with pytest.raises(InvalidIdentifier, match="must be text"):
        admit(91230100, CONTEXT)
    with pytest.raises(InvalidQuery, match="no subject") as absent:
        admit(None, CONTEXT)
    assert absent.value.rule == "subject_missing"
    assert backend.queries == 0


def test_attach_only_and_functions_as_sources(backend: Backend) -> None:
    client = backend.client()

    @credit_check(
        client,
        "qualification_review",
        subject=lambda args: args["candidate"].id_number,
        context=lambda args: QueryContext(
            organ="230100-GZW",
            operator=args["officer"],
            matter_code="SOE-QUAL",
            purpose="SOE director qualification review 2026",
        ),
        authorization="candidate.consent",
        policy=RefusalPolicy.never(),
    )
    def qualify(candidate: Candidate, officer: str, decision: Decision | None = None) -> Decision:
        assert decision is not None
        return decision

    decision = qualify(Candidate(raw("linked_person"), consent(raw("linked_person"))), "u7")
    assert decision.outcome is Outcome.RESTRICTED  # Art. 45: legal representative
    with pytest.raises(AuthorizationError):
        qualify(Candidate(raw("linked_person")), "u7")


def test_context_from_named_arguments() -> None:
    calls: list[str] = []

    class FakeClient:
        pass

    @credit_check(lambda: FakeClient(), "bidding", subject="bidder")  # type: ignore[arg-type,return-value]
    def admit(bidder: str, organ: str, operator: str, matter_code: str) -> str:
        calls.append(bidder)
        return "x"

    with pytest.raises(InvalidQuery, match="missing purpose") as missing:
        admit(raw("clean"), "230100-CZJ", "u1", "ZB-1")
    assert missing.value.rule == "context_missing"
    assert calls == []


def test_methods_and_the_client_resolved_late(memory_backend: Backend) -> None:
    holder: dict[str, Any] = {}

    class LicenceDesk:
        def __init__(self) -> None:
            self.granted: list[str] = []

        @credit_check(lambda: holder["client"], "admin_licensing", subject="applicant")
        def grant(self, applicant: str, ctx: QueryContext, decision: Decision) -> bool:
            self.granted.append(decision.subject)
            return decision.commitment_eligible

    holder["client"] = memory_backend.client()
    desk = LicenceDesk()
    assert desk.grant(raw("clean"), ctx=CONTEXT) is True
    assert desk.granted == [masked("clean")]


def test_async_function_with_the_async_client(backend: Backend) -> None:
    async def run() -> tuple[str, CheckRefused]:
        async with backend.async_client() as client:
            if backend.name == "sandbox":
                await client.sync_lists()

            @credit_check(client, "honorary_titles", subject="nominee")
            async def nominate(nominee: str, ctx: QueryContext, *, decision: Decision) -> str:
                await asyncio.sleep(0)
                return decision.outcome.value

            ok = await nominate(raw("red_list"), CONTEXT)
            try:
                await nominate(raw("general_dishonesty"), CONTEXT)
            except CheckRefused as err:
                return ok, err
            raise AssertionError("not refused")

    ok, refused = asyncio.run(run())
    assert ok == "INCENTIVES"
    assert refused.decision.outcome is Outcome.RESTRICTED


def test_async_function_with_the_blocking_client(backend: Backend) -> None:
    client = backend.client()

    @credit_check(client, "fiscal_funds", subject="applicant", context=CONTEXT)
    async def subsidise(applicant: str) -> str:
        return "paid"

    assert asyncio.run(subsidise(raw("clean"))) == "paid"
    with pytest.raises(CheckRefused):
        asyncio.run(subsidise(raw("judgment_defaulter")))


def test_async_client_cannot_serve_a_blocking_function(memory_backend: Backend) -> None:
    client = memory_backend.async_client()
    with pytest.raises(ConfigurationError, match="blocking"):

        @credit_check(client, "bidding", subject="bidder")
        def admit(bidder: str) -> str:
            return "x"


def test_refusal_policy_is_validated() -> None:
    with pytest.raises(ConfigurationError, match="400-599"):
        RefusalPolicy().refuse(Outcome.REVIEW, 200)
    with pytest.raises(ValueError, match="NOPE"):
        RefusalPolicy().allow("NOPE")


def test_client_named_by_an_argument(backend: Backend) -> None:
    class SubsidyOffice:
        def __init__(self, credit: Any) -> None:
            self.credit = credit

        @credit_check("self.credit", "fiscal_funds", subject="applicant", context=CONTEXT)
        def grant(self, applicant: str) -> str:
            return "granted"

    office = SubsidyOffice(backend.client())
    assert office.grant(raw("clean")) == "granted"
    with pytest.raises(CheckRefused):
        office.grant(raw("severe_list"))
    with pytest.raises(ConfigurationError, match="no credit client"):
        SubsidyOffice(None).grant(raw("clean"))


def test_injected_default_keeps_callers_simple(memory_backend: Backend) -> None:
    from credit_sdk.adapters.decorators import INJECTED

    @credit_check(memory_backend.client(), "bidding", subject="bidder", context=CONTEXT)
    def admit(bidder: str, *, decision: Decision = INJECTED) -> str:
        return decision.outcome.value

    assert admit(raw("red_list")) == "INCENTIVES"
    undecorated = admit.__wrapped__  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match="without its credit_check decorator"):
        undecorated(raw("red_list"))
    assert "credit_check" in repr(INJECTED)
    assert not hasattr(INJECTED, "__wrapped__")  # introspection sees a plain object
