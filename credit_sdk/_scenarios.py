"""The decision points at which state organs must query the credit platform (Art. 27).

Each :class:`Scenario` is one activity named in Art. 27; each belongs to a
:class:`ScenarioFamily`, the Art. 27 item it comes from. Measure lists may name either a scenario
or a whole family; the catalog expands families when it loads a list.

>>> Scenario.GOVERNMENT_PROCUREMENT.family
<ScenarioFamily.PROCUREMENT: 'procurement'>
>>> Scenario.parse("bidding")
<Scenario.BIDDING: 'bidding'>
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Scenario", "ScenarioFamily"]


class ScenarioFamily(StrEnum):
    """An item of Art. 27 (公共信用信息应用), grouping the scenarios it names."""

    ADMINISTRATION = "administration"
    """Art. 27(1): administrative management and public services (行政管理和公共服务)."""
    PROCUREMENT = "procurement"
    """Art. 27(2): government procurement, bidding for government-invested projects and public
    resource trading."""
    FUNDING = "funding"
    """Art. 27(3): allocation of fiscal funds and government policy or project support."""
    HONOURS = "honours"
    """Art. 27(4): awards and honorary titles (评先评优和授予称号)."""
    PERSONNEL = "personnel"
    """Art. 27(5): hiring, transfer, appointment and promotion of civil servants and public
    institution staff."""
    QUALIFICATION = "qualification"
    """Art. 27(6): qualification review of heads of public institutions and social organisations,
    and of directors, supervisors and senior managers of SOEs and financial institutions."""
    ELECTION = "election"
    """Art. 27(7): qualification review for election as Party congress delegate, people's
    congress deputy or CPPCC member."""
    OTHER = "other"
    """Art. 27(8): other activities named by law, regulation or national rules."""


class Scenario(StrEnum):
    """One activity of Art. 27 at which the credit report must be queried.

    ``Scenario.parse`` accepts the value or the member name, case-insensitively, and raises
    :class:`~credit_sdk.InvalidQuery` naming the accepted values otherwise.
    """

    ADMIN_LICENSING = "admin_licensing"  # 行政许可
    ADMIN_PENALTY = "admin_penalty"  # 行政处罚
    CERTIFICATION = "certification"  # 证明事项
    PUBLIC_SERVICE = "public_service"  # 公共服务
    GOVERNMENT_PROCUREMENT = "government_procurement"  # 政府采购
    BIDDING = "bidding"  # 政府投资项目招标投标
    PUBLIC_RESOURCE_TRADING = "public_resource_trading"  # 公共资源交易
    FISCAL_FUNDS = "fiscal_funds"  # 财政性资金分配
    POLICY_SUPPORT = "policy_support"  # 政府政策、项目支持
    AWARDS = "awards"  # 评先评优
    HONORARY_TITLES = "honorary_titles"  # 授予称号
    CIVIL_SERVICE_HIRING = "civil_service_hiring"  # 录用、聘用
    PERSONNEL_TRANSFER = "personnel_transfer"  # 调转、调任
    APPOINTMENT = "appointment"  # 任命
    PROMOTION = "promotion"  # 晋升
    QUALIFICATION_REVIEW = "qualification_review"  # 任职资格审核
    ELECTION_QUALIFICATION = "election_qualification"  # 被选举资格审核
    OTHER = "other"  # 法律、法规和国家规定的其他活动

    @property
    def family(self) -> ScenarioFamily:
        """The Art. 27 item this scenario belongs to."""
        return _FAMILY[self]

    @property
    def article_item(self) -> str:
        """The Art. 27 item number, e.g. ``"27(2)"``."""
        return _ITEM[_FAMILY[self]]

    @property
    def label_zh(self) -> str:
        """The regulation's own words for this activity."""
        return _LABEL_ZH[self]

    @classmethod
    def parse(cls, value: str | Scenario) -> Scenario:
        """Return the scenario named by ``value`` (its value or member name)."""
        if isinstance(value, Scenario):
            return value
        from credit_sdk._errors import InvalidQuery, require_type, vocabulary_word

        require_type(value, str, "scenario")
        key = value.strip().lower().replace("-", "_")
        try:
            return cls(key)
        except ValueError:
            pass
        member = cls.__members__.get(key.upper())
        if member is not None:
            return member
        accepted = ", ".join(s.value for s in cls)
        # The value is quoted only when it is a plain word: an ID number passed here by
        # mistake must not end up in a log line.
        shown = repr(value) if vocabulary_word(value) else "(not shown)"
        raise InvalidQuery(
            f"unknown scenario {shown}; Art. 27 scenarios are: {accepted}", rule="scenario"
        )

    @classmethod
    def in_family(cls, family: ScenarioFamily) -> frozenset[Scenario]:
        """All scenarios of one Art. 27 item."""
        return _BY_FAMILY[family]


