"""The public credit information catalogue (公共信用信息目录): what may be recorded and used.

Art. 18 puts public credit information under catalogue management (the national basic catalogue
plus the province's supplementary catalogue); Art. 19 ¶1 says each entry states the conduct
(具体行为), the provider (提供单位), the data source (数据来源), the nature (性质分类), the
sharing and disclosure attributes (共享属性、开放属性), the publication period (公示期限) and the
update cycle (更新周期), within the ten items it lists; Art. 65(2) makes recording or using
information outside the catalogue unlawful. So the engine leaves out any record whose conduct
category the catalogue does not list (``OUTSIDE_CATALOGUE``), and an organ's own pushes (Art. 22)
can be checked against the same catalogue before they are queued.

The shipped catalogue is a **sample** (see its ``statement``); a deployment loads the catalogue
its province publishes.

>>> catalogue = InformationCatalogue.default()
>>> catalogue.lookup("false_materials").art19_item
9
>>> catalogue.lookup("horoscope") is None
True
>>> catalogue.require("horoscope")  # doctest: +SKIP
Traceback (most recent call last):
CatalogError: rule Art.19: the conduct category is not in the public credit information ...
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from credit_sdk._data import DATA_DIR
from credit_sdk._errors import CatalogError, require_type, safe_token

__all__ = [
    "CatalogueEntry",
    "DisclosureAttribute",
    "InformationCatalogue",
    "InformationNature",
    "NationalCategory",
    "SharingAttribute",
]

_CFG = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, defer_build=True)
_DEFAULT_FILE = "hlj-public-credit-information-sample.json"


class InformationNature(StrEnum):
    """性质分类 of an entry (Art. 19 ¶1)."""

    BASIC = "basic"  # 基础信息 (registration)
    TRUSTWORTHY = "trustworthy"  # 守信信息
    DISHONESTY = "dishonesty"  # 失信信息
    SEVERE_DISHONESTY = "severe_dishonesty"  # 严重失信信息
    OTHER = "other"  # 其他信息


class SharingAttribute(StrEnum):
    """共享属性: how the information is shared between organs."""

    UNCONDITIONAL = "unconditional"  # 无条件共享
    CONDITIONAL = "conditional"  # 有条件共享
    NOT_SHARED = "not_shared"  # 不予共享


class DisclosureAttribute(StrEnum):
    """开放属性: whether the information is opened to the public."""

    OPEN = "open"  # 无条件开放
    CONDITIONAL = "conditional"  # 有条件开放
    NOT_OPEN = "not_open"  # 不予开放


class NationalCategory(BaseModel):
    """A category of the national basic catalogue (全国公共信用信息基础目录), with the tag the
    reference facts give it (S: seen in a source; K: background knowledge, not seen)."""

    model_config = _CFG
    code: str = Field(min_length=1, max_length=60)
    name: str = Field(min_length=1)
    tag: str = Field(pattern="^[SKI]$")
    editions: str = ""


class CatalogueEntry(BaseModel):
    """One entry of the catalogue, with its Art. 19 ¶1 elements."""

    model_config = _CFG
    category: str = Field(min_length=1, max_length=80, description="conduct category code")
    conduct: str = Field(min_length=1, description="具体行为")
    art19_item: int = Field(ge=1, le=10, description="the item of Art. 19 ¶1 it falls under")
    national_category: str | None = Field(default=None, description="national basic category")
    provider: str = Field(min_length=1, description="提供单位")
    source: str = Field(min_length=1, description="数据来源")
    nature: InformationNature = Field(description="性质分类")
    sharing: SharingAttribute = Field(description="共享属性")
    disclosure: DisclosureAttribute = Field(description="开放属性")
    publication_period: str = Field(min_length=1, description="公示期限")
    update_cycle: str = Field(min_length=1, description="更新周期")


class InformationCatalogue(BaseModel):
    """A public credit information catalogue edition: load, look up by conduct category.

    >>> InformationCatalogue.default().status
    'sample'
    >>> mine = InformationCatalogue.load("hlj-catalogue-2026.json")  # doctest: +SKIP
    """

    model_config = _CFG
    catalogue_id: str = Field(min_length=1, max_length=80)
    version: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1)
    status: str = Field(pattern="^(official|official_partial_transcription|sample|reference)$")
    statement: str = Field(min_length=1)
    sources: tuple[dict[str, str], ...] = ()
    national_categories: tuple[NationalCategory, ...] = ()
    entries: tuple[CatalogueEntry, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> InformationCatalogue:
        # Messages name the entry by its position: a catalogue's text is quoted only as a
        # vocabulary token, never as free text that might hold a number or a name.
        seen: set[str] = set()
        national = {c.code for c in self.national_categories}
        for i, entry in enumerate(self.entries):
            if entry.category in seen:
                raise ValueError(f"entries.{i}.category {_quote(entry.category)}appears twice")
            seen.add(entry.category)
            if entry.national_category is not None and entry.national_category not in national:
                raise ValueError(
                    f"entries.{i}.national_category {_quote(entry.national_category)}"
                    "is not one of the catalogue's national categories"
                )
        return self

    @cached_property
    def _by_category(self) -> dict[str, CatalogueEntry]:
        # The index every lookup uses, built on first use and kept in the instance's own
        # dictionary: decide() asks it once per record, and a pydantic private attribute
        # costs a __getattr__ round trip (about 3 µs) on every read.
        return {e.category: e for e in self.entries}

    @property
    def categories(self) -> frozenset[str]:
        """Every conduct category the catalogue lists."""
        return frozenset(self._by_category)

    def lookup(self, category: str) -> CatalogueEntry | None:
        """The entry for ``category``, or ``None`` when the catalogue does not list it."""
        require_type(category, str, "category")
        return self._by_category.get(category)

    def require(self, category: str) -> CatalogueEntry:
        """The entry for ``category``; raises :class:`~credit_sdk.CatalogError` (rule
        ``Art.19``) when the catalogue does not list it: such information may not be recorded,
        shared or used (Art. 19 ¶1, 65(2))."""
        require_type(category, str, "category")
        entry = self._by_category.get(category)
        if entry is None:
            raise CatalogError(
                "the conduct category is not in the public credit information catalogue "
                f"{_quote(self.catalogue_id)}(information outside it may not be recorded, "
                "shared or used: Art. 19 ¶1, 65(2))",
                rule="Art.19",
            )
        return entry

    def __contains__(self, category: object) -> bool:
        return isinstance(category, str) and category in self._by_category

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def from_json(
        cls, data: str | bytes | Mapping[str, Any], *, source: str = ""
    ) -> InformationCatalogue:
        """Parse and validate a catalogue; raises :class:`~credit_sdk.CatalogError` naming the
        field that breaks the form (never its value)."""
        from credit_sdk._bounded import load_object

        name = safe_token(source) or "catalogue"

        def refuse(message: str) -> CatalogError:
            return CatalogError(message, rule="format")

        raw = load_object(data, what=name, error=refuse)
        try:
            return cls.model_validate(raw)
        except ValidationError as err:
            first = err.errors(include_input=False, include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "(catalogue)"
            raise CatalogError(
                f"{name}: {where}: {first['msg']} ({err.error_count()} problem(s))",
                rule="Art.19",
            ) from None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> InformationCatalogue:
        """Load a catalogue from a JSON file."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as err:
            raise CatalogError(f"cannot read catalogue file {p.name!r}: {err.strerror}") from None
        except UnicodeDecodeError:
            raise CatalogError(f"{p.name!r} is not UTF-8 JSON", rule="format") from None
        return cls.from_json(text, source=p.name)

    @classmethod
    def default(cls) -> InformationCatalogue:
        """The catalogue shipped with the SDK: a **sample** (loaded once per process)."""
        return _default_catalogue()


def _quote(value: str) -> str:
    """``'value' `` when it is a vocabulary token fit to quote, else nothing."""
    token = safe_token(value)
    return "" if token is None else f"{token!r} "


@cache
def _default_catalogue() -> InformationCatalogue:
    return InformationCatalogue.load(DATA_DIR / "catalogue" / _DEFAULT_FILE)
