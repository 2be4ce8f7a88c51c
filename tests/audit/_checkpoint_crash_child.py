"""Child process for the checkpoint crash proof: appends records to the query log, then writes
a signed checkpoint and dies by SIGKILL right after the checkpoint's transaction committed,
before anything else ran. The kill is a real SIGKILL of this process; the seam is only where
it happens (the store's checkpoint write, wrapped here)."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from credit_sdk import CheckpointPolicy, CheckpointSigner, FileCheckpointSink, open_query_log
from credit_sdk._audit._witness import Checkpointer
from tests.audit.conftest import make_completion, make_intent


def _die_after_each_written_checkpoint() -> None:
    """Every checkpoint writer of this process SIGKILLs the process as soon as its write
    returns: the checkpoint's transaction has committed, nothing after it has run."""
    original = Checkpointer.__init__

    def init(self: Checkpointer, policy: Any, write: Any, *args: Any, **kwargs: Any) -> None:
        def write_then_die() -> Any:
            cp = write()
            if cp is not None:
                os.kill(os.getpid(), signal.SIGKILL)
            return cp

        original(self, policy, write_then_die, *args, **kwargs)

    Checkpointer.__init__ = init  # type: ignore[method-assign]


def main(target: str, key_hex: str, witness: str, start: int, pairs: int) -> None:
    policy = CheckpointPolicy(
        CheckpointSigner(bytes.fromhex(key_hex)),
        every_records=1_000_000,
        every_seconds=86_400,
        sinks=[FileCheckpointSink(witness)],
    )
    _die_after_each_written_checkpoint()
    log = open_query_log(target, checkpoints=policy)
    for k in range(start, start + pairs):
        intent = make_intent(k)
        log.record_intent(intent)
        log.record_completion(make_completion(intent))
    sys.stdout.write("checkpointing\n")
    sys.stdout.flush()
    log.checkpoint()
    sys.stdout.write("survived\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
