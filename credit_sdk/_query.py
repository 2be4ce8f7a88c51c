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
...                       granted_on=dt.date(2026, 3, 1), expires_on=dt.date(2026, 9, 1),
...                       subject="110101199003077774")
>>> grant.covers("civil_service_hiring"), grant.subject
(True, '1101**********7774')
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from credit_sdk._audit._types import looks_like_raw_identifier
from credit_sdk._errors import AuthorizationError, InvalidQuery, require_type, safe_token
from credit_sdk._scenarios import Scenario, ScenarioFamily

__all__ = [
    "DEFAULT_AUTHORIZATION_FAMILIES",
    "MAX_AUTHORIZATION_MONTHS",
    "Authorization",
    "QueryContext",
]

_MAX_TEXT = 2000  # the query log's bound on a text field

#: Longest term the SDK accepts for one authorisation, in calendar months. Art. 56(1) forbids
#: authorisations that are valid for life; a grant running longer than three years is treated as
#: lifelong in effect. Counted by the calendar (Civil Code Art. 201-202): granted on 1 March
#: 2026, it may run to 1 March 2029 and not a day longer, whatever the leap years.
MAX_AUTHORIZATION_MONTHS = 36

_log = logging.getLogger("credit_sdk.query")

#: Keys the binding of an authorisation to its subject for this process: the authorisation
#: keeps a keyed digest of the identifier, never the identifier itself.
_BINDING_KEY = secrets.token_bytes(32)


def _binding(ident: Any) -> bytes:
    return hmac.new(_BINDING_KEY, ident.reveal().encode("utf-8"), hashlib.sha256).digest()


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
            f"{owner}.{name} looks like it contains a raw resident ID number, mobile phone "
            "number or unified social credit code; the query log keeps only pseudonyms and "
            "masked forms (Art. 24, 25)",
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

    Every field is required. ``subject`` is the person who granted it (their identifier, as a
    string or parsed): the grant is bound to them, and a check of anybody else under it is an
    :class:`~credit_sdk.AuthorizationError` (``rule="authorization_subject"``). The object keeps
    only a keyed digest of the identifier and its masked form (``grant.subject``), never the
    number. ``scope`` names the scenarios (``"civil_service_hiring"``) or Art. 27 families
    (``"personnel"``) it covers. An empty or open-ended scope (``"*"``, ``"all"``), a missing
    expiry, an expiry before the grant date, or a term longer than three years counted by the
    calendar (:data:`MAX_AUTHORIZATION_MONTHS`; lifelong in effect) raises
    :class:`~credit_sdk.AuthorizationError`. A *blanket* scope, one that covers every scenario
    (the data category ``"conditional_information"``, or every family), is the "authorise once,
    valid for everything" the regulation forbids (一次授权、终身有效, Art. 56(1)): it is refused
    unless ``blanket=True`` says the organ holds such a consent on purpose, which is logged as a
    warning. Whether consent was freely given (not forced) is for the organ that collected it
    to ensure; the SDK records the grant id with every query made under it.

    >>> import datetime as dt
    >>> Authorization(grant_id="G-1", scope=("all",), purpose="x", subject="110101199003077774",
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
    subject: Any = None  # str | Identifier given; the masked form (str) kept
    blanket: bool = False
    _binding: bytes = field(default=b"", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        owner = "Authorization"
        self._bind_subject(owner)
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
        from credit_sdk._periods import period_last_day

        # Counted as every period is (Civil Code Art. 201, 202); no end within the calendar
        # when granted within three years of its end.
        longest = period_last_day(self.granted_on, months=MAX_AUTHORIZATION_MONTHS) or dt.date.max
        if self.expires_on > longest:
            raise AuthorizationError(
                f"{owner} runs longer than three years (to {longest.isoformat()} at most): Art. "
                "56(1) forbids an authorisation that is valid for life (一次授权、终身有效)",
                rule="authorization_term",
            )
        require_type(self.blanket, bool, f"{owner}.blanket")
        if self._is_blanket():
            if not self.blanket:
                raise AuthorizationError(
                    f"{owner}.scope covers every scenario: a blanket authorisation is the "
                    "'authorise once, valid for everything' Art. 56(1) forbids (一次授权、终身"
                    "有效); name the scenarios or families consented to, or pass blanket=True "
                    "if the organ holds such a consent on purpose",
                    rule="authorization_blanket",
                )
            _log.warning(
                "a blanket authorisation covering every scenario was accepted by explicit choice "
                "(grant %s, Art. 56(1))",
                safe_token(self.grant_id) or "(id not shown)",
            )

    def _bind_subject(self, owner: str) -> None:
        from credit_sdk._identifiers import Identifier, parse_identifier

        given = self.subject
        if given is None:
            raise AuthorizationError(
                f"{owner}.subject is required: an authorisation is granted by one person and "
                "binds no one else (Art. 25, 56)",
                rule="authorization_subject",
            )
        require_type(given, (str, Identifier), f"{owner}.subject")
        ident = parse_identifier(given)
        object.__setattr__(self, "subject", ident.masked)
        object.__setattr__(self, "_binding", _binding(ident))

    def _is_blanket(self) -> bool:
        if "conditional_information" in self.scope:
            return True
        families = {f.value for f in ScenarioFamily}
        covered = {s for s in Scenario if s.value in self.scope or s.family.value in self.scope}
        return families <= set(self.scope) or len(covered) == len(Scenario)

    def binds(self, subject: Any) -> bool:
        """Whether this grant was given by ``subject`` (an identifier, parsed or not)."""
        from credit_sdk._identifiers import parse_identifier

        return hmac.compare_digest(self._binding, _binding(parse_identifier(subject)))

    def covers(self, scenario: Scenario | str) -> bool:
        """Whether the scope names ``scenario``, its Art. 27 family, or conditional information
        in general."""
        s = Scenario.parse(scenario)
        return (
            s.value in self.scope
            or s.family.value in self.scope
            or "conditional_information" in self.scope
        )

    def check(self, scenario: Scenario | str, on: dt.date, subject: Any = None) -> None:
        """Raise :class:`~credit_sdk.AuthorizationError` unless the grant covers ``scenario``,
        is in force on ``on`` and (when given) was granted by ``subject``."""
        grant = repr(self.grant_id) if safe_token(self.grant_id) else "(id not shown)"
        if subject is not None and not self.binds(subject):
            raise AuthorizationError(
                f"authorisation {grant} was granted by another person than the subject checked "
                "(Art. 25, 56: a grant binds only the person who gave it)",
                rule="authorization_subject",
            )
        if on < self.granted_on:
            raise AuthorizationError(
                f"authorisation {grant} is not yet in force on {on.isoformat()}",
                rule="authorization_term",
            )
        if on > self.expires_on:
            raise AuthorizationError(
                f"authorisation {grant} expired on {self.expires_on.isoformat()}",
                rule="authorization_expired",
            )
        if not self.covers(scenario):
            raise AuthorizationError(
                f"authorisation {grant} does not cover scenario "
                f"{Scenario.parse(scenario).value!r} (Art. 25: queries stay within the scope)",
                rule="authorization_scope",
            )
