"""The usage examples in the docstrings run as written (docs/api.md: "Each class and function
also carries a docstring with a usage example"). An example that needs a live platform, a
client or a query log says ``# doctest: +SKIP``; every other line is executed here, so an API
change that breaks an example (a new required argument, a stricter check) fails a test instead
of a reader who copies it from ``help()``."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import adapters
import credit_sdk

# Django's settings object raises on any attribute until settings are configured, which
# breaks doctest's object walk; its module has no runnable example.
NOT_WALKED = {"adapters.django", "credit_sdk.sandbox.__main__", "credit_sdk.cli.__main__"}


def _modules() -> list[str]:
    names = [credit_sdk.__name__, adapters.__name__]
    for package in (credit_sdk, adapters):
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            names.append(info.name)
    return sorted(n for n in names if n not in NOT_WALKED)


MODULES = _modules()


def _examples(module: ModuleType) -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(module, module.__name__) if t.examples]


def test_the_walk_finds_the_packages_examples() -> None:
    assert len(MODULES) > 40
    assert "credit_sdk._engine" in MODULES
    assert "adapters.personnel" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run_as_written(name: str) -> None:
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS, verbose=False)
    failures: list[str] = []
    for test in _examples(module):
        runner.run(test, out=failures.append)
    assert not failures, "".join(failures)[:4000]
