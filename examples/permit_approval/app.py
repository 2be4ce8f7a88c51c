"""Permit approval example: a food-business licence window (食品经营许可) built with FastAPI.

Every application is checked at the Art. 27(1) decision point (``admin_licensing``) by the
``credit_check`` dependency before the handler sees it. A clear or red-list applicant is
received (with the green channel, Art. 40(1), and the commitment route, Art. 28, when open); an
applicant under restrictions gets a 403 problem document listing each restriction with its legal
basis; one whose record is under objection gets 409 (Art. 53: a case officer reviews it); and
when the credit platform cannot answer, the window fails closed with 503 + ``Retry-After``.

Run it against the sandbox platform (SAMPLE data only):

    python -m examples.permit_approval                        # starts its own sandbox, prints
    python -m examples.permit_approval --sandbox-url http://127.0.0.1:8765 \\
        --token sandbox-token-not-a-secret                    # a running `credit-sdk sandbox`
    python examples/permit_approval/app.py --sandbox-url ... --serve --port 8000
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import sys
import warnings
from collections.abc import Sequence
from typing import Annotated, Any, Protocol

from credit_sdk.adapters.fastapi import credit_check, install
from fastapi import Depends, FastAPI, Header
from pydantic import BaseModel, Field

from credit_sdk import (
    CreditClient,
    Decision,
    MemoryQueryLog,
    QueryContext,
    Scenario,
)

ORGAN = "230100-SCJGJ"  # the market regulation bureau running the window (sample code)
MATTER = "LIC-FOOD-BUSINESS"


class LicenceApplication(BaseModel):
    """What the applicant submits at the window."""

    application_no: str = Field(examples=["2026-118"])
    applicant_id: str = Field(description="unified social credit code of the applicant")
    business_name: str
    commitment_route: bool = Field(
        default=False, description="apply under the credit-commitment system (告知承诺制)"
    )


def case_officer(x_officer_id: Annotated[str, Header()] = "window-01") -> str:
    """The officer at the window. A real system takes this from its own login, never from a
    header the browser controls; the header keeps the example self-contained."""
    return x_officer_id


def query_context(
    application: LicenceApplication, officer: Annotated[str, Depends(case_officer)]
) -> QueryContext:
    """Art. 23, 25: who queries, for which matter and why; logged with every check."""
    return QueryContext(
        organ=ORGAN,
        operator=officer,
        matter_code=MATTER,
        purpose=f"food business licence application {application.application_no}",
    )


#: The check every application goes through; FastAPI injects the decision into the handler.
CreditDecision = Annotated[
    Decision,
    Depends(credit_check(Scenario.ADMIN_LICENSING, subject="applicant_id", context=query_context)),
]


def create_app(client: CreditClient) -> FastAPI:
    """The licence window, with its credit client (one per process, closed by the caller)."""
    app = FastAPI(title="Food business licence window (SAMPLE)")
    install(app, client)  # the client for credit_check, and problem+json refusals

    @app.post("/applications")
    def receive(application: LicenceApplication, decision: CreditDecision) -> dict[str, Any]:
        route = "standard"
        if application.commitment_route:
            # Art. 28: the commitment route is open only to eligible subjects.
            route = "commitment" if decision.commitment_eligible else "standard (commitment closed)"
        green_channel = [
            {"title": m.title, "legal_basis": list(m.legal_basis)} for m in decision.incentives
        ]
        if decision.incentives:
            # Art. 46: report the incentives the window applies (delivered in the background).
            client.feedback(
                decision,
                applied=[m.measure_id for m in decision.incentives],
                case_id=application.application_no,
                implementing_department=ORGAN,
            )
        return {
            "application_no": application.application_no,
            "status": "received",
            "applicant": decision.subject,  # masked: the window never echoes the raw code
            "credit_outcome": decision.outcome.value,
            "route": route,
            "green_channel": green_channel,
            "supervision_tier": decision.supervision_tier,
            "credit_query_id": decision.query_id,
        }

    return app


# --- the demo: what a case officer sees -------------------------------------------------------


class Sandbox(Protocol):
    """What the demo needs of a sandbox: where it is, its token, and its admin helpers."""

    @property
    def url(self) -> str: ...

    @property
    def token(self) -> str: ...

    @property
    def admin(self) -> Any: ...


#: (application number, sandbox subject state, commitment route?, what the case shows)
CASES = (
    ("2026-118", "clean", True, "a company with no records, commitment route"),
    ("2026-119", "red_list", False, "a red-list company: green channel (Art. 40(1))"),
    ("2026-120", "severe_list", True, "a severe-list company (Art. 41)"),
    ("2026-121", "disputed", False, "a severe record under objection (Art. 53)"),
    ("2026-122", "repaired", False, "the credit platform is down: fail closed"),
)


def _problem_lines(problem: dict[str, Any]) -> list[str]:
    lines = [f"    {problem['title']}", f"    {problem['detail']}"]
    measures = [*problem.get("restrictions", ()), *problem.get("held_for_review", ())]
    for n, measure in enumerate(measures, 1):
        lines.append(f"    {n}. {measure['title']}  [{measure['measure_id']}]")
        lines.append(f"       设定依据: {'；'.join(measure['legal_basis'])}")
        lines.append(f"       实施主体: {measure['implementing_body']}")
    if problem.get("reason_codes"):
        lines.append(f"    reason codes: {', '.join(problem['reason_codes'])}")
    return lines


def run_demo(sandbox: Sandbox, *, today: dt.date | None = None) -> str:
    """Drive the window with FastAPI's TestClient against ``sandbox``; return what the case
    officer sees. ``today`` pins the check date (the sample data is dated 2026)."""
    with warnings.catch_warnings():
        # Newer Starlette prefers the httpx2 package for its TestClient and warns at import
        # when it falls back to httpx; the client behaves the same.
        warnings.filterwarnings("ignore", message="Using `httpx` with", category=UserWarning)
        from fastapi.testclient import TestClient
    from credit_sdk.sandbox import seeded_subject

    options: dict[str, Any] = {"today": (lambda: today)} if today is not None else {}
    lines = ["食品经营许可窗口 Food business licence window — credit checks at Art. 27(1)"]
    with (
        MemoryQueryLog() as log,
        CreditClient.sandbox(
            sandbox.url,
            token=sandbox.token,
            audit=log,
            pseudonym_key=secrets.token_bytes(32),
            list_sync_interval=None,
            **options,
        ) as client,
        TestClient(create_app(client)) as window,
    ):
        client.wait_until_ready(timeout=10)
        for number, state, commitment, story in CASES:
            subject = seeded_subject(state)
            if state == "repaired":
                sandbox.admin.inject_fault("reports:query", status=503, times=10)
            try:
                response = window.post(
                    "/applications",
                    json={
                        "application_no": number,
                        "applicant_id": subject.identifier.reveal(),
                        "business_name": "示例餐饮有限公司",
                        "commitment_route": commitment,
                    },
                    headers={"X-Officer-Id": "window-03"},
                )
            finally:
                if state == "repaired":
                    sandbox.admin.clear_faults("reports:query")
            lines.append("")
            lines.append(f"申请 {number}  申请人 {subject.identifier.masked}  — {story}")
            body = response.json()
            if response.status_code == 200:
                lines.append(
                    f"  → {response.status_code} 受理 received: credit {body['credit_outcome']},"
                    f" route {body['route']}, supervision {body['supervision_tier']}"
                )
                for item in body["green_channel"]:
                    lines.append(f"    绿色通道 green channel: {item['title']}")
                    lines.append(f"       设定依据: {'；'.join(item['legal_basis'])}")
            else:
                retry = response.headers.get("retry-after")
                suffix = f" (Retry-After: {retry} s)" if retry else ""
                lines.append(f"  → {response.status_code} {response.headers['content-type']}"
                             f"{suffix}")  # fmt: skip
                lines.extend(_problem_lines(body))
        # A mistyped code is refused before any query (Art. 21: GB 32100 check character).
        mistyped = seeded_subject("clean").identifier.reveal()
        mistyped = mistyped[:-1] + ("0" if mistyped[-1] != "0" else "1")
        response = window.post(
            "/applications",
            json={"application_no": "2026-123", "applicant_id": mistyped, "business_name": "x"},
        )
        problem = response.json()
        lines.append("")
        lines.append("申请 2026-123  申请人 (mistyped code) — a typing error at the window")
        lines.append(f"  → {response.status_code} {problem['title']} (rule {problem['rule']})")
        outbox = client.flush(timeout=10)  # deliver the Art. 46 feedback before closing
        stats = log.stats()
    lines.append("")
    lines.append(f"结果反馈 Feedback (Art. 46): {outbox.delivered} applied incentive(s) reported")
    lines.append(f"查询记录 Query log: {stats.completions} checks logged (Art. 25)")
    return "\n".join(lines)


# --- running it on its own ------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Food business licence window (SAMPLE data)")
    parser.add_argument("--sandbox-url", help="a running sandbox (default: start one here)")
    parser.add_argument("--token", default="sandbox-token-not-a-secret")
    parser.add_argument("--serve", action="store_true", help="serve the window on loopback")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if args.serve:
        if not args.sandbox_url:
            parser.error("--serve needs --sandbox-url (start one with `credit-sdk sandbox`)")
        import uvicorn

        with MemoryQueryLog() as log, CreditClient.sandbox(
            args.sandbox_url, token=args.token, audit=log, pseudonym_key=secrets.token_bytes(32)
        ) as client:  # fmt: skip
            uvicorn.run(create_app(client), host="127.0.0.1", port=args.port)
        return 0
    from credit_sdk.sandbox import run_with_sandbox

    print(run_with_sandbox(run_demo, args.sandbox_url, args.token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
