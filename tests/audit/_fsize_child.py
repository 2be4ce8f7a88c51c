"""Child process for the full-disk proof that holds under root too: the file-size resource
limit (RLIMIT_FSIZE) binds every user, root included, unlike file permissions. The child caps
the size of any file it writes, writes intents until the store refuses, lifts the cap, writes
once more, and prints what it saw as JSON. It runs in its own process because the limit would
otherwise bind the test runner's files too."""

from __future__ import annotations

import json
import resource
import signal
import sys

from credit_sdk import AuditError, SQLiteQueryLog
from tests.audit.conftest import make_intent


def main(path: str, group_commit: bool) -> None:
    # Without this the kernel kills the writer with SIGXFSZ; with it, write() fails with EFBIG,
    # which is what a full disk looks like to SQLite.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    log = SQLiteQueryLog(path, group_commit=group_commit)
    acknowledged: list[str] = []
    errors: list[str] = []
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, hard))
    for n in range(20_000):  # bounded: the cap is reached long before
        intent = make_intent(n + 1)
        try:
            log.record_intent(intent)
        except AuditError as err:
            errors.append(type(err).__name__)
            if len(errors) >= 3:
                break
            continue
        acknowledged.append(intent.query_id)
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    after = make_intent(50_000)
    log.record_intent(after)
    result = log.verify()
    exported = [r.query_id for r in log.export()]
    log.close()
    json.dump(
        {
            "acknowledged": acknowledged,
            "errors": errors,
            "verified": result.ok,
            "count": result.count,
            "exported": exported,
            "after": after.query_id,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] == "group")
