"""`mlprod`: argparse wiring, the context commands share, and the one place errors become exit
codes. Commands live in commands_*.py; they call `Project` and format what it returns."""
from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from .. import __version__
from ..audit.actor import acting_as, os_user
from ..errors import MlprodError
from . import args as shared
from .errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, error_line, exit_code
from .output import dump_json


class Context:
    """What a command gets: parsed options, output streams and the project, opened lazily."""

    def __init__(self, ns: argparse.Namespace, stdout: TextIO, stderr: TextIO):
        self.ns = ns
        self.stdout = stdout
        self.stderr = stderr
        self.json = bool(getattr(ns, "json", False))
        self._project = None

    @property
    def project(self):
        if self._project is None:
            self._project = shared.open_project(self.ns)
        return self._project

    def out(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def err(self, text: str) -> None:
        self.stderr.write(text + "\n")

    def emit(self, data, text: str) -> None:
        """The same data, as JSON with --json, else as text for a person."""
        self.out(dump_json(data) if self.json else text)

    def close(self) -> None:
        if self._project is not None:
            self._project.close()
            self._project = None


# Each module has register(command, sub, common); a capability adds its commands module here.
_COMMAND_MODULES = ("commands_project", "commands_steps", "commands_runs", "commands_bundles",
                    "commands_scenarios", "commands_endpoints", "commands_metrics", "commands_audit",
                    "commands_drift")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    common = argparse.ArgumentParser(add_help=False)
    shared.add_project_options(common, suppress=True)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print machine-readable JSON instead of text")

    parser = shared.Parser(prog="mlprod", description="jupyter_mlprod from the command line, "
                           "no Jupyter needed: a project's notebook pipeline and its runs, "
                           "scenarios and their scheduler, bundles deployed to production "
                           "nodes, and endpoints serving a notebook's scoring cell.")
    shared.add_project_options(parser)
    parser.add_argument("--json", action="store_true", default=False,
                        help="print machine-readable JSON instead of text")
    parser.add_argument("--version", action="version", version=f"mlprod {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=shared.Parser)
    sub.required = True

    def command(name: str, func, help_text: str, parent=sub):
        p = parent.add_parser(name, help=help_text, description=help_text, parents=[common])
        p.set_defaults(func=func)
        return p

    for name in _COMMAND_MODULES:
        importlib.import_module(f"{__package__}.{name}").register(command, sub, common)
    return parser


def main(argv: list[str] | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    try:
        ns = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    ctx = Context(ns, stdout, stderr)
    try:
        with acting_as(os_user()):  # the CLI acts as the OS user (MLPROD_USER overrides)
            return ns.func(ctx)
    except MlprodError as exc:
        ctx.err(error_line(exc))
        return exit_code(exc)
    except KeyboardInterrupt:
        ctx.err("mlprod: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `mlprod runs | head`
        _silence_stdout()
        return 0
    except Exception as exc:  # a bug: say so in one line; the traceback only on request
        if os.environ.get("MLPROD_DEBUG"):
            import traceback

            traceback.print_exc(file=stderr)
        ctx.err(f"mlprod: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
                "(set MLPROD_DEBUG=1 to see the traceback)")
        return EXIT_INTERNAL
    finally:
        try:
            ctx.close()
        except KeyboardInterrupt:
            pass


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
