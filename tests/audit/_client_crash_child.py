"""Child process for the client crash proofs: a ``CreditClient`` (with signed checkpoints and
the report archive on) checks subjects from several threads against the in-memory testing
platform and prints each query id on stdout only after ``check()`` returned its decision. The
parent SIGKILLs it, mid-stream or during start-up."""

from __future__ import annotations

import sys
import threading

from credit_sdk import (
    CheckpointPolicy,
    CheckpointSigner,
    QueryContext,
    ReportArchive,
    Scenario,
    open_query_log,
)
from credit_sdk.testing import CreditPlatform, fake_uscc

CTX = QueryContext(
    organ="230100-GGZY", operator="u1024", matter_code="BID-1", purpose="bidder screening"
)


def main(target: str) -> None:
    signer = CheckpointSigner(bytes(range(32)))
    log = open_query_log(target, checkpoints=CheckpointPolicy(signer, every_records=50))
    platform = CreditPlatform()
    for n in range(0, 40, 3):
        platform.subject(fake_uscc(n)).on_severe_list(category="bid_rigging")
    client = platform.client(audit=log, report_archive=ReportArchive(bytes(32)))
    lock = threading.Lock()

    def worker(t: int) -> None:
        n = 0
        while True:
            n += 1
            decision = client.check(fake_uscc((t * 7 + n) % 40), Scenario.BIDDING, CTX)
            with lock:
                sys.stdout.write(f"{decision.query_id} {decision.outcome.value}\n")
                sys.stdout.flush()

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main(sys.argv[1])
