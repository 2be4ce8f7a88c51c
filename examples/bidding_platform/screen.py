"""Bidding platform example: screen every bidder of a tender in one call (Art. 27(2)).

A bidding platform checks all bidders of a tender before the evaluation: who is excluded under
Art. 42(3) and why, whose score is adjusted (Art. 40(2) bonus, Art. 42(3) deduction), and who
cannot be decided yet (an objection pending, or no credit data). It files the summary, then
reports back which measures it applied (Art. 46).

Run it against a sandbox platform (SAMPLE data only):

    python -m examples.bidding_platform.screen                 # starts its own sandbox
    python -m examples.bidding_platform.screen --url http://127.0.0.1:8765 \\
        --token sandbox-token-not-a-secret                     # a running `credit-sdk sandbox`
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Sequence
from typing import Any, Protocol

from credit_sdk.adapters.procurement import Bidder, TenderScreening, screen_tender

from credit_sdk import CreditClient, MemoryQueryLog, QueryContext, Scenario

TENDER_ID = "HLJ-ZB-2026-0318"
ORGAN = "230100-GGZYJY"  # the public-resource trading centre running the tender

#: The tender's bidders: the platform's own labels and the sandbox subject each one is.
BIDDERS = (
    ("投标人A", "severe_list"),
    ("投标人B", "red_list"),
    ("投标人C", "general_dishonesty"),
    ("投标人D", "disputed"),
    ("投标人E", "clean"),
)


class Sandbox(Protocol):
    """What the example needs of a sandbox: where it is, its token, its seeded subjects."""

    @property
    def url(self) -> str: ...

    @property
    def token(self) -> str: ...

    @property
    def seeded(self) -> Sequence[Any]: ...


def screen_bidders(
    client: CreditClient, bidders: Sequence[Bidder], tender_id: str
) -> TenderScreening:
    """The bidding platform's own step: one logged batch for the whole tender."""
    ctx = QueryContext(
        organ=ORGAN,
        operator="bid-evaluation-system",
        matter_code="ZB-CREDIT-SCREENING",
        purpose=f"bidder credit screening before evaluation, tender {tender_id}",
    )
    return screen_tender(client, tender_id, bidders, ctx, scenario=Scenario.BIDDING)


def report_back(client: CreditClient, screening: TenderScreening) -> int:
    """Art. 46: the exclusions and score adjustments the platform applied, fed back."""
    sent = 0
    for bidder in screening.bidders:
        applied = [m.measure_id for m in (*bidder.exclusions, *bidder.score_adjustments)]
        if bidder.decision is None or not applied:
            continue
        items = client.feedback(
            bidder.decision,
            applied=applied,
            case_id=screening.tender_id,
            implementing_department=ORGAN,
        )
        sent += len(items)
    client.flush(timeout=10)
    return sent


def run_demo(sandbox: Sandbox) -> str:
    """Screen a tender of seeded sandbox subjects; return what the procurement officer reads."""
    seeded = {s.state: s.identifier for s in sandbox.seeded}
    bidders = [Bidder(label, seeded[state]) for label, state in BIDDERS]
    with (
        MemoryQueryLog() as log,
        CreditClient.sandbox(
            sandbox.url,
            token=sandbox.token,
            audit=log,
            pseudonym_key=secrets.token_bytes(32),
            list_sync_interval=None,
        ) as client,
    ):
        client.wait_until_ready(timeout=10)  # verified lists from the platform first
        screening = screen_bidders(client, bidders, TENDER_ID)
        sent = report_back(client, screening)
        logged = log.stats().completions
    return (
        f"{screening.render()}\n\n"
        f"已反馈 Feedback (Art. 46): {sent} applied measure(s) reported; "
        f"查询记录 query log: {logged} completed queries"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", help="a running sandbox (default: start one here)")
    parser.add_argument("--token", default="sandbox-token-not-a-secret")
    args = parser.parse_args(argv)
    from credit_sdk.sandbox import run_with_sandbox

    print(run_with_sandbox(run_demo, args.url, args.token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
