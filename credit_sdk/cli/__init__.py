"""The ``credit-sdk`` command line.

Commands come in groups (``credit-sdk audit verify``); each group is one module of this package
with a function in :data:`COMMAND_GROUPS` that adds its sub-parsers and sets ``handler`` on
each, so a new group is one module, one function and one list entry. The groups:

* ``check`` (:mod:`credit_sdk.cli.check`): check a subject (or a CSV file of subjects) at an
  Art. 27 decision point, through a client built from ``CREDIT_SDK_*`` variables or
  ``--sandbox URL``;
* ``lists`` (:mod:`credit_sdk.cli.lists`): show the measure lists in use, validate list files
  (Art. 39–48), diff editions;
* ``feedback`` (:mod:`credit_sdk.cli.feedback`): deliver the Art. 46 feedback outbox now,
  requeue dead letters;
* ``push``, ``correct``, ``update-basis`` (:mod:`credit_sdk.cli.duties`): the organ's own
  duties (Art. 22, 52), queued in the outbox with their due dates in working days;
* ``audit`` (:mod:`credit_sdk.cli.audit`): verify, export, count and prune the query log
  (Art. 25, 50);
* ``sandbox`` (:mod:`credit_sdk.cli.sandbox`): run the development platform.

What the groups share (exit codes, parser classes, the client options and the client) lives in
:mod:`credit_sdk.cli._common`; :mod:`credit_sdk.cli._main` only builds the parser and
dispatches. Every command returns one of the exit codes in :data:`EXIT_CODES` (one table for all
of them), and nothing prints a raw identifier: subjects appear in their masked form.

>>> main(["audit", "verify", "--db", "memory:"])
chain verified: 0 records, head 0 0000000000000000000000000000000000000000000000000000000000000000
0
>>> main(["lists", "validate", "no/such/list.json"])
2
"""

from __future__ import annotations

from credit_sdk.cli._common import (
    EXIT_BROKEN_CHAIN,
    EXIT_CODES,
    EXIT_CONFIG,
    EXIT_DB_CORRUPT,
    EXIT_DB_MISSING,
    EXIT_DB_UNAVAILABLE,
    EXIT_DEAD_LETTERS,
    EXIT_INDETERMINATE,
    EXIT_INTERRUPTED,
    EXIT_INVALID_LIST,
    EXIT_OK,
    EXIT_PLATFORM,
    EXIT_RESTRICTED,
    EXIT_REVIEW,
    EXIT_USAGE,
    OUTCOME_EXIT_CODES,
)
from credit_sdk.cli._main import COMMAND_GROUPS, build_parser, main

__all__ = [
    "COMMAND_GROUPS",
    "EXIT_BROKEN_CHAIN",
    "EXIT_CODES",
    "EXIT_CONFIG",
    "EXIT_DB_CORRUPT",
    "EXIT_DB_MISSING",
    "EXIT_DB_UNAVAILABLE",
    "EXIT_DEAD_LETTERS",
    "EXIT_INDETERMINATE",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID_LIST",
    "EXIT_OK",
    "EXIT_PLATFORM",
    "EXIT_RESTRICTED",
    "EXIT_REVIEW",
    "EXIT_USAGE",
    "OUTCOME_EXIT_CODES",
    "build_parser",
    "main",
]
