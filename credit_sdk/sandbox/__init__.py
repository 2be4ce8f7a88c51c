"""The sandbox credit platform: a development server that implements the platform contract.

Not a production platform: a real HTTP server over a seeded SQLite store with synthetic
subjects in every state the engine knows, per-route fault injection, and sandbox-only
administration under ``/_sandbox/``. It needs the ``sandbox`` extra
(``pip install 'credit-sdk[sandbox]'``). Run it with ``credit-sdk sandbox`` or
``python -m credit_sdk.sandbox``; embed it in tests with :class:`SandboxServer`.

>>> from credit_sdk.sandbox import SandboxServer, seeded_subject   # doctest: +SKIP
>>> with SandboxServer() as sandbox:                                # doctest: +SKIP
...     subject = seeded_subject("severe_list")
...     sandbox.admin.inject_fault("reports:query", status=503, retry_after=1, times=1)

Names are resolved on first use, so that ``credit_sdk.sandbox.cli`` (which the ``credit-sdk``
command imports) loads without the extra and can say how to install it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from credit_sdk.sandbox.app import (
        DEFAULT_APP_ID,
        DEFAULT_APP_SECRET,
        DEFAULT_TOKEN,
        NOTICE,
        create_app,
    )
    from credit_sdk.sandbox.faults import CONTRACT_ROUTES, Fault, FaultMode
    from credit_sdk.sandbox.server import (
        RunningSandbox,
        SandboxAdmin,
        SandboxServer,
        run_with_sandbox,
    )
    from credit_sdk.sandbox.store import (
        SeededSubject,
        Store,
        seeded_subject,
        seeded_subjects,
    )

    SEEDED: tuple[SeededSubject, ...]

__all__ = [
    "CONTRACT_ROUTES",
    "DEFAULT_APP_ID",
    "DEFAULT_APP_SECRET",
    "DEFAULT_TOKEN",
    "NOTICE",
    "SEEDED",
    "Fault",
    "FaultMode",
    "RunningSandbox",
    "SandboxAdmin",
    "SandboxServer",
    "SeededSubject",
    "Store",
    "create_app",
    "require_extra",
    "run_with_sandbox",
    "seeded_subject",
    "seeded_subjects",
]

_WHERE = {
    "CONTRACT_ROUTES": "faults",
    "DEFAULT_APP_ID": "app",
    "DEFAULT_APP_SECRET": "app",
    "DEFAULT_TOKEN": "app",
    "NOTICE": "app",
    "Fault": "faults",
    "FaultMode": "faults",
    "RunningSandbox": "server",
    "SandboxAdmin": "server",
    "SandboxServer": "server",
    "SeededSubject": "store",
    "Store": "store",
    "create_app": "app",
    "run_with_sandbox": "server",
    "seeded_subject": "store",
    "seeded_subjects": "store",
}

_MISSING_EXTRA = (
    "the credit-sdk sandbox needs its extra: pip install 'credit-sdk[sandbox]' "
    "(Starlette and uvicorn)"
)


def require_extra() -> None:
    """Raise ``ImportError`` with the install command when the ``sandbox`` extra is missing."""
    try:
        importlib.import_module("starlette")
        importlib.import_module("uvicorn")
    except ImportError as err:
        raise ImportError(_MISSING_EXTRA) from err


def __getattr__(name: str) -> Any:
    if name == "SEEDED":
        # The seeded subjects, (state, identifier) pairs read from the shipped sample reports.
        return importlib.import_module("credit_sdk.sandbox.store").seeded_subjects()
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'credit_sdk.sandbox' has no attribute {name!r}")
    if module != "store":
        require_extra()
    return getattr(importlib.import_module(f"credit_sdk.sandbox.{module}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
