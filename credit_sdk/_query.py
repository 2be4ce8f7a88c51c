"""Who asks, why, and with whose consent: the query context and the subject's authorisation.

Art. 23 allows shared credit information to be used only for the duty it was shared for, and
Art. 25 requires a log of who queried, when and for what; so every check carries a
:class:`QueryContext` naming the state organ (国家机关), the operator, the matter (事项编码) and
the purpose, all mandatory. Art. 56(1) forbids unauthorised, forced or "authorise once, valid for
life" (一次授权、终身有效) authorisations; so a natural person's conditional information
(有条件公开信息) is queried only under an :class:`Authorization` that has a grant id, a bounded
scope, a purpose and an expiry date, and is checked against the scenario and the query date.

>>> import datetime as dt
>>> ctx = QueryContext(organ="230100-SCJGJ", operator="u1024", matter_code="LIC-FOOD",
...                    purpose="food business licence application 2026-118")
>>> grant = Authorization(grant_id="G-2026-0042", scope=("civil_service_hiring",),
...                       purpose="2026 civil service recruitment",
...                       granted_on=dt.date(2026, 3, 1), expires_on=dt.date(2026, 9, 1))
>>> grant.covers("civil_service_hiring")
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from credit_sdk._audit._types import looks_like_raw_identifier
from credit_sdk._errors import AuthorizationError, InvalidQuery, require_type, safe_token
from credit_sdk._scenarios import Scenario, ScenarioFamily

__all__ = [
    "DEFAULT_AUTHORIZATION_FAMILIES",
    "MAX_AUTHORIZATION_DAYS",
    "Authorization",
    "QueryContext",
]

_MAX_TEXT = 2000  # the query log's bound on a text field

#: Longest term the SDK accepts for one authorisation. Art. 56(1) forbids authorisations that are
#: valid for life; a grant running longer than three years is treated as lifelong in effect.
MAX_AUTHORIZATION_DAYS = 3 * 366

#: Scopes that mean "everything": refused, because Art. 25 and 56 bind a query to the scope and
#: use the subject agreed to.
_OPEN_SCOPES = frozenset(
    {"*", "all", "any", "every", "everything", "unlimited", "lifetime", "全部"}
)

#: Data categories an authorisation may name instead of (or beside) scenarios.
DATA_CATEGORIES = frozenset({"conditional_information", "personal_fields"})

#: Art. 27 items at which a natural person applies for something and consents to the query of
#: their conditional information (hiring, promotion, qualification and election review,
#: honours): by default a check of a natural person in these needs an :class:`Authorization`.
DEFAULT_AUTHORIZATION_FAMILIES = frozenset(
    {
        ScenarioFamily.PERSONNEL,
        ScenarioFamily.QUALIFICATION,
        ScenarioFamily.ELECTION,
        ScenarioFamily.HONOURS,
    }
)


def _text(owner: str, name: str, value: object, rule: str = "query_context") -> str:
    require_type(value, str, f"{owner}.{name}")
    assert isinstance(value, str)
    stripped = value.strip()
    if not stripped:
        raise InvalidQuery(f"{owner}.{name} is required and may not be empty", rule=rule)
    if len(stripped) > _MAX_TEXT:
        raise InvalidQuery(f"{owner}.{name} is longer than {_MAX_TEXT} characters", rule=rule)
    if "\x00" in stripped:
        raise InvalidQuery(f"{owner}.{name} contains a NUL character", rule=rule)
    if looks_like_raw_identifier(stripped):
        # The value is never echoed: it may be the very personal data the log must not keep.
        raise InvalidQuery(
            f"{owner}.{name} looks like it contains a raw resident ID number or unified social "
            "credit code; the query log keeps only pseudonyms and masked forms (Art. 24, 25)",
            rule=rule,
        )
    return stripped


@dataclass(frozen=True, slots=True)
class QueryContext:
    """Art. 23, 25: the organ, operator, matter and purpose of a query; all four required.

    Values are stripped; an empty value, a non-string, or text that contains a raw identifier
    raises :class:`~credit_sdk.InvalidQuery` (before any I/O, and without echoing the value).

    >>> QueryContext(organ="230100-SCJGJ", operator="u1024", matter_code="LIC-FOOD",
    ...              purpose="food business licence application 2026-118").organ
    '230100-SCJGJ'
    """

    organ: str
    operator: str
    matter_code: str
    purpose: str

    def __post_init__(self) -> None:
        for name in ("organ", "operator", "matter_code", "purpose"):
            object.__setattr__(self, name, _text("QueryContext", name, getattr(self, name)))


@dataclass(frozen=True, slots=True)
class Authorization:
    """Art. 25, 56: a natural person's authorisation (授权) to query their conditional information.

    Every field is required. ``scope`` names the scenarios (``"civil_service_hiring"``), Art. 27
    families (``"personnel"``) or data categories (``"conditional_information"``) it covers; an
    empty or open-ended scope (``"*"``, ``"all"``), a missing expiry, an expiry before the grant
    date, or a term longer than :data:`MAX_AUTHORIZATION_DAYS` (lifelong in effect) raises
    :class:`~credit_sdk.AuthorizationError`. Whether consent was freely given (not forced, Art.
    56(1)) is for the organ that collected it to ensure; the SDK records the grant id with every
    query made under it.

    >>> import datetime as dt
    >>> Authorization(grant_id="G-1", scope=("all",), purpose="x",
    ...               granted_on=dt.date(2026, 1, 1), expires_on=dt.date(2026, 6, 1))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    credit_sdk.AuthorizationError: Authorization.scope may not be open-ended ...
    """

    grant_id: str
    scope: tuple[str, ...]
    purpose: str
    granted_on: dt.date
    expires_on: dt.date

    def __post_init__(self) -> None:
        owner = "Authorization"
        try:
            object.__setattr__(self, "grant_id", _text(owner, "grant_id", self.grant_id))
            object.__setattr__(self, "purpose", _text(owner, "purpose", self.purpose))
        except InvalidQuery as err:
            raise AuthorizationError(str(err), rule="authorization") from None
        scope = self.scope
        if isinstance(scope, str) or not isinstance(scope, Iterable):
            raise TypeError(
                f"{owner}.scope must be a tuple of scenario, family or data-category names, "
                f"not {type(scope).__name__}"
            )
        scope = tuple(scope)
        for item in scope:
            require_type(item, str, f"{owner}.scope items")
        names = tuple(s.strip().lower() for s in scope)
        if not names or any(not n for n in names):
            raise AuthorizationError(
                f"{owner}.scope may not be empty (Art. 56: the scope must be stated)",
                rule="authorization_scope",
            )
        if any(n in _OPEN_SCOPES for n in names):
            raise AuthorizationError(
                f"{owner}.scope may not be open-ended ('all', '*'): Art. 25 and 56 bind a query "
                "to the scope the subject agreed to",
                rule="authorization_scope",
            )
        known = {s.value for s in Scenario} | {f.value for f in ScenarioFamily} | DATA_CATEGORIES
        unknown = sorted(set(names) - known)
        if unknown:
            shown = [u if safe_token(u) else "(not shown)" for u in unknown]
            raise AuthorizationError(
                f"{owner}.scope names unknown scenarios or categories {shown}; use Art. 27 "
                f"scenario or family values, or {sorted(DATA_CATEGORIES)}",
                rule="authorization_scope",
            )
        object.__setattr__(self, "scope", names)
        for name in ("granted_on", "expires_on"):
            value = getattr(self, name)
            if isinstance(value, dt.datetime):
                object.__setattr__(self, name, value.date())
            elif value is not None and not isinstance(value, dt.date):
                raise TypeError(f"{owner}.{name} must be date, not {type(value).__name__}")
            elif not isinstance(value, dt.date):
                raise AuthorizationError(
                    f"{owner}.{name} is required and must be a date (Art. 56(1): no lifelong "
                    "authorisation)",
                    rule="authorization_term",
                )
        if self.expires_on <= self.granted_on:
            raise AuthorizationError(
                f"{owner}.expires_on must be after granted_on", rule="authorization_term"
            )
        if (self.expires_on - self.granted_on).days > MAX_AUTHORIZATION_DAYS:
            raise AuthorizationError(
                f"{owner} runs longer than {MAX_AUTHORIZATION_DAYS} days: Art. 56(1) forbids an "
                "authorisation that is valid for life (一次授权、终身有效)",
                rule="authorization_term",
            )

    def covers(self, scenario: Scenario | str) -> bool:
        """Whether the scope names ``scenario``, its Art. 27 family, or conditional information
        in general."""
        s = Scenario.parse(scenario)
        return (
            s.value in self.scope
            or s.family.value in self.scope
            or "conditional_information" in self.scope
        )

    def check(self, scenario: Scenario | str, on: dt.date) -> None:
        """Raise :class:`~credit_sdk.AuthorizationError` unless the grant covers ``scenario``
        and is in force on ``on``."""
        if on < self.granted_on:
            raise AuthorizationError(
                f"authorisation {self.grant_id!r} is not yet in force on {on.isoformat()}",
                rule="authorization_term",
            )
        if on > self.expires_on:
            raise AuthorizationError(
                f"authorisation {self.grant_id!r} expired on {self.expires_on.isoformat()}",
                rule="authorization_expired",
            )
        if not self.covers(scenario):
            raise AuthorizationError(
                f"authorisation {self.grant_id!r} does not cover scenario "
                f"{Scenario.parse(scenario).value!r} (Art. 25: queries stay within the scope)",
                rule="authorization_scope",
            )
