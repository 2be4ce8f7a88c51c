"""Published measure lists (措施清单) and the catalog that indexes them for matching.

Art. 39 allows only **published** measures, each stating five elements: the measure (措施), its
content (内容), its target (对象), its legal basis (设定依据) and its implementing body (实施主体).
Art. 40, 41 and 42 bound what incentive, restriction and supplementary punishment lists may
contain; Art. 47 forbids restricting anyone on the strength of integrity points; Art. 48 forbids
forcing financial institutions, credit agencies, associations or the media to punish. A list that
breaks any of these fails to load with a :class:`~credit_sdk.CatalogError` naming the list, the
measure and the rule.

>>> catalog = Catalog.default()
>>> sorted(lst.list_id for lst in catalog.lists)  # doctest: +SKIP
['hlj-incentive-sample', 'hlj-restriction-sample', 'hlj-supplementary-punishment-sample', ...]
>>> old, new = catalog.get("hlj-incentive-sample"), other_edition  # doctest: +SKIP
>>> diff_lists(old, new).summary()  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from credit_sdk._data import DATA_DIR
from credit_sdk._errors import CatalogError
from credit_sdk._models import PERSON_TYPES, EntityType, LinkedRole, SubjectKind
from credit_sdk._scenarios import Scenario, ScenarioFamily

__all__ = [
    "Catalog",
    "Ground",
    "ImplementingBody",
    "ListDiff",
    "ListKind",
    "Measure",
    "MeasureKind",
    "MeasureList",
    "Publication",
    "diff_lists",
]


class ListKind(StrEnum):
    PUNISHMENT_BASIC = "punishment_basic"  # 全国失信惩戒措施基础清单 (Art. 39 ¶3)
    PUNISHMENT_SUPPLEMENTARY = (
        "punishment_supplementary"  # 本省失信惩戒措施补充清单 (Art. 39 ¶3, 42)
    )
    RESTRICTION = "restriction"  # 失信约束措施清单 (Art. 39 ¶2, 41)
    INCENTIVE = "incentive"  # 守信激励措施清单 (Art. 39 ¶1, 40)


class MeasureKind(StrEnum):
    INCENTIVE = "incentive"  # 守信激励措施
    RESTRICTION = "restriction"  # 失信约束措施
    PUNISHMENT = "punishment"  # 失信惩戒措施


class Ground(StrEnum):
    """What in a report can trigger a measure."""

    SEVERE_DISHONESTY = "severe_dishonesty"  # 严重失信主体名单 / 严重失信信息
    JUDGMENT_DEFAULTER = "judgment_defaulter"  # 失信被执行人 (also severe, Art. 38 ¶2)
    DISHONESTY = "dishonesty"  # 失信信息
    FALSE_COMMITMENT = "false_commitment"  # 虚假承诺、未履行承诺 (Art. 28)
    RED_LIST = "red_list"  # 守信激励对象名单
    COMMENDATION = "commendation"  # 守信信息、荣誉表彰
    INTEGRITY_POINTS = "integrity_points"  # 诚信积分 (Art. 47: incentives only)


NEGATIVE_GROUNDS = frozenset(
    {
        Ground.SEVERE_DISHONESTY,
        Ground.JUDGMENT_DEFAULTER,
        Ground.DISHONESTY,
        Ground.FALSE_COMMITMENT,
    }
)
POSITIVE_GROUNDS = frozenset({Ground.RED_LIST, Ground.COMMENDATION, Ground.INTEGRITY_POINTS})

# Implementing bodies that are not state organs: Art. 48 says their measures can only be
# voluntary (the national basic list's category C, 由公共管理机构以外的组织自主实施的措施).
NON_STATE_BODIES = frozenset(
    {
        "financial_institution",
        "credit_service_agency",
        "industry_association",
        "media",
        "market_entity",
    }
)
STATE_BODIES = frozenset({"state_organ", "court", "public_institution", "authorised_organisation"})

_RANGE_40 = frozenset(f"40.{i}" for i in range(1, 7))
_RANGE_41 = frozenset(f"41.{i}" for i in range(1, 4))
# Art. 42 numbers its last item "（十）" twice (a drafting slip); the catch-all "other measures
# under law" item is 42.11 here, and the nine high-consumption sub-items are 42.10.1–42.10.9.
_RANGE_42 = frozenset(
    [f"42.{i}" for i in range(1, 10)] + [f"42.10.{i}" for i in range(1, 10)] + ["42.11"]
)

_ALLOWED_RANGES: dict[tuple[ListKind, MeasureKind], frozenset[str]] = {
    (ListKind.INCENTIVE, MeasureKind.INCENTIVE): _RANGE_40,
    (ListKind.RESTRICTION, MeasureKind.RESTRICTION): _RANGE_41,
    (ListKind.PUNISHMENT_SUPPLEMENTARY, MeasureKind.PUNISHMENT): _RANGE_42,
    # The national basic list is not bounded by Art. 42 (it binds the province's own list), but
    # each row is still placed on the Art. 41/42 item it corresponds to, for matching and review.
    (ListKind.PUNISHMENT_BASIC, MeasureKind.PUNISHMENT): _RANGE_42,
    (ListKind.PUNISHMENT_BASIC, MeasureKind.RESTRICTION): _RANGE_41,
}

_ROLE_SUBJECT = "subject"
_ROLES = frozenset({_ROLE_SUBJECT} | {r.value for r in LinkedRole})

_CFG = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, defer_build=True)


class Publication(BaseModel):
    """Where and when a list or measure was published (向社会公布), Art. 39."""

    model_config = _CFG
    reference: str = Field(min_length=1, description="document number or gazette reference")
    date: dt.date
    publisher: str = ""
    url: str | None = None


class ImplementingBody(BaseModel):
    model_config = _CFG
    name: str = ""
    type: str = "state_organ"


class Target(BaseModel):
    """Who a measure applies to (惩戒对象 / 激励对象)."""

    model_config = _CFG
    description: str = ""
    subject_kinds: tuple[SubjectKind, ...] = tuple(SubjectKind)
    # None: every entity type of those kinds. A market entity covers state-owned, large and
    # financial enterprises and individual businesses; a natural person covers individual
    # businesses (Art. 21).
    entity_types: tuple[EntityType, ...] | None = None
    roles: tuple[str, ...] = (_ROLE_SUBJECT,)


class Triggers(BaseModel):
    """What in a report makes the measure relevant (Art. 43: relevance)."""

    model_config = _CFG
    grounds: tuple[Ground, ...] = ()
    categories: tuple[str, ...] | None = None  # None: any conduct category
    domains: tuple[str, ...] | None = None  # None: any sector
    min_points: int | None = None  # integrity-points threshold (incentives only)


class Measure(BaseModel):
    """One row of a measure list, with the five Art. 39 elements."""

    model_config = _CFG
    measure_id: str = Field(min_length=1, max_length=80)
    kind: MeasureKind
    range_item: str
    title: str = ""  # 措施
    content: str = ""  # 内容
    target: Target = Field(default_factory=Target)  # 对象
    legal_basis: tuple[str, ...] = ()  # 设定依据
    implementing_body: ImplementingBody = Field(default_factory=ImplementingBody)  # 实施主体
    scenarios: tuple[str, ...] = ()
    triggers: Triggers = Field(default_factory=Triggers)
    voluntary: bool = False
    publication: Publication | None = None
    score_adjustment: float | None = None  # bid-evaluation bonus (+) or deduction (-)
    note: str = ""


class Provenance(BaseModel):
    model_config = _CFG
    status: str = Field(pattern="^(official_partial_transcription|official|sample|reference)$")
    statement: str = Field(min_length=1)
    sources: tuple[dict[str, str], ...] = ()


def _shown(value: object) -> str:
    """``repr(value)`` for a plain token, else a placeholder: list documents are foreign text."""
    from credit_sdk._errors import safe_token

    return repr(value) if safe_token(value) else "(not shown)"


def _safe_token(text: str) -> str:
    """``text`` when it is a short token (a list id, ``id@version``), else empty: messages
    never quote foreign text."""
    from credit_sdk._errors import safe_token

    return safe_token(text) or ""


class MeasureList(BaseModel):
    """A published measure list edition. ``sha256`` is computed over its canonical content."""

    model_config = _CFG
    list_id: str = Field(min_length=1, max_length=80)
    version: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1)
    kind: ListKind
    jurisdiction: str = Field(min_length=1)
    publication: Publication
    effective_from: dt.date
    effective_until: dt.date | None = None
    provenance: Provenance
    measures: tuple[Measure, ...]
    sha256: str = ""

    def in_force_at(self, as_of: dt.date) -> bool:
        return self.effective_from <= as_of and (
            self.effective_until is None or as_of < self.effective_until
        )

    @property
    def ref(self) -> tuple[str, str, str]:
        """``(list_id, version, sha256)``: what a decision's provenance records."""
        return (self.list_id, self.version, self.sha256)

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any], *, source: str = "") -> MeasureList:
        """Parse, hash and validate one list; see :func:`validate_list` for the rules."""
        from credit_sdk._bounded import load_object

        what = _safe_token(source) or "list"

        def refuse(message: str) -> CatalogError:
            return CatalogError(message, rule="format")

        raw = load_object(data, what=what, error=refuse)
        declared = raw.pop("sha256", None)
        digest = content_sha256(raw)
        if declared and declared != digest:
            raise CatalogError(
                f"declared sha256 does not match the content ({source or 'list'})",
                list_id=str(raw.get("list_id", "?")),
                rule="integrity",
            )
        try:
            lst = cls.model_validate({**raw, "sha256": digest})
        except ValidationError as err:
            first = err.errors(include_input=False, include_url=False)[0]
            loc = first["loc"]
            measure_id = None
            if len(loc) >= 2 and loc[0] == "measures" and isinstance(loc[1], int):
                measures = raw.get("measures") or []
                if loc[1] < len(measures) and isinstance(measures[loc[1]], dict):
                    measure_id = str(measures[loc[1]].get("measure_id", f"#{loc[1]}"))
            where = ".".join(str(p) for p in loc)
            raise CatalogError(
                f"{where}: {first['msg']} ({err.error_count()} problem(s))",
                list_id=str(raw.get("list_id", source or "?")),
                measure_id=measure_id,
                rule="schema",
            ) from None
        validate_list(lst)
        return lst

    @classmethod
    def load(cls, path: str | Path) -> MeasureList:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as err:
            raise CatalogError(f"cannot read measure list file {p.name!r}: {err.strerror}") from err
        except UnicodeDecodeError as err:
            raise CatalogError(f"{p.name!r} is not UTF-8 JSON", rule="format") from err
        return cls.from_json(text, source=p.name)