_FAMILY: dict[Scenario, ScenarioFamily] = {
    Scenario.ADMIN_LICENSING: ScenarioFamily.ADMINISTRATION,
    Scenario.ADMIN_PENALTY: ScenarioFamily.ADMINISTRATION,
    Scenario.CERTIFICATION: ScenarioFamily.ADMINISTRATION,
    Scenario.PUBLIC_SERVICE: ScenarioFamily.ADMINISTRATION,
    Scenario.GOVERNMENT_PROCUREMENT: ScenarioFamily.PROCUREMENT,
    Scenario.BIDDING: ScenarioFamily.PROCUREMENT,
    Scenario.PUBLIC_RESOURCE_TRADING: ScenarioFamily.PROCUREMENT,
    Scenario.FISCAL_FUNDS: ScenarioFamily.FUNDING,
    Scenario.POLICY_SUPPORT: ScenarioFamily.FUNDING,
    Scenario.AWARDS: ScenarioFamily.HONOURS,
    Scenario.HONORARY_TITLES: ScenarioFamily.HONOURS,
    Scenario.CIVIL_SERVICE_HIRING: ScenarioFamily.PERSONNEL,
    Scenario.PERSONNEL_TRANSFER: ScenarioFamily.PERSONNEL,
    Scenario.APPOINTMENT: ScenarioFamily.PERSONNEL,
    Scenario.PROMOTION: ScenarioFamily.PERSONNEL,
    Scenario.QUALIFICATION_REVIEW: ScenarioFamily.QUALIFICATION,
    Scenario.ELECTION_QUALIFICATION: ScenarioFamily.ELECTION,
    Scenario.OTHER: ScenarioFamily.OTHER,
}

_ITEM: dict[ScenarioFamily, str] = {
    ScenarioFamily.ADMINISTRATION: "27(1)",
    ScenarioFamily.PROCUREMENT: "27(2)",
    ScenarioFamily.FUNDING: "27(3)",
    ScenarioFamily.HONOURS: "27(4)",
    ScenarioFamily.PERSONNEL: "27(5)",
    ScenarioFamily.QUALIFICATION: "27(6)",
    ScenarioFamily.ELECTION: "27(7)",
    ScenarioFamily.OTHER: "27(8)",
}

_LABEL_ZH: dict[Scenario, str] = {
    Scenario.ADMIN_LICENSING: "行政许可",
    Scenario.ADMIN_PENALTY: "行政处罚",
    Scenario.CERTIFICATION: "证明事项",
    Scenario.PUBLIC_SERVICE: "公共服务",
    Scenario.GOVERNMENT_PROCUREMENT: "政府采购",
    Scenario.BIDDING: "政府投资项目招标投标",
    Scenario.PUBLIC_RESOURCE_TRADING: "公共资源交易",
    Scenario.FISCAL_FUNDS: "财政性资金分配",
    Scenario.POLICY_SUPPORT: "政府政策、项目支持",
    Scenario.AWARDS: "评先评优",
    Scenario.HONORARY_TITLES: "授予称号",
    Scenario.CIVIL_SERVICE_HIRING: "公务员和事业单位工作人员录用、聘用",
    Scenario.PERSONNEL_TRANSFER: "公务员和事业单位工作人员调转、调任",
    Scenario.APPOINTMENT: "公务员和事业单位工作人员任命",
    Scenario.PROMOTION: "公务员和事业单位工作人员晋升",
    Scenario.QUALIFICATION_REVIEW: "任职资格审核",
    Scenario.ELECTION_QUALIFICATION: "被选举资格审核",
    Scenario.OTHER: "其他活动",
}

_BY_FAMILY: dict[ScenarioFamily, frozenset[Scenario]] = {
    family: frozenset(s for s, f in _FAMILY.items() if f is family) for family in ScenarioFamily
}
