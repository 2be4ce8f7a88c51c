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
    └── PlatformError                            the credit platform failed us
        ├── PlatformUnavailable                  down, timing out, breaker open
        └── PlatformProtocolError                malformed, truncated, oversized, wrong schema

Messages never contain a raw identifier, name or personal field: callers pass
masked forms only.
"""

from __future__ import annotations

__all__ = [
    "AuditError",
    "AuditIntegrityError",
    "AuthorizationError",
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
        if list_id:
            parts.append(f"list {list_id!r}")
        if measure_id:
            parts.append(f"measure {measure_id!r}")
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


class PlatformError(CreditSDKError):
    """The credit platform did not give a usable answer."""

    def __init__(
        self, message: str, *, status_code: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id


class PlatformUnavailable(PlatformError):
    """The platform is down, timing out, refusing us, or the circuit breaker is open."""


class PlatformProtocolError(PlatformError):
    """The platform answered with something that breaks the contract: malformed, truncated,
    oversized, the wrong content type, or the wrong schema."""
