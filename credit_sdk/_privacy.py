"""Personal data handling: masked personal fields and the Art. 20 prohibited fields.

Art. 20 forbids collecting a natural person's religion, blood type, diseases and medical history,
fingerprints, genes and other biometric data, and (without written consent) income, deposits,
securities, commercial insurance, real estate and tax amounts. Art. 24 says names, birth dates,
ID numbers, addresses and phone numbers are not opened without law or consent, and are
desensitised. The SDK therefore:

* drops prohibited fields from anything a platform sends, at any depth, and flags that it did;
* wraps the personal fields it keeps (a subject's name) in :class:`PersonalText`, whose ``str``,
  ``repr`` and serialised forms are masked; the value needs an explicit :meth:`PersonalText.reveal`.

>>> name = PersonalText("张三丰")
>>> str(name), name.reveal()
('张**', '张三丰')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from credit_sdk._bounded import KeyScreen

__all__ = [
    "PROHIBITED_FIELDS",
    "PROHIBITED_KEYS",
    "PersonalText",
    "drop_prohibited_fields",
    "mask_text",
]

# Field names (after lower-casing and removing "_"/"-") that Art. 20 forbids. Matching is by
# name because the platform contract is JSON: a prohibited field must not survive parsing,
# whatever object it appears in.
PROHIBITED_FIELDS: frozenset[str] = frozenset(
    {
        # 宗教信仰、血型
        "religion", "religiousbelief", "faith", "bloodtype",
        # 疾病、病史
        "disease", "diseases", "illness", "medicalhistory", "medicalrecord", "healthstatus",
        "diagnosis",
        # 指纹、基因等生物识别信息
        "fingerprint", "fingerprints", "gene", "genes", "genetic", "geneticdata", "dna",
        "biometric", "biometrics", "faceimage", "facialfeatures", "iris", "voiceprint",
        # 收入、存款、有价证券、商业保险、不动产、纳税数额 (Art. 20 ¶2, without written consent)
        "income", "salary", "wage", "wages", "deposit", "deposits", "bankbalance", "securities",
        "securitiesholdings", "commercialinsurance", "insurancepolicies", "realestate",
        "realestateholdings", "property", "taxamount", "taxpaid",
    }
)  # fmt: skip


_NORMALISED: dict[str, bool] = {}  # field name -> prohibited?; names repeat across reports
# Field names seen and found allowed: a dict whose keys are all in here (the usual case) is
# checked by one C-level set operation instead of a lookup per key.
_ALLOWED: set[str] = set()
_CACHE_LIMIT = 65536  # both caches are bounded: field names come from outside


def _prohibited(key: object) -> bool:
    if not isinstance(key, str):
        return False
    hit = _NORMALISED.get(key)
    if hit is None:
        hit = key.lower().replace("_", "").replace("-", "") in PROHIBITED_FIELDS
        if len(_NORMALISED) < _CACHE_LIMIT:
            _NORMALISED[key] = hit
        if not hit and len(_ALLOWED) < _CACHE_LIMIT:
            _ALLOWED.add(key)
    return hit


#: The screen as bounded decoding watches for it (:func:`credit_sdk._bounded.load_flagged`):
#: a document decoded with it says whether any object holds a prohibited field, from the same
#: walk that checks its limits, so a document without one (the usual case) is not walked again.
PROHIBITED_KEYS = KeyScreen(_prohibited)

_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = (Mapping, list, tuple)


def _contains_prohibited(node: Any) -> bool:
    """Does any mapping in ``node``, at any depth, hold a prohibited key?

    An iterative walk (no recursion, so no depth limit of its own) over dicts, lists and
    tuples, which is what parsed JSON is made of; any other mapping is walked the same way.
    """
    allowed = _ALLOWED
    scalars = _SCALARS
    stack = [node]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        kind = type(item)
        # Exact types first: an abstract-class check costs more than the rest of a visit.
        if kind is dict or (kind is not list and kind is not tuple and isinstance(item, Mapping)):
            if not allowed.issuperset(item.keys()) and any(_prohibited(k) for k in item):
                return True
            values: Any = item.values()
        elif kind is list or kind is tuple or isinstance(item, list | tuple):
            values = item
        else:
            continue
        for value in values:
            kind = type(value)
            if kind in scalars:
                continue
            if kind is dict or kind is list or isinstance(value, _CONTAINERS):
                push(value)
    return False


def drop_prohibited_fields(data: Any, path: str = "$") -> tuple[Any, list[str]]:
    """Return ``data`` without Art. 20 prohibited fields, and the JSON paths that were dropped.

    Only the *paths* are reported, never the values. Data without any prohibited field (the
    usual case) is returned as it is, after one read-only pass.

    >>> drop_prohibited_fields({"a": 1, "subject": {"blood_type": "O"}})
    ({'a': 1, 'subject': {}}, ['$.subject.blood_type'])
    """
    if not _contains_prohibited(data):
        return data, []
    dropped: list[str] = []

    def walk(node: Any, where: str) -> Any:
        if isinstance(node, Mapping):
            out: dict[Any, Any] = {}
            for key, value in node.items():
                here = f"{where}.{key}"
                if _prohibited(key):
                    dropped.append(here)
                    continue
                out[key] = walk(value, here)
            return out
        if isinstance(node, list | tuple):
            return [walk(item, f"{where}[{i}]") for i, item in enumerate(node)]
        return node

    return walk(data, path), dropped


def mask_text(value: str) -> str:
    """Mask a personal text field: keep the first character, star the rest.

    >>> mask_text("张三"), mask_text("")
    ('张*', '')
    """
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)


class PersonalText:
    """A personal field (Art. 24) whose every printable form is masked.

    Equality compares the underlying values; hashing is supported so values can sit in sets.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("PersonalText wraps a str")
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("PersonalText is immutable")

    def reveal(self) -> str:
        """The unmasked value. Call it only where an authorisation covers the field."""
        return self._value

    @property
    def masked(self) -> str:
        return mask_text(self._value)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"PersonalText({self.masked!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PersonalText) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("PersonalText", self._value))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> PersonalText:
            if isinstance(value, PersonalText):
                return value
            if isinstance(value, str):
                return cls(value.strip())
            raise ValueError("expected a string")

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda v: v.masked, when_used="always"
            ),
        )
