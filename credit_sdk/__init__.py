"""credit-sdk: social-credit reward/punishment checks for government business systems."""

from credit_sdk._errors import (
    AuditError,
    AuditIntegrityError,
    AuthorizationError,
    CatalogError,
    ConfigurationError,
    CreditSDKError,
    InvalidIdentifier,
    InvalidQuery,
    PlatformError,
    PlatformProtocolError,
    PlatformUnavailable,
    PolicyError,
    ReportError,
)
from credit_sdk._identifiers import (
    Identifier,
    IdentifierKind,
    OtherId,
    ResidentId,
    Uscc,
    parse_identifier,
)
from credit_sdk._version import __version__

__all__ = [
    "AuditError",
    "AuditIntegrityError",
    "AuthorizationError",
    "CatalogError",
    "ConfigurationError",
    "CreditSDKError",
    "Identifier",
    "IdentifierKind",
    "InvalidIdentifier",
    "InvalidQuery",
    "OtherId",
    "PlatformError",
    "PlatformProtocolError",
    "PlatformUnavailable",
    "PolicyError",
    "ReportError",
    "ResidentId",
    "Uscc",
    "__version__",
    "parse_identifier",
]
