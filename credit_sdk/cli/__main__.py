"""``python -m credit_sdk.cli``: the same as the ``credit-sdk`` script."""

from __future__ import annotations

import sys

from credit_sdk.cli._main import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
