"""``python -m credit_sdk.sandbox``: the same as ``credit-sdk sandbox``."""

from credit_sdk.sandbox.cli import main

raise SystemExit(main())
