"""Readable scenario builders: one subject's credit report, written as the state it shows.

A :class:`SubjectBuilder` belongs to a :class:`~credit_sdk.testing.CreditPlatform`; each call
adds one piece of credit information (a severe listing, a court listing, a red listing, a false
commitment...) to the subject's report, and the platform answers the new report from then on.
Calls chain, and read as the sentence a test means:

>>> from credit_sdk.testing import CreditPlatform, fake_uscc
>>> platform = CreditPlatform()
>>> company = platform.subject(fake_uscc(1)).on_severe_list(category="bid_rigging")
>>> [m["list_type"] for m in company.report["list_memberships"]]
['severe_dishonesty']

Dates are counted back from the platform's ``today``, so the information is in force on the
day the client decides (the ``credit_client`` fixture decides on ``platform.today``). Documents
are synthetic (their numbers contain 示例) and every legal element the engine checks is present:
an effective basis document (Art. 37 last ¶), a written listing decision (Art. 38), a
publication period within Art. 51's range.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, Self

from credit_sdk import Identifier, IdentifierKind
from credit_sdk._periods import add_months, period_last_day

__all__ = ["LINKED_ROLES", "SubjectBuilder", "add_months"]

#: The Art. 45 roles a natural person may hold in a market entity, with their legal terms.
LINKED_ROLES: Mapping[str, str] = {
    "legal_representative": "法定代表人",
    "principal": "主要负责人",
    "actual_controller": "实际控制人",
    "directly_responsible_person": "影响债务履行的直接责任人",
}


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _term_end(listed: dt.date, months: int) -> str:
    """Last day of a term of ``months`` from ``listed`` (Civil Code Art. 201, 202), or "长期"
    when that day lies beyond the calendar."""
    last = period_last_day(listed, months=months)
    return "长期" if last is None else last.isoformat()


def _document(kind: str, number: str, issuer: str, issued_on: dt.date) -> dict[str, Any]:
    return {
        "kind": kind,
        "number": number,
        "issuer": issuer,
        "issued_on": _iso(issued_on),
        "effective": True,
        "effective_on": _iso(issued_on),
    }


class _Platform(Protocol):
    """What a builder needs of the :class:`CreditPlatform` that made it (a protocol, so that
    this module does not import the platform that imports it)."""

    @property
    def today(self) -> dt.date: ...

    def subject(self, identifier: str | Identifier) -> SubjectBuilder: ...

    def _next(self, prefix: str) -> str: ...

    def _store(self, identifier: Identifier, report: dict[str, Any]) -> None: ...


class SubjectBuilder:
    """The credit report of one subject of a :class:`CreditPlatform`, built call by call.

    Every method returns the builder, so states combine: a company can be on the red list and
    carry an expired record. :attr:`report` is the JSON the platform serves (raw identifiers
    inside: it is test data); the builder's own ``repr`` shows the masked identifier only.

    >>> from credit_sdk.testing import CreditPlatform, fake_resident_id
    >>> platform = CreditPlatform()
    >>> person = platform.subject(fake_resident_id(1)).linked_to_severe_list_company(
    ...     role="actual_controller")
    >>> person.report["linked_parties"][0]["role"]
    'actual_controller'
    """

    def __init__(self, platform: _Platform, identifier: Identifier) -> None:
        self._platform = platform
        self._ident = identifier
        self._entity_type: str | None = None
        self._report: dict[str, Any] = self._empty()

    def __repr__(self) -> str:
        return f"SubjectBuilder({self._ident.masked}, items={len(self.item_ids)})"

    # -- what tests read -----------------------------------------------------------------------

    @property
    def identifier(self) -> Identifier:
        """The subject's identifier (prints masked; ``reveal()`` gives the number)."""
        return self._ident

    @property
    def report(self) -> dict[str, Any]:
        """A copy of the report JSON the platform serves for this subject."""
        return copy.deepcopy(self._report)

    @property
    def item_ids(self) -> tuple[str, ...]:
        """The ids of the records and list entries, e.g. to file an objection against one."""
        return tuple(r["record_id"] for r in self._report["records"]) + tuple(
            m["membership_id"] for m in self._report["list_memberships"]
        )

    @property
    def is_person(self) -> bool:
        """Natural persons: an ID number, or an individual business's USCC (92..., Art. 21)."""
        return self._ident.kind is not IdentifierKind.USCC or self._ident.reveal()[:2] == "92"

    # -- states ------------------------------------------------------------------------------

    def of_type(self, entity_type: str) -> Self:
        """State what kind of body the subject is (``state_owned_enterprise``,
        ``large_enterprise``, ``financial_institution``, ...; see :class:`~credit_sdk.EntityType`)
        where its identifier cannot tell: measures are matched against it (Art. 39, 44).

        >>> from credit_sdk.testing import CreditPlatform, fake_uscc
        >>> soe = CreditPlatform().subject(fake_uscc(3)).of_type("state_owned_enterprise")
        >>> soe.report["subject"]["entity_type"]
        'state_owned_enterprise'
        """
        from credit_sdk import EntityType

        self._entity_type = EntityType(entity_type).value
        self._report["subject"]["entity_type"] = self._entity_type
        return self._save()

    def clean(self) -> Self:
        """Nothing against the subject: an empty report (what an unknown subject gets too)."""
        self._report = self._empty()
        return self._save()

    def on_severe_list(
        self,
        *,
        category: str = "tax_arrears",
        domain: str | None = None,
        listed_on: dt.date | None = None,
        term_months: int = 36,
        listing_body: str = "示例市社会信用主管部门",
        consequences: Iterable[str] = (),
    ) -> Self:
        """On the severe dishonesty list (严重失信主体名单, Art. 37, 38): a severe record on an
        effective penalty decision and the written listing decision, listed 60 days ago."""
        listed = listed_on or self._today - dt.timedelta(days=60)
        record = self._severe_record(category, domain, listed - dt.timedelta(days=14), consequences)
        membership = self._severe_membership(
            category, domain, listed, term_months, listing_body, consequences, [record["record_id"]]
        )
        self._report["records"].append(record)
        self._report["list_memberships"].append(membership)
        return self._save()

    def on_judgment_defaulter_list(
        self,
        *,
        court: str = "示例市示例区人民法院",
        listed_on: dt.date | None = None,
        term_months: int = 24,
    ) -> Self:
        """On the court's list of judgment defaulters (失信被执行人名单, Art. 38 ¶2), with the
        court's written decision; counted as severe by default."""
        listed = listed_on or self._today - dt.timedelta(days=30)
        n = self._platform._next("MEM")
        self._report["list_memberships"].append(
            {
                "membership_id": n,
                "list_type": "judgment_defaulter",
                "listed_on": _iso(listed),
                "listing_body": court,
                "decision": _document(
                    "court_defaulter_decision", f"（{listed.year}）示例执{n[-4:]}号", court, listed
                ),
                "category": "judgment_default",
                "domain": "judicial",
                "term_end": _term_end(listed, term_months),
                "status": "active",
            }
        )
        return self._save()

    def on_red_list(
        self, *, listed_on: dt.date | None = None, listing_body: str = "示例市市场监督管理局"
    ) -> Self:
        """On the red list (守信激励对象名单, Art. 36, 38): incentives such as the green
        channel (Art. 40(1)) and bid bonus points (Art. 40(2))."""
        listed = listed_on or self._today - dt.timedelta(days=90)
        self._report["list_memberships"].append(
            {
                "membership_id": self._platform._next("MEM"),
                "list_type": "red_list",
                "listed_on": _iso(listed),
                "listing_body": listing_body,
                "category": "general",
                "term_end": _term_end(listed, 24),
                "status": "active",
            }
        )
        return self._save()

    def with_dishonesty_record(
        self,
        *,
        category: str = "false_materials",
        domain: str | None = None,
        found_on: dt.date | None = None,
        period_months: int = 12,
        severe: bool = False,
    ) -> Self:
        """A dishonesty record (失信信息) found 30 days ago on an effective penalty decision
        (general procedure), published for ``period_months``."""
        found = found_on or self._today - dt.timedelta(days=30)
        if severe:
            record = self._severe_record(category, domain, found, ())
            record["publication_period_months"] = period_months
        else:
            record = self._record("dishonesty", category, domain, found, period_months)
        self._report["records"].append(record)
        return self._save()

    def with_expired_record(
        self, *, category: str = "false_materials", domain: str | None = None
    ) -> Self:
        """A dishonesty record whose publication period (Art. 51) ended long ago: still sent as
        ``active``, left out by the engine (``RECORD_EXPIRED``)."""
        found = add_months(self._today, -48)
        self._report["records"].append(self._record("dishonesty", category, domain, found, 12))
        return self._save()

    def with_repaired_severe_listing(self, *, category: str = "wage_arrears") -> Self:
        """A severe record and listing repaired 30 days ago (信用修复, Art. 54): removed from
        the list, nothing applies (``RECORD_REPAIRED``)."""
        repaired = self._today - dt.timedelta(days=30)
        listed = add_months(self._today, -12)
        record = self._severe_record(category, None, listed - dt.timedelta(days=14), ())
        record.update(status="repaired", status_changed_on=_iso(repaired))
        membership = self._severe_membership(
            category, None, listed, 36, "示例市社会信用主管部门", (), [record["record_id"]]
        )
        membership.update(status="removed", removed_on=_iso(repaired), removal_reason="repaired")
        self._report["records"].append(record)
        self._report["list_memberships"].append(membership)
        return self._save()

    def with_disputed_severe_listing(
        self, *, category: str = "work_safety", domain: str | None = "work_safety"
    ) -> Self:
        """A severe listing under a pending objection (异议, Art. 53): by default the measures
        it would bring are held and the decision is ``REVIEW``."""
        self.on_severe_list(category=category, domain=domain)
        filed = self._today - dt.timedelta(days=2)
        for item in (self._report["records"][-1], self._report["list_memberships"][-1]):
            item["objection"] = {
                "objection_id": self._platform._next("OBJ"),
                "filed_on": _iso(filed),
                "labelled_on": _iso(filed),
                "status": "pending",
                "needs_assistance": False,
            }
        return self._save()

    def linked_to_severe_list_company(
        self,
        company: str | Identifier | None = None,
        *,
        role: str = "legal_representative",
        category: str = "bid_rigging",
    ) -> Self:
        """A natural person who holds an Art. 45 role (``legal_representative``, ``principal``,
        ``actual_controller``, ``directly_responsible_person``) in a company on the severe
        list. The company is put on the severe list on this platform too, unless it already has
        a report here."""
        if not self.is_person:
            raise ValueError("only a natural person holds an Art. 45 role in a company")
        if role not in LINKED_ROLES:
            raise ValueError(f"role must be one of {sorted(LINKED_ROLES)}")
        from credit_sdk.testing._ids import fake_uscc

        org = self._platform.subject(company if company is not None else fake_uscc())
        if org.is_person:
            raise ValueError(
                "the linked organisation needs an organisation's unified social credit code "
                "(an individual business, 92..., is a natural person)"
            )
        if not any(
            m["list_type"] == "severe_dishonesty" and m["status"] == "active"
            for m in org._report["list_memberships"]
        ):
            org.on_severe_list(category=category)
        memberships = [
            copy.deepcopy(m)
            for m in org._report["list_memberships"]
            if m["list_type"] == "severe_dishonesty"
        ]
        self._report["linked_parties"].append(
            {
                "organisation": org.identifier.reveal(),
                "organisation_name": "示例关联企业",
                "role": role,
                "since": _iso(add_months(self._today, -60)),
                "memberships": memberships,
            }
        )
        return self._save()

    def with_false_commitment(
        self,
        *,
        unfulfilled: bool = False,
        matter: str = "示例行政许可（告知承诺制）",
        found_on: dt.date | None = None,
        repaired_on: dt.date | None = None,
    ) -> Self:
        """A credit commitment (信用承诺) found false, or unfulfilled, 30 days ago: the
        commitment route is closed until repair (Art. 28)."""
        found = found_on or self._today - dt.timedelta(days=30)
        self._report["commitments"].append(
            {
                "commitment_id": self._platform._next("CMT"),
                "made_on": _iso(found - dt.timedelta(days=45)),
                "matter": matter,
                "status": "unfulfilled" if unfulfilled else "false",
                "found_on": _iso(found),
                "repaired_on": _iso(repaired_on) if repaired_on else None,
            }
        )
        return self._save()

    def with_commendation(self, *, title: str = "获评诚信示范单位") -> Self:
        """An honour for integrity (守信信息、荣誉表彰, Art. 19(2))."""
        found = self._today - dt.timedelta(days=100)
        record = self._record("commendation", "honour", None, found, None)
        record["title"] = title
        record.pop("penalty")
        record["basis"]["kind"] = "administrative_decision"
        self._report["records"].append(record)
        return self._save()

    def with_evaluation(self, *, risk_level: str = "low", grade: str = "A") -> Self:
        """A valid comprehensive credit evaluation (Art. 31) with its Art. 32 risk level."""
        evaluated = self._today - dt.timedelta(days=60)
        self._report["evaluations"].append(
            {
                "evaluation_id": self._platform._next("EVAL"),
                "kind": "comprehensive",
                "grade": grade,
                "risk_level": risk_level,
                "evaluated_on": _iso(evaluated),
                "valid_until": _iso(add_months(evaluated, 12)),
                "evaluator": "示例公共信用工作机构",
            }
        )
        return self._save()

    def with_report(self, report: Mapping[str, Any]) -> Self:
        """Serve this report JSON as it is (``subject`` is filled in when missing), e.g. one of
        the shipped samples with its identifier replaced."""
        data = copy.deepcopy(dict(report))
        data.setdefault("subject", self._empty()["subject"])
        for key in ("records", "list_memberships", "commitments", "evaluations", "linked_parties"):
            data[key] = list(data.get(key) or ())
        data.setdefault("report_id", self._platform._next("RPT"))
        data.setdefault("generated_at", dt.datetime.now(dt.UTC).isoformat())
        self._report = data
        return self._save()

    # -- internals ---------------------------------------------------------------------------

    @property
    def _today(self) -> dt.date:
        return self._platform.today

    def _empty(self) -> dict[str, Any]:
        return {
            "schema_version": "1",
            "report_id": self._platform._next("RPT"),
            "generated_at": dt.datetime.now(dt.UTC).isoformat(),
            "subject": {
                "kind": "natural_person" if self.is_person else "legal_person",
                "identifier": self._ident.reveal(),
                **({"entity_type": self._entity_type} if self._entity_type else {}),
            },
            "records": [],
            "list_memberships": [],
            "commitments": [],
            "evaluations": [],
            "linked_parties": [],
        }

    def _save(self) -> Self:
        self._platform._store(self._ident, self._report)
        return self

    def _record(
        self,
        kind: str,
        category: str,
        domain: str | None,
        found: dt.date,
        period_months: int | None,
    ) -> dict[str, Any]:
        n = self._platform._next("REC")
        return {
            "record_id": n,
            "kind": kind,
            "category": category,
            "domain": domain,
            "title": f"示例{'失信' if kind != 'commendation' else '守信'}信息 {n}",
            "finding_date": _iso(found),
            "basis": _document(
                "administrative_penalty_decision", f"示例罚〔{found.year}〕{n[-4:]}号",
                "示例市市场监督管理局", found,
            ),
            "penalty": {"procedure": "general", "types": ["fine"]},
            "publication_period_months": period_months,
            "status": "active",
            "provider": "示例市市场监督管理局",
        }  # fmt: skip

    def _severe_record(
        self, category: str, domain: str | None, found: dt.date, consequences: Iterable[str]
    ) -> dict[str, Any]:
        record = self._record("severe_dishonesty", category, domain, found, 36)
        record["consequences"] = list(consequences)
        return record

    def _severe_membership(
        self,
        category: str,
        domain: str | None,
        listed: dt.date,
        term_months: int,
        listing_body: str,
        consequences: Iterable[str],
        record_ids: list[str],
    ) -> dict[str, Any]:
        n = self._platform._next("MEM")
        return {
            "membership_id": n,
            "list_type": "severe_dishonesty",
            "listed_on": _iso(listed),
            "listing_body": listing_body,
            "decision": _document(
                "severe_list_decision", f"示例严失〔{listed.year}〕{n[-4:]}号", listing_body, listed
            ),
            "category": category,
            "domain": domain,
            "consequences": list(consequences),
            "term_end": _term_end(listed, term_months),
            "status": "active",
            "record_ids": record_ids,
        }
