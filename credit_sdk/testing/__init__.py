"""Test your own system's credit checks without a network: ``credit_sdk.testing``.

The SDK's pluggable seams each ship an in-memory implementation, and this package puts them
together for the host systems that embed the SDK (permit approval systems, bidding platforms,
personnel review tools):

* :class:`CreditPlatform`: an in-memory credit platform with readable scenario builders
  (``platform.subject(id).on_severe_list(category="bid_rigging")``) and faults
  (``platform.down()``, ``slow()``, ``timeout()``, ``malformed()``, ``refusing()``);
* :class:`HttpCreditPlatform`: the same platform behind the HTTP contract, served by respx,
  for tests that want the SDK's transport in the loop;
* :func:`fake_uscc`, :func:`fake_resident_id`: synthetic identifiers that validate, so tests
  never carry a real person's or company's number;
* a pytest plugin (registered as ``credit_sdk``; fixtures ``credit_platform``,
  ``credit_query_log``, ``credit_client``, ``async_credit_client``, ``credit_platform_http``,
  ``credit_query_context``): see ``docs/testing.md``.

>>> from credit_sdk.testing import CreditPlatform, fake_uscc
>>> platform = CreditPlatform()
>>> builder = platform.subject(fake_uscc(1)).on_red_list()

Names load on first use: the pytest plugin imports this package in every test run of a project
that installs credit-sdk, and must cost nothing until a fixture is used.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from credit_sdk.testing._builders import LINKED_ROLES, SubjectBuilder
    from credit_sdk.testing._ids import fake_resident_id, fake_uscc
    from credit_sdk.testing._platform import PSEUDONYM_KEY, ROUTES, CreditPlatform
    from credit_sdk.testing._wire import HttpCreditPlatform

__all__ = [
    "LINKED_ROLES",
    "PSEUDONYM_KEY",
    "ROUTES",
    "CreditPlatform",
    "HttpCreditPlatform",
    "SubjectBuilder",
    "fake_resident_id",
    "fake_uscc",
]

_LAZY: dict[str, str] = {
    "LINKED_ROLES": "credit_sdk.testing._builders",
    "PSEUDONYM_KEY": "credit_sdk.testing._platform",
    "ROUTES": "credit_sdk.testing._platform",
    "CreditPlatform": "credit_sdk.testing._platform",
    "HttpCreditPlatform": "credit_sdk.testing._wire",
    "SubjectBuilder": "credit_sdk.testing._builders",
    "fake_resident_id": "credit_sdk.testing._ids",
    "fake_uscc": "credit_sdk.testing._ids",
}


def __getattr__(name: str) -> _typing.Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module_name), name)
    if isinstance(value, type):
        value.__module__ = __name__  # reprs and docs name credit_sdk.testing.X
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
