"""Personnel review example: hiring and SOE-director qualification reviews, built with Flask.

Two decision points of Art. 27: civil-service hiring (27(5), ``civil_service_hiring``) and the
qualification review of a state-owned enterprise director (27(6), ``qualification_review``).
Candidates are natural persons, so each query needs the candidate's own authorisation
(Art. 25, 56): bounded in scope and time, never "once, for life". The ``CreditSDK`` extension
holds the client; ``@credit_check`` checks the candidate before each view.

* Hiring uses the default policy: a restricted candidate is refused with a 403 problem document
  listing each restriction and its legal basis.
* The qualification review hands every decision to the review panel (restrictions included,
  e.g. Art. 45: the candidate is the legal representative of a severe-list company), except
  when the platform cannot answer: that fails closed with 503.

Run it against the sandbox platform (SAMPLE data only):

    python -m examples.personnel_review                       # starts its own sandbox, prints
    python -m examples.personnel_review --sandbox-url http://127.0.0.1:8765 \\
        --token sandbox-token-not-a-secret                    # a running `credit-sdk sandbox`
    python examples/personnel_review/app.py --sandbox-url ... --serve --port 8001
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import sys
from collections.abc import Sequence
from typing import Any, Protocol

from credit_sdk.adapters.flask import CreditSDK, RefusalPolicy, credit_check
from flask import Flask, Request

from credit_sdk import (
    Authorization,
    CreditClient,
    Decision,
    MemoryQueryLog,
    Outcome,
    QueryContext,
    Scenario,
)

HR_BUREAU = "230100-RSJ"  # human resources and social security bureau (sample code)
SASAC = "230100-GZW"  # state-owned assets supervision commission (sample code)

#: Qualification reviews: the panel sees every outcome; only "no data" stops the review.
PANEL_POLICY = RefusalPolicy.never().refuse(Outcome.INDETERMINATE, 503)


def candidate_consent(req: Request) -> Authorization | None:
    """The candidate's authorisation, as collected with the application form (Art. 25, 56).

    ``Authorization`` refuses an open-ended scope or a lifelong term; a missing one makes the
    check answer 403 ``authorization-required``.
    """
    consent = (req.get_json(silent=True) or {}).get("consent")
    if not consent:
        return None
    return Authorization(
        # The grant binds the candidate who signed it: a check of anyone else is refused.
        subject=(req.get_json(silent=True) or {}).get("candidate", {}).get("id_number"),
        grant_id=consent["grant_id"],
        scope=tuple(consent["scope"]),
        purpose=consent["purpose"],
        granted_on=dt.date.fromisoformat(consent["granted_on"]),
        expires_on=dt.date.fromisoformat(consent["expires_on"]),
    )


def hiring_context(req: Request) -> QueryContext:
    return QueryContext(
        organ=HR_BUREAU,
        operator=req.headers.get("X-Reviewer", "hr-review-01"),
        matter_code="HIRE-2026",
        purpose=f"civil service recruitment 2026, post {(req.view_args or {}).get('post')}",
    )


def qualification_context(req: Request) -> QueryContext:
    return QueryContext(
        organ=SASAC,
        operator=req.headers.get("X-Reviewer", "sasac-review-01"),
        matter_code="SOE-DIRECTOR-QUAL",
        purpose=f"SOE director qualification review, case {(req.view_args or {}).get('case')}",
    )


def _measures(decision: Decision) -> list[dict[str, Any]]:
    return [
        {
            "title": m.title,
            "legal_basis": list(m.legal_basis),
            "because": [t.describe() for t in m.triggered_by],  # masked organisations only
        }
        for m in decision.restrictions
    ]


def create_app(client: CreditClient) -> Flask:
    """The review tool, with its credit client (one per process, closed by the caller)."""
    app = Flask(__name__)
    CreditSDK(app, client=client)

    @app.post("/hiring/<post>")
    @credit_check(
        Scenario.CIVIL_SERVICE_HIRING,
        subject="candidate.id_number",
        context=hiring_context,
        authorization=candidate_consent,
    )
    def hiring(post: str, decision: Decision) -> dict[str, Any]:
        return {
            "post": post,
            "candidate": decision.subject,  # masked
            "credit_outcome": decision.outcome.value,
            "notes": [a.message for a in decision.advisories],
            "credit_query_id": decision.query_id,
        }

    @app.post("/qualification/<case>")
    @credit_check(
        Scenario.QUALIFICATION_REVIEW,
        subject="candidate.id_number",
        context=qualification_context,
        authorization=candidate_consent,
        policy=PANEL_POLICY,
    )
    def qualification(case: str, decision: Decision) -> dict[str, Any]:
        # The panel decides; the SDK tells it what the published lists say and why.
        return {
            "case": case,
            "candidate": decision.subject,
            "credit_outcome": decision.outcome.value,
            "qualifies_on_credit": decision.outcome in (Outcome.CLEAR, Outcome.INCENTIVES),
            "restrictions": _measures(decision),
            "held_for_review": [m.title for m in decision.held_for_review],
            "credit_query_id": decision.query_id,
        }

    return app


# --- the demo: what the review panel sees -----------------------------------------------------


class Sandbox(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def token(self) -> str: ...

    @property
    def admin(self) -> Any: ...


def _consent(scope: str, today: dt.date) -> dict[str, Any]:
    return {
        "grant_id": f"G-{scope.upper()}-0042",
        "scope": [scope],
        "purpose": "2026 personnel review",
        "granted_on": (today - dt.timedelta(days=10)).isoformat(),
        "expires_on": (today + dt.timedelta(days=80)).isoformat(),
    }


#: (path, sandbox subject state, consent scope or None, what the case shows)
CASES = (
    ("/hiring/HR-07", "prohibited_fields", "personnel", "hiring; the report held data Art. 20 "
     "forbids"),
    ("/hiring/HR-07", "judgment_defaulter", "personnel", "hiring; a court judgment defaulter"),
    ("/hiring/HR-08", "judgment_defaulter", None, "hiring, without the candidate's consent"),
    ("/qualification/Q-2026-31", "linked_person", "qualification", "SOE director; legal "
     "representative of a severe-list company (Art. 45)"),
    ("/qualification/Q-2026-32", "judgment_defaulter", "qualification", "SOE director; the "
     "credit platform is down"),
)  # fmt: skip


def run_demo(sandbox: Sandbox, *, today: dt.date | None = None) -> str:
    """Drive the review tool with Flask's test client against ``sandbox``; return what the
    review panel sees. ``today`` pins the check date (the sample data is dated 2026)."""
    from credit_sdk.sandbox import seeded_subject

    day = today or dt.date.today()
    options: dict[str, Any] = {"today": (lambda: today)} if today is not None else {}
    lines = ["人事审查 Personnel review — credit checks at Art. 27(5) and 27(6)"]
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
    ):
        client.wait_until_ready(timeout=10)
        tool = create_app(client).test_client()
        for path, state, scope, story in CASES:
            subject = seeded_subject(state)
            body: dict[str, Any] = {"candidate": {"id_number": subject.identifier.reveal()}}
            if scope is not None:
                body["consent"] = _consent(scope, day)
            down = "platform is down" in story
            if down:
                sandbox.admin.inject_fault("reports:query", status=503, times=10)
            try:
                response = tool.post(path, json=body, headers={"X-Reviewer": "panel-02"})
            finally:
                if down:
                    sandbox.admin.clear_faults("reports:query")
            answer = response.get_json()
            lines.append("")
            lines.append(f"{path}  候选人 {subject.identifier.masked}  — {story}")
            if response.status_code == 200:
                lines.append(f"  → 200 credit {answer['credit_outcome']}")
                if "qualifies_on_credit" in answer:
                    verdict = "yes" if answer["qualifies_on_credit"] else "no"
                    lines.append(f"    qualifies on credit: {verdict}")
                for note in answer.get("notes", ()):
                    lines.append(f"    提示 note: {note}")
                for measure in answer.get("restrictions", ()):
                    lines.append(f"    限制 {measure['title']}")
                    lines.append(f"       设定依据: {'；'.join(measure['legal_basis'])}")
                    for reason in measure["because"]:
                        lines.append(f"       触发信息: {reason}")
            else:
                lines.append(f"  → {response.status_code} {answer['title']}")
                lines.append(f"    {answer['detail']}")
                for measure in answer.get("restrictions", ()):
                    lines.append(f"    限制 {measure['title']}")
                    lines.append(f"       设定依据: {'；'.join(measure['legal_basis'])}")
        stats = log.stats()
    lines.append("")
    lines.append(f"查询记录 Query log: {stats.completions} checks logged (Art. 25)")
    return "\n".join(lines)


# --- running it on its own ------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Personnel review tool (SAMPLE data)")
    parser.add_argument("--sandbox-url", help="a running sandbox (default: start one here)")
    parser.add_argument("--token", default="sandbox-token-not-a-secret")
    parser.add_argument("--serve", action="store_true", help="serve the tool on loopback")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    if args.serve:
        if not args.sandbox_url:
            parser.error("--serve needs --sandbox-url (start one with `credit-sdk sandbox`)")
        with MemoryQueryLog() as log, CreditClient.sandbox(
            args.sandbox_url, token=args.token, audit=log, pseudonym_key=secrets.token_bytes(32)
        ) as client:  # fmt: skip
            create_app(client).run(host="127.0.0.1", port=args.port)
        return 0
    from credit_sdk.sandbox import run_with_sandbox

    print(run_with_sandbox(run_demo, args.sandbox_url, args.token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