def content_sha256(raw: Mapping[str, Any]) -> str:
    """sha256 of a list's canonical JSON (sorted keys, compact, UTF-8), without ``sha256``."""
    body = {k: v for k, v in raw.items() if k != "sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _expand_scenarios(names: Iterable[str]) -> frozenset[Scenario]:
    out: set[Scenario] = set()
    for name in names:
        if name == "*":
            out.update(Scenario)
            continue
        try:
            out.update(Scenario.in_family(ScenarioFamily(name)))
            continue
        except ValueError:
            pass
        out.add(Scenario(name))  # ValueError is reported by validate_list
    return frozenset(out)


def validate_list(lst: MeasureList) -> None:
    """Check every measure of ``lst`` against Art. 39–43, 47 and 48.

    Raises :class:`~credit_sdk.CatalogError` naming the list, the measure and the rule.
    """
    seen: set[str] = set()
    for m in lst.measures:

        def fail(message: str, rule: str, m: Measure = m) -> CatalogError:
            return CatalogError(message, list_id=lst.list_id, measure_id=m.measure_id, rule=rule)

        if m.measure_id in seen:
            raise fail("measure_id appears twice in the list", "unique_id")
        seen.add(m.measure_id)
        # Art. 39: the five elements.
        elements = {
            "measure (措施)": m.title,
            "content (内容)": m.content,
            "target (对象)": m.target.description,
            "implementing body (实施主体)": m.implementing_body.name,
        }
        for label, value in elements.items():
            if not value.strip():
                raise fail(f"missing the {label} element", "Art.39")
        if not any(b.strip() for b in m.legal_basis):
            raise fail("missing the legal basis (设定依据) element", "Art.39")
        if m.publication is None and lst.publication is None:
            raise fail("no publication reference (未向社会公布)", "Art.39")
        # Art. 40 / 41 / 42 ranges.
        allowed = _ALLOWED_RANGES.get((lst.kind, m.kind))
        if allowed is None:
            raise fail(f"a {m.kind.value} measure cannot be on a {lst.kind.value} list", "kind")
        if m.range_item not in allowed:
            article = {
                MeasureKind.INCENTIVE: "Art.40",
                MeasureKind.RESTRICTION: "Art.41",
                MeasureKind.PUNISHMENT: "Art.42",
            }[m.kind]
            raise fail(
                f"range item {_shown(m.range_item)} is outside {article}'s range for this list",
                article,
            )
        # Triggers and relevance (Art. 43).
        grounds = set(m.triggers.grounds)
        if not grounds:
            raise fail("no trigger grounds: a measure must be related to conduct", "Art.43")
        if m.kind is MeasureKind.INCENTIVE:
            if grounds & NEGATIVE_GROUNDS:
                raise fail("an incentive cannot be triggered by dishonesty", "kind")
        else:
            if Ground.INTEGRITY_POINTS in grounds or m.triggers.min_points is not None:
                raise fail("integrity points may not ground a restriction or punishment", "Art.47")
            if grounds & POSITIVE_GROUNDS:
                raise fail(f"a {m.kind.value} cannot be triggered by trustworthiness", "kind")
        if m.triggers.min_points is not None and Ground.INTEGRITY_POINTS not in grounds:
            raise fail("min_points needs the integrity_points ground", "kind")
        # Art. 48: non-state bodies only act voluntarily.
        body_type = m.implementing_body.type
        if body_type not in NON_STATE_BODIES | STATE_BODIES:
            raise fail(f"unknown implementing body type {_shown(body_type)}", "schema")
        if body_type in NON_STATE_BODIES and not m.voluntary:
            raise fail(
                f"a measure implemented by a {body_type} must be voluntary (禁止强制要求惩戒)",
                "Art.48",
            )
        # Scenarios and targets.
        if not m.scenarios:
            raise fail("no scenarios: say at which Art. 27 decision points it applies", "Art.43")
        try:
            _expand_scenarios(m.scenarios)
        except ValueError:
            raise fail(
                f"unknown scenario in {[_shown(s) for s in m.scenarios]}", "scenario"
            ) from None
        bad_roles = set(m.target.roles) - _ROLES
        if bad_roles or not m.target.roles:
            raise fail(f"unknown target roles {[_shown(r) for r in sorted(bad_roles)]}", "target")
        if not m.target.subject_kinds:
            raise fail("no subject kinds in target", "target")
        if m.target.entity_types is not None:
            if not m.target.entity_types:
                raise fail("an empty entity_types list targets nobody", "target")
            kinds = set(m.target.subject_kinds)
            for et in m.target.entity_types:
                fits = (
                    SubjectKind.NATURAL_PERSON in kinds
                    if et in PERSON_TYPES
                    else bool(kinds - {SubjectKind.NATURAL_PERSON})
                )
                if not fits:
                    raise fail(f"entity type {et.value!r} fits none of the subject kinds", "target")
        if set(m.target.roles) - {_ROLE_SUBJECT}:
            if m.kind is MeasureKind.INCENTIVE:
                raise fail("Art. 45 linked roles apply to punishments only", "Art.45")
            if not grounds & {Ground.SEVERE_DISHONESTY, Ground.JUDGMENT_DEFAULTER}:
                raise fail("Art. 45 linked roles follow a severe listing only", "Art.45")
        if m.score_adjustment is not None:
            if m.kind is MeasureKind.INCENTIVE and m.score_adjustment <= 0:
                raise fail("an incentive score adjustment must be a bonus (> 0)", "Art.40")
            if m.kind is not MeasureKind.INCENTIVE and m.score_adjustment >= 0:
                raise fail("a punishment score adjustment must be a deduction (< 0)", "Art.42")


_COVERS: dict[EntityType, frozenset[EntityType]] = {
    EntityType.MARKET_ENTITY: frozenset(
        {
            EntityType.MARKET_ENTITY,
            EntityType.STATE_OWNED_ENTERPRISE,
            EntityType.LARGE_ENTERPRISE,
            EntityType.FINANCIAL_INSTITUTION,
            EntityType.INDIVIDUAL_BUSINESS,
        }
    ),
    EntityType.NATURAL_PERSON: frozenset(
        {EntityType.NATURAL_PERSON, EntityType.INDIVIDUAL_BUSINESS}
    ),
}


def _covered(types: tuple[EntityType, ...] | None) -> frozenset[EntityType] | None:
    if types is None:
        return None
    out: set[EntityType] = set()
    for et in types:
        out |= _COVERS.get(et, frozenset({et}))
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class IndexedMeasure:
    """A measure with everything the engine needs precomputed at load time."""

    measure: Measure
    list: MeasureList
    published_on: dt.date
    publication_ref: str
    scenarios: frozenset[Scenario]
    roles: frozenset[str]
    subject_kinds: frozenset[SubjectKind]
    entity_types: frozenset[EntityType] | None  # expanded: a market entity covers its kinds
    categories: frozenset[str] | None
    domains: frozenset[str] | None
    min_points: int | None
    key: tuple[str, str]  # (list_id, measure_id)
    edition: tuple[str, str]  # (list_id, version)


@dataclass(frozen=True, slots=True)
class ListDiff:
    """What changed between two editions of one list."""

    list_id: str
    old_version: str
    new_version: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[tuple[str, tuple[str, ...]], ...]  # (measure_id, changed field names)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def summary(self) -> str:
        lines = [f"{self.list_id}: {self.old_version} -> {self.new_version}"]
        lines += [f"  + {m}" for m in self.added]
        lines += [f"  - {m}" for m in self.removed]
        lines += [f"  ~ {m}: {', '.join(fields)}" for m, fields in self.changed]
        if self.empty:
            lines.append("  (no measure changed)")
        return "\n".join(lines)


def diff_lists(old: MeasureList, new: MeasureList) -> ListDiff:
    """Compare two editions of the same list, measure by measure.

    >>> diff_lists(edition_2022, edition_2024).added  # doctest: +SKIP
    """
    if old.list_id != new.list_id:
        raise CatalogError("can only diff two editions of the same list", rule="diff")
    before = {m.measure_id: m for m in old.measures}
    after = {m.measure_id: m for m in new.measures}
    changed = []
    for mid in sorted(before.keys() & after.keys()):
        a, b = before[mid].model_dump(), after[mid].model_dump()
        fields = tuple(k for k in sorted(a) if a[k] != b.get(k))
        if fields:
            changed.append((mid, fields))
    return ListDiff(
        list_id=old.list_id,
        old_version=old.version,
        new_version=new.version,
        added=tuple(sorted(after.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - after.keys())),
        changed=tuple(changed),
    )


@dataclass(frozen=True, slots=True)
class InForce:
    """The list editions in force on one date."""

    editions: frozenset[tuple[str, str]]
    measure_keys: frozenset[tuple[str, str]]
    lists: tuple[MeasureList, ...]
    refs: tuple[tuple[str, str, str], ...]


@dataclass(slots=True)
class _Index:
    by_key: dict[tuple[Scenario, Ground], tuple[IndexedMeasure, ...]]
    narrowed: dict[tuple[Scenario, Ground, str | None], tuple[IndexedMeasure, ...]] = field(
        default_factory=dict
    )
    # The engine's matching plans, compiled per decision context (see _engine._plans_for).
    plans: dict[Any, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    """A set of measure-list editions, validated and indexed for matching.

    Several editions of one list may coexist; at a given date only the edition in force
    (latest ``effective_from`` not after it, and not yet superseded) is applied.

    >>> catalog = Catalog.load(["my-lists/hlj-supplementary-2024.json"])  # doctest: +SKIP
    >>> catalog = Catalog.default()  # the lists shipped in credit_sdk/data/lists
    """

    lists: tuple[MeasureList, ...]
    _index: _Index = field(init=False, repr=False, compare=False)
    _editions_cache: dict[dt.date, InForce] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        seen: set[tuple[str, str]] = set()
        for lst in self.lists:
            if (lst.list_id, lst.version) in seen:
                raise CatalogError(
                    f"edition {_shown(lst.version)} is loaded twice",
                    list_id=lst.list_id,
                    rule="unique",
                )
            seen.add((lst.list_id, lst.version))
        by_key: dict[tuple[Scenario, Ground], list[IndexedMeasure]] = {}
        for lst in self.lists:
            for m in lst.measures:
                pub = m.publication or lst.publication
                entry = IndexedMeasure(
                    measure=m,
                    list=lst,
                    published_on=max(pub.date, lst.publication.date),
                    publication_ref=pub.reference,
                    scenarios=_expand_scenarios(m.scenarios),
                    roles=frozenset(m.target.roles),
                    subject_kinds=frozenset(m.target.subject_kinds),
                    entity_types=_covered(m.target.entity_types),
                    categories=frozenset(m.triggers.categories)
                    if m.triggers.categories is not None
                    else None,
                    domains=frozenset(m.triggers.domains)
                    if m.triggers.domains is not None
                    else None,
                    min_points=m.triggers.min_points,
                    key=(lst.list_id, m.measure_id),
                    edition=(lst.list_id, lst.version),
                )
                for scenario in entry.scenarios:
                    for ground in m.triggers.grounds:
                        by_key.setdefault((scenario, ground), []).append(entry)
        object.__setattr__(self, "_index", _Index({k: tuple(v) for k, v in by_key.items()}))

    @classmethod
    def load(cls, paths: Iterable[str | Path]) -> Catalog:
        """Load lists from JSON files or directories of JSON files."""
        lists: list[MeasureList] = []
        for path in paths:
            p = Path(path)
            files = sorted(p.glob("*.json")) if p.is_dir() else [p]
            lists.extend(MeasureList.load(f) for f in files)
        if not lists:
            raise CatalogError("no measure list found in the given paths", rule="empty")
        return cls(tuple(lists))

    @classmethod
    def default(cls) -> Catalog:
        """The lists shipped with the SDK (loaded once per process)."""
        return _default_catalog()

    def candidates(
        self, scenario: Scenario, ground: Ground, category: str | None = None
    ) -> tuple[IndexedMeasure, ...]:
        """Measures that ``ground`` (of conduct ``category``) can trigger at ``scenario``.

        Narrowed by category once per key and memoised: matching visits only measures that
        can relate to the item (Art. 43).
        """
        key = (scenario, ground, category)
        hit = self._index.narrowed.get(key)
        if hit is None:
            hit = tuple(
                e
                for e in self._index.by_key.get((scenario, ground), ())
                if e.categories is None or category in e.categories
            )
            if len(self._index.narrowed) > 65536:
                self._index.narrowed.clear()
            self._index.narrowed[key] = hit
        return hit

    def editions_in_force(self, as_of: dt.date) -> frozenset[tuple[str, str]]:
        """``(list_id, version)`` of the edition of each list in force on ``as_of``."""
        return self.in_force(as_of).editions

    def in_force(self, as_of: dt.date) -> InForce:
        """The editions in force on ``as_of``, their measures and provenance (cached per date)."""
        cached = self._editions_cache.get(as_of)
        if cached is not None:
            return cached
        best: dict[str, MeasureList] = {}
        for lst in self.lists:
            if lst.in_force_at(as_of):
                cur = best.get(lst.list_id)
                if cur is None or lst.effective_from > cur.effective_from:
                    best[lst.list_id] = lst
        chosen = tuple(sorted(best.values(), key=lambda lst: lst.list_id))
        result = InForce(
            editions=frozenset((lst.list_id, lst.version) for lst in chosen),
            measure_keys=frozenset(
                (lst.list_id, m.measure_id) for lst in chosen for m in lst.measures
            ),
            lists=chosen,
            refs=tuple(lst.ref for lst in chosen),
        )
        if len(self._editions_cache) > 4096:
            self._editions_cache.clear()
        self._editions_cache[as_of] = result
        return result

    def lists_in_force(self, as_of: dt.date) -> tuple[MeasureList, ...]:
        return self.in_force(as_of).lists

    def get(self, list_id: str, version: str | None = None) -> MeasureList:
        """One edition of a list: ``version``, or the latest by ``effective_from``."""
        matches = [lst for lst in self.lists if lst.list_id == list_id]
        if version is not None:
            matches = [lst for lst in matches if lst.version == version]
        if not matches:
            raise CatalogError("no such list or edition in this catalog", list_id=list_id)
        return max(matches, key=lambda lst: lst.effective_from)

    def measure(self, measure_id: str) -> Measure:
        for lst in self.lists:
            for m in lst.measures:
                if m.measure_id == measure_id:
                    return m
        raise CatalogError("no such measure in this catalog", measure_id=measure_id)

    def __len__(self) -> int:
        return sum(len(lst.measures) for lst in self.lists)


@cache
def _default_catalog() -> Catalog:
    root = DATA_DIR / "lists"
    return Catalog.load([root])
