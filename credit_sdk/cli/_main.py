"""The entry: builds the parser from :data:`COMMAND_GROUPS` and dispatches to the handlers."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from credit_sdk._errors import (
    AuditError,
    AuditIntegrityError,
    CatalogError,
    ConfigurationError,
    InvalidIdentifier,
    InvalidQuery,
    PlatformError,
    PolicyError,
)
from credit_sdk._version import __version__
from credit_sdk.cli._common import (
    _RAW,
    EXIT_BROKEN_CHAIN,
    EXIT_CONFIG,
    EXIT_DB_CORRUPT,
    EXIT_DB_MISSING,
    EXIT_DB_UNAVAILABLE,
    EXIT_INTERRUPTED,
    EXIT_INVALID_LIST,
    EXIT_OK,
    EXIT_PLATFORM,
    EXIT_USAGE,
    _ConfigError,
    _epilog,
    _err,
    _flag_names,
    _Parser,
    _UsageError,
)
from credit_sdk.cli.audit import add_audit_commands
from credit_sdk.cli.check import add_check_command
from credit_sdk.cli.duties import add_duty_commands
from credit_sdk.cli.feedback import add_feedback_commands
from credit_sdk.cli.lists import add_lists_commands
from credit_sdk.cli.sandbox import add_sandbox_command

if TYPE_CHECKING:
    pass


COMMAND_GROUPS: list[Callable[[Any], None]] = [
    add_check_command,
    add_lists_commands,
    add_feedback_commands,
    add_duty_commands,
    add_audit_commands,
    add_sandbox_command,
]


def build_parser() -> argparse.ArgumentParser:
    """The ``credit-sdk`` parser with every group of :data:`COMMAND_GROUPS`.

    >>> build_parser().parse_args(["lists", "validate", "a.json"]).paths
    ['a.json']
    """
    parser = _Parser(
        prog="credit-sdk",
        description="Social-credit reward/punishment checks for government business systems: "
        "the published measures that apply at an Art. 27 decision point, with their legal "
        "basis; every query logged (Art. 25); results fed back (Art. 46).",
        epilog=_epilog(
            """\
  credit-sdk sandbox                                    # a development platform on loopback
  credit-sdk check ID --scenario bidding --organ O --operator U --purpose P \\
      --sandbox http://127.0.0.1:8765
  credit-sdk lists validate my-lists/
  credit-sdk audit verify --db /var/lib/app/credit-audit.db
  credit-sdk COMMAND --help                             # each command's options and examples"""
        ),
        formatter_class=_RAW,
    )
    parser.add_argument("--version", action="version", version=f"credit-sdk {__version__}")
    groups = parser.add_subparsers(
        dest="group", metavar="COMMAND", required=True, parser_class=_Parser
    )
    for register in COMMAND_GROUPS:
        register(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (see :data:`EXIT_CODES`).

    >>> main(["--version"])  # doctest: +ELLIPSIS
    credit-sdk ...
    0
    """
    from credit_sdk._audit._common import StoreCorrupt, StoreNotFound

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.handler(args))
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except _UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except _ConfigError as exc:
        _err(f"configuration: {exc}")
        return EXIT_CONFIG
    except InvalidIdentifier as exc:
        _err(f"--subject: not a valid identifier (rule: {exc.rule})")
        return EXIT_USAGE
    except (ConfigurationError, InvalidQuery) as exc:
        _err(_flag_names(str(exc)))
        return EXIT_USAGE
    except CatalogError as exc:
        _err(str(exc))
        return EXIT_INVALID_LIST
    except PolicyError as exc:  # e.g. --as-of outside the policy profile's dates
        _err(str(exc))
        return EXIT_USAGE
    except PlatformError as exc:
        _err(f"platform: {exc}")
        return EXIT_PLATFORM
    except StoreNotFound as exc:
        _err(str(exc))
        return EXIT_DB_MISSING
    except StoreCorrupt as exc:
        _err(str(exc))
        return EXIT_DB_CORRUPT
    except AuditIntegrityError as exc:
        _err(str(exc))
        return EXIT_BROKEN_CHAIN
    except AuditError as exc:
        _err(str(exc))
        return EXIT_DB_UNAVAILABLE
    except BrokenPipeError:  # `credit-sdk audit export | head`
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
