"""credit-sdk: social-credit reward/punishment checks for government business systems.

Everything public is importable from here (``from credit_sdk import CreditClient, decide``).
Submodules load on first use: ``import credit_sdk`` costs little more than its dependencies, and a
host that only parses identifiers never loads the client, the query log or the engine.
"""

import importlib as _importlib
import typing as _typing

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
from credit_sdk._version import (
    __version__,
)

if _typing.TYPE_CHECKING:
    from credit_sdk._audit import (
        AuditRecord,
        AuditStats,
        ClaimedFeedback,
        ClaimedOutboxItem,
        FeedbackItem,
        ListSnapshot,
        MemoryQueryLog,
        OutboxItem,
        OutboxStats,
        PostgresQueryLog,
        PruneResult,
        QueryCompletion,
        QueryIntent,
        QueryLog,
        SQLiteQueryLog,
        VerifyResult,
        new_query_id,
        open_query_log,
    )
    from credit_sdk._catalog import (
        Catalog,
        Ground,
        ListDiff,
        ListKind,
        Measure,
        MeasureKind,
        MeasureList,
        diff_lists,
    )
    from credit_sdk._client import (
        AsyncCreditClient,
        CheckResult,
        ClientStatus,
        CreditClient,
        FailurePolicy,
        ObjectionReceipt,
    )
    from credit_sdk._decision import (
        Advisory,
        AppliedMeasure,
        CommitmentEligibility,
        Decision,
        Exclusion,
        Outcome,
        Provenance,
        ReasonCode,
        Supervision,
        TriggerRef,
    )
    from credit_sdk._engine import (
        add_months,
        decide,
    )
    from credit_sdk._identifiers import (
        Identifier,
        IdentifierKind,
        OtherId,
        ResidentId,
        Uscc,
        parse_identifier,
    )
    from credit_sdk._labels import Lang, bilingual, code_label
    from credit_sdk._models import (
        BasisDocument,
        BasisDocumentKind,
        Commitment,
        CommitmentStatus,
        Consequence,
        CreditRecord,
        CreditReport,
        Evaluation,
        EvaluationKind,
        IntegrityPoints,
        LinkedParty,
        LinkedRole,
        ListMembership,
        ListType,
        MembershipStatus,
        Objection,
        ObjectionStatus,
        Penalty,
        RecordKind,
        RecordStatus,
        RemovalReason,
        RiskLevel,
        Subject,
        SubjectKind,
        sample_report_path,
    )
    from credit_sdk._policy import (
        DisputePolicy,
        IncentivePolicy,
        PolicyProfile,
    )
    from credit_sdk._privacy import (
        PersonalText,
    )
    from credit_sdk._providers import (
        AsyncHttpProvider,
        AsyncProvider,
        FeedbackAck,
        FetchedList,
        HttpProvider,
        ListIndex,
        ListIndexEntry,
        MemoryProvider,
        ObjectionAck,
        ObjectionRequest,
        Provider,
        ReportQuery,
    )
    from credit_sdk._query import (
        Authorization,
        QueryContext,
    )
    from credit_sdk._scenarios import (
        Scenario,
        ScenarioFamily,
    )
    from credit_sdk._telemetry import (
        CheckInfo,
        Hook,
    )
    from credit_sdk._transport import (
        BearerToken,
        HmacCredentials,
        RetryPolicy,
    )
    from credit_sdk._workers import WorkerHealth

