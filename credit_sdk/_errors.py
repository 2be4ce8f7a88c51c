"""One exception tree for the whole SDK.

Everything the SDK raises on purpose derives from :class:`CreditSDKError`; errors about bad
*local* input (an identifier, a query context, a measure list, a report) also derive from
:class:`ValueError`, so hosts that already catch ``ValueError`` keep working. Third-party
exceptions (httpx, tenacity, sqlite3, psycopg) are converted at the boundary with
``raise ... from err`` and never reach the caller.

::

    CreditSDKError
    ├── InvalidIdentifier          (ValueError)  Art. 21: a malformed ID number / USCC
    ├── InvalidQuery               (ValueError)  Art. 23, 25: query context missing or unusable
    │   └── AuthorizationError                   Art. 25, 56: no/too-broad/expired authorisation
    ├── CatalogError               (ValueError)  Art. 39–42, 47, 48: a measure list breaks a rule
    ├── PolicyError                (ValueError)  a policy profile is inconsistent
    ├── ReportError                (ValueError)  a credit report does not fit the contract
    ├── ConfigurationError         (ValueError)  the SDK was configured wrongly
    ├── AuditError                               Art. 25: the query log could not be written/read
    │   └── AuditIntegrityError                  the hash chain does not verify
    ├── BulkScreeningError                       a bulk run stopped early (deadline, lost worker)
    └── PlatformError                            the credit platform failed us
        ├── PlatformUnavailable                  down, timing out, breaker open
        └── PlatformProtocolError                malformed, truncated, oversized, wrong schema

Messages never contain a raw identifier, name or personal field: callers pass
masked forms only.
"""

from __future__ import annotations

import re

__all__ = [
    "AuditError",
    "AuditIntegrityError",
    "AuthorizationError",
    "BulkScreeningError",
    "CatalogError",
    "ConfigurationError",
    "CreditSDKError",
    "InvalidIdentifier",
    "InvalidQuery",
    "PlatformError",
    "PlatformProtocolError",
    "PlatformUnavailable",
    "PolicyError",
    "ReportError",
]


_ITEM = re.compile(r"\d{1,3}(?:\.\d{1,3}){0,3}")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.:@/-]{0,39}")
# Runs that could be an ID number, a phone number or a USCC (even a mistyped one).
_IDLIKE = re.compile(r"\d{8,}|[0-9A-Z]{15,}|[0-9]{6}[0-9A-Za-z*]{6,}")


def safe_token(value: object) -> str | None:
    """``value`` when it is a short vocabulary token fit to quote in a message (an id like
    ``CN-BASIC-2024``, a scenario name), else ``None``: a caller's or the platform's text may be
    personal, and an ID number or phone number passed by mistake must not be echoed back.

    >>> safe_token("admin_licensing"), safe_token("110101199003077777"), safe_token("张三")
    ('admin_licensing', None, None)
    """
    if isinstance(value, str) and _ITEM.fullmatch(value):
        return value  # an article item ("42.10.3")
    if not isinstance(value, str) or not _TOKEN.fullmatch(value) or _IDLIKE.search(value):
        return None
    return value


def require_type(value: object, expected: type | tuple[type, ...], name: str) -> None:
    """Raise ``TypeError`` naming the parameter when ``value`` is not of ``expected`` type: the
    language's convention for a wrong *type*, the same in every public function (a bad *value*
    of the right type is the SDK's own error naming the rule).

    >>> require_type(1, str, "kind")
    Traceback (most recent call last):
    ...
    TypeError: kind must be str, not int
    """
    if isinstance(value, expected) and not (
        isinstance(value, bool) and bool not in _as_tuple(expected)
    ):
        return
    names = " or ".join(t.__name__ for t in _as_tuple(expected))
    raise TypeError(f"{name} must be {names}, not {type(value).__name__}")


