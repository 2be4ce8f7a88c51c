"""Each adapter fails at import with an "install the extra" message when its framework is
missing; the decorators need no framework at all.

Run in a fresh interpreter: hiding a framework inside this process would pull it from under the
sandbox server and the other tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

FRAMEWORKS = ("starlette", "fastapi", "flask", "django")

SCRIPT = textwrap.dedent(
    """
    import importlib, json, sys

    def hide(name):
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[loaded]
        sys.modules[name] = None  # "import name" now raises ImportError, as if not installed

    results = {}
    for framework in FRAMEWORKS:
        hide(framework)
        try:
            importlib.import_module("credit_sdk.adapters." + framework)
        except ImportError as err:
            results[framework] = [type(err).__name__, str(err), repr(err.__cause__)]
        else:
            results[framework] = None
        del sys.modules[framework]
        sys.modules.pop("credit_sdk.adapters." + framework, None)

    for framework in FRAMEWORKS:
        hide(framework)
    decorators = importlib.import_module("credit_sdk.adapters.decorators")
    results["decorators"] = callable(decorators.credit_check)
    print(json.dumps(results))
    """
)


def test_missing_framework_names_the_extra_to_install() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", f"FRAMEWORKS = {FRAMEWORKS!r}\n{SCRIPT}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for framework in FRAMEWORKS:
        kind, message, cause = results[framework]
        assert kind == "ImportError"
        assert f"pip install 'credit-sdk[{framework}]'" in message
        assert f"credit_sdk.adapters.{framework}" in message
        assert framework in cause  # the original error is kept as the cause
    assert results["decorators"] is True
