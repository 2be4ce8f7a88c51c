"""``credit-sdk sandbox``: run the sandbox platform in the foreground.

The ``credit-sdk`` command calls :func:`register` to add the subcommand; the parser it adds
sets ``handler`` to :func:`run`, which returns the exit status. ``python -m credit_sdk.sandbox``
runs :func:`main` with the same options::

    credit-sdk sandbox [--host 127.0.0.1] [--port 8765] [--db PATH] [--token T]

Loopback by default. Another interface needs an explicit ``--token`` and ``--app-secret``
(the defaults are public). The banner prints the URL and the sandbox's credentials, and says
that this is not a production platform.

>>> parser = argparse.ArgumentParser(prog="credit-sdk")
>>> register(parser.add_subparsers(dest="command"))
>>> parser.parse_args(["sandbox", "--port", "0"]).port
0
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from typing import Any, TextIO

__all__ = ["add_arguments", "main", "register", "run"]

_DESCRIPTION = (
    "Run the credit-sdk sandbox: a development server that implements the platform contract "
    "over synthetic data, with fault injection. It is NOT a production credit platform."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sandbox options, on any parser."""
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port; 0 = any free port")
    parser.add_argument("--db", default=None, metavar="PATH", help="SQLite file (default: memory)")
    parser.add_argument("--token", default=None, help="bearer token (default: the public one)")
    parser.add_argument("--app-id", default=None, help="signing application id")
    parser.add_argument("--app-secret", default=None, help="signing secret")
    parser.add_argument("--no-seed", action="store_true", help="start without sample subjects")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="log level (default: info)",
    )


def register(subparsers: Any) -> None:
    """Add the ``sandbox`` subcommand to the ``credit-sdk`` parser's subparsers.

    ``subparsers`` is what ``ArgumentParser.add_subparsers()`` returned. The new parser sets
    ``handler`` (and ``func``, the same) to :func:`run`: the caller dispatches with
    ``return args.handler(args)``.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sandbox",
        help="run the sandbox platform (development only, not production)",
        description=_DESCRIPTION,
    )
    add_arguments(parser)
    parser.set_defaults(handler=run, func=run)


def _banner(url: str, args: argparse.Namespace, state: Any, out: TextIO) -> None:
    credentials = state.credentials
    lists = state.store.list_index()
    subjects = state.store.subjects()
    lines = [
        "credit-sdk sandbox: NOT a production credit platform.",
        "A development server with synthetic data, for demos and tests only.",
        "",
        f"  URL          {url}",
        f"  token        {credentials.token}   (Authorization: Bearer <token>)",
        f"  app id       {credentials.app_id}   (HMAC signing, X-Credit-* headers)",
        f"  app secret   {credentials.app_secret.decode('utf-8', 'replace')}",
        f"  store        {args.db or 'in memory'}: "
        f"{len(subjects)} subjects, {len(lists)} measure-list editions",
        f"  contract     {url}/_sandbox/openapi.yaml",
        f"  admin        {url}/_sandbox/  (sandbox only; same credentials)",
    ]
    if subjects:
        lines += ["", "  seeded subjects (synthetic sample identifiers):"]
        lines += [f"    {s['state']:<22} {s['identifier']}" for s in subjects if s["seeded"]]
    lines += ["", "Press Ctrl-C to stop."]
    print("\n".join(lines), file=out, flush=True)


def run(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Run the sandbox until interrupted; returns the exit status."""
    out = out or sys.stdout
    try:
        from credit_sdk.sandbox import require_extra

        require_extra()
        from credit_sdk.sandbox.server import is_loopback, make_server
    except ImportError as err:
        print(f"credit-sdk sandbox: {err}", file=sys.stderr)
        return 2
    if not is_loopback(args.host) and (args.token is None or args.app_secret is None):
        print(
            "credit-sdk sandbox: refusing to listen beyond loopback with the public default "
            "credentials; pass --token and --app-secret (and remember: synthetic data only, "
            "not a production platform)",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        server, sock, state = make_server(
            host=args.host,
            port=args.port,
            db=args.db,
            token=args.token,
            app_id=args.app_id,
            app_secret=args.app_secret,
            seed=not args.no_seed,
            log_level=args.log_level,
        )
    except OSError as err:
        print(
            f"credit-sdk sandbox: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr
        )
        return 1
    host, port = sock.getsockname()[:2]
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    try:
        _banner(url, args, state, out)
        # uvicorn handles SIGINT/SIGTERM (graceful shutdown), then re-raises the signal;
        # Ctrl-C is how this command is meant to end, so that is a normal exit.
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
        print("credit-sdk sandbox: stopped.", file=out, flush=True)
    finally:
        sock.close()
        state.store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m credit_sdk.sandbox [options]``."""
    parser = argparse.ArgumentParser(prog="python -m credit_sdk.sandbox", description=_DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))
