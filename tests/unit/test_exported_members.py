"""The public surface is exactly ``credit_sdk.__all__``: sorted, importable, and nothing else."""

from __future__ import annotations

import types

import credit_sdk


def test_all_is_sorted_and_unique() -> None:
    assert list(credit_sdk.__all__) == sorted(set(credit_sdk.__all__))


def test_every_exported_name_exists() -> None:
    for name in credit_sdk.__all__:
        assert hasattr(credit_sdk, name), name


def test_no_public_name_outside_all() -> None:
    for name in credit_sdk.__all__:
        getattr(credit_sdk, name)  # load everything lazily loaded
    public = {
        name
        for name, value in vars(credit_sdk).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(credit_sdk.__all__) - {"__version__"}


def test_exported_classes_claim_the_public_module() -> None:
    # Users see `credit_sdk.X` in reprs and docs, never the private module path.
    for name in credit_sdk.__all__:
        value = getattr(credit_sdk, name)
        if isinstance(value, type):
            assert value.__module__ == "credit_sdk", name


def test_import_loads_no_submodule_until_used() -> None:
    # `import credit_sdk` stays cheap: the client, the engine and the query log load on use.
    import subprocess
    import sys

    code = (
        "import sys, credit_sdk; "
        "print(sorted(m for m in sys.modules if m.startswith('credit_sdk.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['credit_sdk._errors', 'credit_sdk._version']"


def test_dir_lists_every_public_name() -> None:
    assert set(credit_sdk.__all__) <= set(dir(credit_sdk))
