"""Child process for the crash proofs: writes to the query log from several threads and prints
each id on stdout only after the store acknowledged it as durable. The parent SIGKILLs it."""

from __future__ import annotations

import sys
import threading

from credit_sdk import open_query_log
from tests.audit.conftest import make_completion, make_feedback, make_intent


def main(target: str, what: str) -> None:
    log = open_query_log(target)
    lock = threading.Lock()

    def report(line: str) -> None:
        with lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def worker(t: int) -> None:
        n = 0
        while True:
            n += 1
            if what == "log":
                intent = make_intent(t * 1_000_000 + n)
                log.record_intent(intent)
                report(f"intent {intent.query_id}")
                log.record_completion(make_completion(intent))
                report(f"completion {intent.query_id}")
            else:
                item = make_feedback(t * 1_000_000 + n)
                log.enqueue_feedback([item])
                report(f"feedback {item.idempotency_key}")

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(4)]
    for t in threads:
        t.start()
    report("ready")
    for t in threads:
        t.join()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
