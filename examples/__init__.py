"""Runnable integration examples (each against the sandbox platform)."""
