"""Policy profiles: the legal rules in force, as versioned data with effective dates.

Publication periods, the long-term domains, how objections and incentives are treated, and the
Art. 53 time limits change between the draft regulation, the final provincial text and national
rules (see ``docs/policy-profiles.md``). They therefore live in ``credit_sdk/data/policies/*.json``
and every decision records the profile it used.

>>> profile = PolicyProfile.default()          # the draft regulation's rules
>>> profile.profile_id
'hlj-draft-2021'
>>> PolicyProfile.get("cn-national-2026").status  # a reference profile of national rules
'reference'
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from credit_sdk._data import DATA_DIR
from credit_sdk._errors import PolicyError
from credit_sdk._models import Consequence, RiskLevel

__all__ = ["DisputePolicy", "IncentivePolicy", "PeriodAnchor", "PeriodRule", "PolicyProfile"]


class PeriodAnchor(StrEnum):
    FINDING_DATE = "finding_date"  # 自失信行为认定之日 (draft Art. 51)
    DECISION_DATE = "decision_date"  # from the date of the basis document (national rules)


class DisputePolicy(StrEnum):
    """What a pending objection (Art. 53) does to the measures that depend on the record."""

    REVIEW = "review"  # hold them for a person to review: outcome REVIEW (default)
    SUSPEND = "suspend"  # do not apply them until the objection is decided
    APPLY = "apply"  # apply them; the objection is shown as an advisory


class IncentivePolicy(StrEnum):
    """Incentives for a subject who also has active dishonesty information."""

    SUPPRESS = "suppress"  # any active dishonesty suppresses incentives (default)
    SUPPRESS_IF_SEVERE = "suppress_if_severe"  # only severe dishonesty does


class PeriodRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    min_months: int = Field(ge=0, le=1200)
    max_months: int = Field(ge=0, le=1200)

    @model_validator(mode="after")
    def _ordered(self) -> PeriodRule:
        if self.min_months > self.max_months:
            raise ValueError("min_months is larger than max_months")
        return self


class PolicyProfile(BaseModel):
    """One set of legal rules, effective over a date range."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    profile_id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    status: str = Field(pattern="^(default|reference|custom)$")
    description: str = ""
    sources: tuple[dict[str, str], ...] = ()
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None

    dishonesty_period: PeriodRule
    severe_period: PeriodRule
    period_anchor: PeriodAnchor = PeriodAnchor.FINDING_DATE
    # True where publication runs to the maximum unless the information is repaired and the
    # minimum only opens repair (national rules since 2026); False where the period stated by
    # the designating unit within the range ends publication (the draft's Art. 51).
    publication_runs_to_maximum: bool = False
    continuing_acts_from_end: bool = True
    long_term_domains: frozenset[str] = frozenset()
    long_term_consequences: frozenset[Consequence] = frozenset()
    sector_minimum_months: dict[str, int] = Field(default_factory=dict)
    minor_penalties_excluded: bool = True
    minor_information_published: bool = False
    on_dispute: DisputePolicy = DisputePolicy.REVIEW
    incentives_with_dishonesty: IncentivePolicy = IncentivePolicy.SUPPRESS
    judgment_defaulter_is_severe: bool = True
    objection_label_working_days: int = 1
    objection_decision_working_days: int = 3
    objection_assisted_decision_working_days: int = 7
    commitment_verification_months: int = 2
    spot_check_factors: dict[RiskLevel, float] = Field(
        default_factory=lambda: {RiskLevel.LOW: 0.5, RiskLevel.NORMAL: 1.0, RiskLevel.HIGH: 2.0}
    )

    @model_validator(mode="after")
    def _consistent(self) -> PolicyProfile:
        if (
            self.effective_from
            and self.effective_until
            and self.effective_until <= self.effective_from
        ):
            raise ValueError("effective_until is not after effective_from")
        if set(self.spot_check_factors) != set(RiskLevel):
            raise ValueError("spot_check_factors needs low, normal and high")
        if self.long_term_domains and not self.long_term_consequences:
            raise ValueError("long-term domains need the consequences that trigger them")
        return self

    def in_force_at(self, as_of: dt.date) -> bool:
        if self.effective_from and as_of < self.effective_from:
            return False
        return not (self.effective_until and as_of >= self.effective_until)

    def check_in_force(self, as_of: dt.date) -> None:
        if self.effective_from is None and self.effective_until is None:
            return  # no dates (the draft's profile): in force whenever it is chosen
        if not self.in_force_at(as_of):
            raise PolicyError(
                f"policy profile {self.profile_id!r} is not in force on {as_of.isoformat()} "
                f"(effective {self.effective_from} to {self.effective_until or 'open'})"
            )

    def severe_period_for(self, domain: str | None) -> PeriodRule:
        return self._with_sector_minimum(self.severe_period, domain)

    def dishonesty_period_for(self, domain: str | None) -> PeriodRule:
        return self._with_sector_minimum(self.dishonesty_period, domain)

    def _with_sector_minimum(self, rule: PeriodRule, domain: str | None) -> PeriodRule:
        minimum = self.sector_minimum_months.get(domain or "")
        if minimum is None or minimum <= rule.min_months:
            return rule
        return PeriodRule(min_months=min(minimum, rule.max_months), max_months=rule.max_months)

    @classmethod
    def load(cls, path: str | Path) -> PolicyProfile:
        from credit_sdk._bounded import loads
        from credit_sdk._errors import safe_token

        if not isinstance(path, str | Path):
            raise TypeError(f"path must be a str or Path, not {type(path).__name__}")
        p = Path(path)
        name = safe_token(p.name) or "(file)"
        try:
            raw = p.read_bytes()
        except OSError as err:
            raise PolicyError(
                f"cannot read policy profile {name!r}: {err.strerror or type(err).__name__}"
            ) from err
        data = loads(raw, what=f"policy profile {name!r}", error=PolicyError)
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            first = err.errors(include_input=False, include_url=False)[0]
            where = ".".join(str(x) for x in first["loc"]) or "(profile)"
            raise PolicyError(f"policy profile {name!r}: {where}: {first['msg']}") from None

    @classmethod
    def default(cls) -> PolicyProfile:
        """The draft regulation's profile, the project's default."""
        return cls.get("hlj-draft-2021")

    @classmethod
    def get(cls, profile_id: str) -> PolicyProfile:
        """A shipped profile by id."""
        from credit_sdk._errors import require_type, safe_token

        require_type(profile_id, str, "profile_id")
        profiles = _shipped_profiles()
        try:
            return profiles[profile_id]
        except KeyError:
            token = safe_token(profile_id)
            quoted = "" if token is None else f" {token!r}"
            raise PolicyError(
                f"no shipped policy profile{quoted}; shipped: {', '.join(sorted(profiles))}"
            ) from None

    @classmethod
    def shipped(cls) -> tuple[PolicyProfile, ...]:
        return tuple(_shipped_profiles()[k] for k in sorted(_shipped_profiles()))


@cache
def _shipped_profiles() -> dict[str, PolicyProfile]:
    root = DATA_DIR / "policies"
    profiles = [PolicyProfile.load(p) for p in sorted(root.glob("*.json"))]
    return {p.profile_id: p for p in profiles}
