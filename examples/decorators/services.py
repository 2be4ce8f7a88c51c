"""Decorators example: credit checks on plain service functions, no web framework.

Two services of a city government, each checked at its Art. 27 decision point by
``credit_sdk.adapters.decorators.credit_check``:

* ``SubsidyOffice.grant`` (blocking, ``fiscal_funds``, Art. 27(3)): a subsidy is paid only when
  no restriction applies; a red-list applicant is paid first (Art. 40). A refused call raises
  ``CheckRefused`` carrying the decision.
* ``HonoursCommittee.nominate`` (``async``, ``honorary_titles``, Art. 27(4)): a record under
  objection does not refuse the nomination; it is deferred until the objection is decided
  (Art. 53), so the policy lets ``REVIEW`` through and the function decides.

Run it against the sandbox platform (SAMPLE data only):

    python -m examples.decorators                             # starts its own sandbox, prints
    python -m examples.decorators --sandbox-url http://127.0.0.1:8765 \\
        --token sandbox-token-not-a-secret                    # a running `credit-sdk sandbox`
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from credit_sdk.adapters.decorators import INJECTED, CheckRefused, RefusalPolicy, credit_check

from credit_sdk import (
    AsyncCreditClient,
    CreditClient,
    Decision,
    MemoryQueryLog,
    Outcome,
    QueryContext,
    Scenario,
)


@dataclass(frozen=True)
class SubsidyApplication:
    application_no: str
    applicant_id: str  # unified social credit code
    programme: str
    amount_yuan: int


class SubsidyOffice:
    """The fiscal subsidy desk of the industry bureau; ``credit`` is its shared client."""

    ORGAN = "230100-GXJ"

    def __init__(self, credit: CreditClient) -> None:
        self.credit = credit

    def context(self, application: SubsidyApplication, officer: str) -> QueryContext:
        return QueryContext(
            organ=self.ORGAN,
            operator=officer,
            matter_code="FISCAL-SUBSIDY",
            purpose=f"{application.programme} subsidy application {application.application_no}",
        )

    @credit_check(
        "self.credit",
        Scenario.FISCAL_FUNDS,
        subject="application.applicant_id",
        context=lambda args: args["self"].context(args["application"], args["officer"]),
    )
    def grant(
        self, application: SubsidyApplication, officer: str, *, decision: Decision = INJECTED
    ) -> str:
        priority = " (red list: paid first, Art. 40)" if decision.incentives else ""
        return f"granted {application.amount_yuan:,} yuan{priority}"


class HonoursCommittee:
    """The committee that nominates enterprises for a municipal honorary title."""

    def __init__(self, credit: AsyncCreditClient) -> None:
        self.credit = credit

    @credit_check(
        "self.credit",
        Scenario.HONORARY_TITLES,
        subject="nominee",
        policy=RefusalPolicy().allow(Outcome.REVIEW),
    )
    async def nominate(
        self, nominee: str, ctx: QueryContext, *, decision: Decision = INJECTED
    ) -> str:
        if decision.outcome is Outcome.REVIEW:
            return "deferred: a record is under objection (Art. 53); decide after the objection"
        return "nominated"


# --- the demo ---------------------------------------------------------------------------------


class Sandbox(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def token(self) -> str: ...

    @property
    def admin(self) -> Any: ...


HONOURS_CONTEXT = QueryContext(
    organ="230100-SWBGT",
    operator="honours-secretariat",
    matter_code="HONOUR-2026",
    purpose="2026 municipal honorary title nominations",
)


def _refusal(refused: CheckRefused) -> list[str]:
    problem = refused.problem.body
    lines = [f"  → refused ({refused.status}): {problem['title']}"]
    for measure in problem["restrictions"]:
        lines.append(f"    限制 {measure['title']}")
        lines.append(f"       设定依据: {'；'.join(measure['legal_basis'])}")
    if problem["reason_codes"]:
        lines.append(f"    reason codes: {', '.join(problem['reason_codes'])}")
    return lines


def run_demo(sandbox: Sandbox, *, today: dt.date | None = None) -> str:
    """Call both services with seeded sandbox subjects; return what their officers see.
    ``today`` pins the check date (the sample data is dated 2026)."""
    from credit_sdk.sandbox import seeded_subject

    def applicant(state: str) -> str:
        return seeded_subject(state).identifier.reveal()

    def shown(state: str) -> str:
        return seeded_subject(state).identifier.masked

    options: dict[str, Any] = {
        "token": sandbox.token,
        "pseudonym_key": secrets.token_bytes(32),
        "list_sync_interval": None,
    }
    if today is not None:
        options["today"] = lambda: today
    lines = ["财政补贴 Fiscal subsidies (blocking service, Art. 27(3))"]
    with (
        MemoryQueryLog() as log,
        CreditClient.sandbox(sandbox.url, audit=log, **options) as client,
    ):
        client.wait_until_ready(timeout=10)
        office = SubsidyOffice(client)
        for number, state, story in (
            ("SUB-2026-01", "clean", "no records"),
            ("SUB-2026-02", "red_list", "red list"),
            ("SUB-2026-03", "severe_list", "severe dishonesty list"),
            ("SUB-2026-04", "expired", "the credit platform is down"),
        ):
            application = SubsidyApplication(number, applicant(state), "智能制造", 500_000)
            lines.append(f"{number}  {shown(state)}  — {story}")
            if state == "expired":
                sandbox.admin.inject_fault("reports:query", status=503, times=10)
            try:
                lines.append(f"  → {office.grant(application, 'fiscal-officer-03')}")
            except CheckRefused as refused:
                lines.extend(_refusal(refused))
            finally:
                if state == "expired":
                    sandbox.admin.clear_faults("reports:query")
        subsidies_logged = log.stats().completions

    async def nominations(credit: AsyncCreditClient) -> list[str]:
        await credit.wait_until_ready(timeout=10)
        committee = HonoursCommittee(credit)
        out = ["", "荣誉称号 Honorary titles (async service, Art. 27(4))"]
        for state, story in (
            ("red_list", "red list"),
            ("disputed", "a severe record under objection"),
            ("general_dishonesty", "false materials on record"),
        ):
            out.append(f"{shown(state)}  — {story}")
            try:
                out.append(f"  → {await committee.nominate(applicant(state), HONOURS_CONTEXT)}")
            except CheckRefused as refused:
                out.extend(_refusal(refused))
        return out

    async def honours() -> list[str]:
        # The async client lives on this event loop: created, used and closed inside it.
        with MemoryQueryLog() as honours_log:
            async with AsyncCreditClient.sandbox(sandbox.url, audit=honours_log, **options) as c:
                return await nominations(c)

    lines.extend(asyncio.run(honours()))
    lines.append("")
    lines.append(f"查询记录 Query log: {subsidies_logged} subsidy checks logged (Art. 25)")
    return "\n".join(lines)


# --- running it on its own ------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Decorated service functions (SAMPLE data)")
    parser.add_argument("--sandbox-url", help="a running sandbox (default: start one here)")
    parser.add_argument("--token", default="sandbox-token-not-a-secret")
    args = parser.parse_args(argv)
    from credit_sdk.sandbox import run_with_sandbox

    print(run_with_sandbox(run_demo, args.sandbox_url, args.token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
