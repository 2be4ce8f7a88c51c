"""The query log (查询日志, Art. 25, 50) and the outbox (Art. 22, 46, 52).

Public names are re-exported from :mod:`credit_sdk`; see ``docs/audit.md`` for the design.

>>> from credit_sdk import open_query_log
>>> log = open_query_log("memory:")
>>> log.verify().ok
True
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from credit_sdk._audit._archive import ReportArchive
from credit_sdk._audit._types import (
    OUTCOMES,
    AuditRecord,
    AuditStats,
    ClaimedFeedback,
    ClaimedOutboxItem,
    FeedbackItem,
    ListSnapshot,
    OutboxItem,
    OutboxStats,
    PruneResult,
    QueryCompletion,
    QueryIntent,
    QueryLog,
    VerifyResult,
    new_query_id,
)
from credit_sdk._audit._witness import (
    CheckpointPolicy,
    CheckpointSigner,
    FileCheckpointSink,
    SignedCheckpoint,
    load_public_key,
    read_checkpoints,
)
from credit_sdk._audit.memory import MemoryQueryLog
from credit_sdk._audit.postgres import PostgresQueryLog  # psycopg itself is imported on first use
from credit_sdk._audit.sqlite import SQLiteQueryLog
from credit_sdk._errors import ConfigurationError

__all__ = [
    "OUTCOMES",
    "AuditRecord",
    "AuditStats",
    "CheckpointPolicy",
    "CheckpointSigner",
    "ClaimedFeedback",
    "ClaimedOutboxItem",
    "FeedbackItem",
    "FileCheckpointSink",
    "ListSnapshot",
    "MemoryQueryLog",
    "OutboxItem",
    "OutboxStats",
    "PostgresQueryLog",
    "PruneResult",
    "QueryCompletion",
    "QueryIntent",
    "QueryLog",
    "ReportArchive",
    "SQLiteQueryLog",
    "SignedCheckpoint",
    "VerifyResult",
    "load_public_key",
    "new_query_id",
    "open_query_log",
    "read_checkpoints",
]

#: Environment variable naming the default query-log database (path or postgresql:// URL).
ENV_VAR = "CREDIT_SDK_AUDIT_DB"


def open_query_log(url_or_path: str | os.PathLike[str] | None = None, **options: Any) -> QueryLog:
    """Open the query log named by a path or URL (default: ``$CREDIT_SDK_AUDIT_DB``).

    * ``postgresql://user@host/db`` (or ``postgres://``): :class:`PostgresQueryLog`; an extra
      ``?schema=NAME`` query parameter picks the schema (default ``credit_sdk``).
    * ``sqlite:///path/to/audit.db`` or a plain path: :class:`SQLiteQueryLog`.
    * ``memory:``: :class:`MemoryQueryLog` (tests only, not durable).

    ``options`` go to the store's constructor (``group_commit=``, ``create=``,
    ``max_attempts=`` ...).

    >>> open_query_log("memory:").stats().records
    0
    """
    if url_or_path is None:
        url_or_path = os.environ.get(ENV_VAR, "")
        if not url_or_path:
            raise ConfigurationError(
                f"no query log configured: pass a path or URL, or set {ENV_VAR}"
            )
    target = os.fspath(url_or_path)
    scheme = target.split(":", 1)[0].lower() if "://" in target else ""
    if scheme in ("postgresql", "postgres"):
        parts = urlsplit(target)
        query = parse_qsl(parts.query, keep_blank_values=True)
        schema = [v for k, v in query if k == "schema"]
        rest = [(k, v) for k, v in query if k != "schema"]
        if schema:
            options.setdefault("schema", schema[-1])
        return PostgresQueryLog(urlunsplit(parts._replace(query=urlencode(rest))), **options)
    if target in ("memory:", ":memory:"):
        return MemoryQueryLog(**options)
    if scheme == "sqlite":
        target = urlsplit(target).path
        if not target:
            raise ConfigurationError("a sqlite:// URL needs a path: sqlite:///path/to/audit.db")
    elif scheme:
        raise ConfigurationError(
            f"unsupported query log URL scheme {scheme!r}: use a file path, sqlite:///..., "
            "postgresql://... or memory:"
        )
    return SQLiteQueryLog(target, **options)