__all__ = [
    "Advisory",
    "AppliedMeasure",
    "AsyncCreditClient",
    "AsyncHttpProvider",
    "AsyncProvider",
    "AuditError",
    "AuditIntegrityError",
    "AuditRecord",
    "AuditStats",
    "Authorization",
    "AuthorizationError",
    "BasisDocument",
    "BasisDocumentKind",
    "BearerToken",
    "Catalog",
    "CatalogError",
    "CheckInfo",
    "CheckResult",
    "ClaimedFeedback",
    "ClaimedOutboxItem",
    "ClientStatus",
    "Commitment",
    "CommitmentEligibility",
    "CommitmentStatus",
    "ConfigurationError",
    "Consequence",
    "CreditClient",
    "CreditRecord",
    "CreditReport",
    "CreditSDKError",
    "Decision",
    "DisputePolicy",
    "Evaluation",
    "EvaluationKind",
    "Exclusion",
    "FailurePolicy",
    "FeedbackAck",
    "FeedbackItem",
    "FetchedList",
    "Ground",
    "HmacCredentials",
    "Hook",
    "HttpProvider",
    "Identifier",
    "IdentifierKind",
    "IncentivePolicy",
    "IntegrityPoints",
    "InvalidIdentifier",
    "InvalidQuery",
    "Lang",
    "LinkedParty",
    "LinkedRole",
    "ListDiff",
    "ListIndex",
    "ListIndexEntry",
    "ListKind",
    "ListMembership",
    "ListSnapshot",
    "ListType",
    "Measure",
    "MeasureKind",
    "MeasureList",
    "MembershipStatus",
    "MemoryProvider",
    "MemoryQueryLog",
    "Objection",
    "ObjectionAck",
    "ObjectionReceipt",
    "ObjectionRequest",
    "ObjectionStatus",
    "OtherId",
    "OutboxItem",
    "OutboxStats",
    "Outcome",
    "Penalty",
    "PersonalText",
    "PlatformError",
    "PlatformProtocolError",
    "PlatformUnavailable",
    "PolicyError",
    "PolicyProfile",
    "PostgresQueryLog",
    "Provenance",
    "Provider",
    "PruneResult",
    "QueryCompletion",
    "QueryContext",
    "QueryIntent",
    "QueryLog",
    "ReasonCode",
    "RecordKind",
    "RecordStatus",
    "RemovalReason",
    "ReportError",
    "ReportQuery",
    "ResidentId",
    "RetryPolicy",
    "RiskLevel",
    "SQLiteQueryLog",
    "Scenario",
    "ScenarioFamily",
    "Subject",
    "SubjectKind",
    "Supervision",
    "TriggerRef",
    "Uscc",
    "VerifyResult",
    "WorkerHealth",
    "__version__",
    "add_months",
    "bilingual",
    "code_label",
    "decide",
    "diff_lists",
    "new_query_id",
    "open_query_log",
    "parse_identifier",
    "sample_report_path",
]

