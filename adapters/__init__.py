"""Framework adapters and workflow helpers, installed as ``credit_sdk.adapters``.

Each adapter lives in its own module and imports its framework at the top, failing with an
"install credit-sdk[extra]" message when the framework is missing.
"""