def _as_tuple(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


_WORD = re.compile(r"[A-Za-z][A-Za-z_-]{0,39}")


def vocabulary_word(value: object) -> str | None:
    """``value`` when it could be a word of a fixed vocabulary (a scenario, an outcome, a
    command): letters, ``_`` and ``-`` only. Stricter than :func:`safe_token` (no digits, so no
    token, key or number of any kind is echoed back)."""
    return value if isinstance(value, str) and _WORD.fullmatch(value) else None


class CreditSDKError(Exception):
    """Root of every exception the SDK raises on purpose."""


class InvalidIdentifier(CreditSDKError, ValueError):
    """An identifier broke a rule of its standard (GB 11643, GB 32100, or shape for other IDs).

    ``rule`` names the rule (``"length"``, ``"charset"``, ``"date"``, ``"region"``,
    ``"check_character"``, ``"registration_authority"``, ``"institution_type"``, ``"type"``,
    ``"empty"``) so that hosts can map it to their own form messages.
    """

    def __init__(self, message: str, *, rule: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.kind = kind


class InvalidQuery(CreditSDKError, ValueError):
    """The query context is missing something the law requires (organ, operator, purpose...)."""

    def __init__(self, message: str, *, rule: str = "query_context") -> None:
        super().__init__(message)
        self.rule = rule


class AuthorizationError(InvalidQuery):
    """Art. 25, 56: a query about a natural person's conditional information lacks a valid
    authorisation, or the authorisation is forced, lifelong or outside its scope."""


class CatalogError(CreditSDKError, ValueError):
    """A measure list (措施清单) breaks a rule of Art. 39–42, 47 or 48.

    The message names the list, the measure and the rule; the same are available as
    attributes.
    """

    def __init__(
        self,
        message: str,
        *,
        list_id: str | None = None,
        measure_id: str | None = None,
        rule: str | None = None,
    ) -> None:
        parts = []
        # Ids come from the list document: quoted only when they are plain tokens.
        if list_id:
            parts.append(f"list {safe_token(list_id) or '(unprintable id)'!r}")
        if measure_id:
            parts.append(f"measure {safe_token(measure_id) or '(unprintable id)'!r}")
        if rule:
            parts.append(f"rule {rule}")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.list_id = list_id
        self.measure_id = measure_id
        self.rule = rule


class PolicyError(CreditSDKError, ValueError):
    """A policy profile is inconsistent (e.g. a minimum period longer than its maximum)."""


class ReportError(CreditSDKError, ValueError):
    """A credit report does not fit the platform contract (wrong types, missing fields)."""


class ConfigurationError(CreditSDKError, ValueError):
    """The SDK was configured wrongly: a missing URL, credential, key or store."""


class AuditError(CreditSDKError):
    """Art. 25: a query-log record could not be made durable, or the log could not be read.

    When this is raised during a check, the check has failed closed: no report was used and
    no decision was returned.
    """


class AuditIntegrityError(AuditError):
    """The query log's hash chain does not verify (a record was changed, removed, inserted or
    reordered)."""


class BulkScreeningError(CreditSDKError):
    """A bulk screening (:class:`~credit_sdk.BulkScreening`) stopped before its last subject:
    its deadline passed, or a worker process ended (killed, out of memory, hung).

    ``next_index`` is the index of the first subject that got no result: resume from there.
    Raised after the results before it; also the ``error`` of each subject that was taken but
    not checked, whose message says whether its query may be logged without a completion.
    """

    def __init__(self, message: str, *, next_index: int | None = None) -> None:
        super().__init__(message)
        self.next_index = next_index


class PlatformError(CreditSDKError):
    """The credit platform did not give a usable answer.

    ``status_code`` and ``request_id`` identify the exchange. ``title`` and ``detail`` are the
    platform's ``application/problem+json`` text, kept **only** on the exception: it is free
    text from outside and may name a person or quote an ID number, so it never enters the
    message, a log line or ``status()``. Show it to someone entitled to see it, or not at all.
    ``problem_type`` is the problem's ``type`` (or ``code``) when it is a plain token.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        problem_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id
        self.title = title
        self.detail = detail
        self.problem_type = problem_type


class PlatformUnavailable(PlatformError):
    """The platform is down, timing out, refusing us, or the circuit breaker is open."""


class PlatformProtocolError(PlatformError):
    """The platform answered with something that breaks the contract: malformed, truncated,
    oversized, the wrong content type, or the wrong schema."""