# Public name -> the private module that defines it, loaded on first access (PEP 562).
_LAZY: dict[str, str] = {
    "Lang": "credit_sdk._labels",
    "bilingual": "credit_sdk._labels",
    "code_label": "credit_sdk._labels",
    "Advisory": "credit_sdk._decision",
    "AppliedMeasure": "credit_sdk._decision",
    "AsyncCreditClient": "credit_sdk._client",
    "AsyncHttpProvider": "credit_sdk._providers",
    "AsyncProvider": "credit_sdk._providers",
    "AuditRecord": "credit_sdk._audit",
    "AuditStats": "credit_sdk._audit",
    "Authorization": "credit_sdk._query",
    "BasisDocument": "credit_sdk._models",
    "BasisDocumentKind": "credit_sdk._models",
    "BearerToken": "credit_sdk._transport",
    "Catalog": "credit_sdk._catalog",
    "CheckInfo": "credit_sdk._telemetry",
    "CheckResult": "credit_sdk._client",
    "ClaimedFeedback": "credit_sdk._audit",
    "ClaimedOutboxItem": "credit_sdk._audit",
    "ClientStatus": "credit_sdk._client",
    "Commitment": "credit_sdk._models",
    "CommitmentEligibility": "credit_sdk._decision",
    "CommitmentStatus": "credit_sdk._models",
    "Consequence": "credit_sdk._models",
    "CreditClient": "credit_sdk._client",
    "CreditRecord": "credit_sdk._models",
    "CreditReport": "credit_sdk._models",
    "Decision": "credit_sdk._decision",
    "DisputePolicy": "credit_sdk._policy",
    "Evaluation": "credit_sdk._models",
    "EvaluationKind": "credit_sdk._models",
    "Exclusion": "credit_sdk._decision",
    "FailurePolicy": "credit_sdk._client",
    "FeedbackAck": "credit_sdk._providers",
    "FeedbackItem": "credit_sdk._audit",
    "FetchedList": "credit_sdk._providers",
    "Ground": "credit_sdk._catalog",
    "HmacCredentials": "credit_sdk._transport",
    "Hook": "credit_sdk._telemetry",
    "HttpProvider": "credit_sdk._providers",
    "Identifier": "credit_sdk._identifiers",
    "IdentifierKind": "credit_sdk._identifiers",
    "IncentivePolicy": "credit_sdk._policy",
    "IntegrityPoints": "credit_sdk._models",
    "LinkedParty": "credit_sdk._models",
    "LinkedRole": "credit_sdk._models",
    "ListDiff": "credit_sdk._catalog",
    "ListIndex": "credit_sdk._providers",
    "ListIndexEntry": "credit_sdk._providers",
    "ListKind": "credit_sdk._catalog",
    "ListMembership": "credit_sdk._models",
    "ListSnapshot": "credit_sdk._audit",
    "ListType": "credit_sdk._models",
    "Measure": "credit_sdk._catalog",
    "MeasureKind": "credit_sdk._catalog",
    "MeasureList": "credit_sdk._catalog",
    "MembershipStatus": "credit_sdk._models",
    "MemoryProvider": "credit_sdk._providers",
    "MemoryQueryLog": "credit_sdk._audit",
    "Objection": "credit_sdk._models",
    "ObjectionAck": "credit_sdk._providers",
    "ObjectionReceipt": "credit_sdk._client",
    "ObjectionRequest": "credit_sdk._providers",
    "ObjectionStatus": "credit_sdk._models",
    "OtherId": "credit_sdk._identifiers",
    "OutboxItem": "credit_sdk._audit",
    "OutboxStats": "credit_sdk._audit",
    "Outcome": "credit_sdk._decision",
    "Penalty": "credit_sdk._models",
    "PersonalText": "credit_sdk._privacy",
    "PolicyProfile": "credit_sdk._policy",
    "PostgresQueryLog": "credit_sdk._audit",
    "Provenance": "credit_sdk._decision",
    "Provider": "credit_sdk._providers",
    "PruneResult": "credit_sdk._audit",
    "QueryCompletion": "credit_sdk._audit",
    "QueryContext": "credit_sdk._query",
    "QueryIntent": "credit_sdk._audit",
    "QueryLog": "credit_sdk._audit",
    "ReasonCode": "credit_sdk._decision",
    "RecordKind": "credit_sdk._models",
    "RecordStatus": "credit_sdk._models",
    "RemovalReason": "credit_sdk._models",
    "ReportQuery": "credit_sdk._providers",
    "ResidentId": "credit_sdk._identifiers",
    "RetryPolicy": "credit_sdk._transport",
    "RiskLevel": "credit_sdk._models",
    "SQLiteQueryLog": "credit_sdk._audit",
    "Scenario": "credit_sdk._scenarios",
    "ScenarioFamily": "credit_sdk._scenarios",
    "Subject": "credit_sdk._models",
    "SubjectKind": "credit_sdk._models",
    "Supervision": "credit_sdk._decision",
    "TriggerRef": "credit_sdk._decision",
    "Uscc": "credit_sdk._identifiers",
    "VerifyResult": "credit_sdk._audit",
    "WorkerHealth": "credit_sdk._workers",
    "add_months": "credit_sdk._engine",
    "decide": "credit_sdk._engine",
    "diff_lists": "credit_sdk._catalog",
    "new_query_id": "credit_sdk._audit",
    "open_query_log": "credit_sdk._audit",
    "parse_identifier": "credit_sdk._identifiers",
    "sample_report_path": "credit_sdk._models",
}


def _publish(obj: object) -> None:
    # Public classes report the public module, so reprs, docs and pickles name `credit_sdk.X`.
    if isinstance(obj, type):
        obj.__module__ = __name__


def __getattr__(name: str) -> _typing.Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = _importlib.import_module(module_name)
    # Publish every public name of that module at once: one import, one lookup each after.
    for public, source in _LAZY.items():
        if source == module_name:
            value = getattr(module, public)
            _publish(value)
            globals()[public] = value
    return globals()[name]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


for _name in __all__:
    if _name in globals():
        _publish(globals()[_name])
del _name
