"""Argument builders shared by the `mlprod` command and the `%mlprod` magic.

Both doors parse the same options with the same code: the run selection (`--steps`, `--from`,
`-p`, `--force`), the runs listing (`--limit`) and the project options. Nothing here imports
the core beyond the error tree, so `mlprod --help` stays fast.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import InvalidInput

CONFIG_FILE = "mlprod.toml"  # same name as settings.CONFIG_FILE; not imported to keep startup light


class ParserExit(Exception):
    """Raised instead of sys.exit by a non-exiting parser (the magic must not kill the kernel)."""

    def __init__(self, status: int, message: str | None):
        super().__init__(message or "")
        self.status = status
        self.message = (message or "").strip()


class Parser(argparse.ArgumentParser):
    """argparse with a switch: the CLI exits as argparse does (status 2 + usage); the magic gets
    a ParserExit it can turn into one readable line."""

    def __init__(self, *args, exits: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.exits = exits

    def exit(self, status: int = 0, message: str | None = None):
        if self.exits:
            super().exit(status, message)
        raise ParserExit(status, message)

    def error(self, message: str):
        if self.exits:
            super().error(message)
        raise ParserExit(2, f"{self.prog}: error: {message}")


def add_project_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """--project, --store, --executor. With `suppress`, a subcommand repeating an option does not
    reset a value given before the subcommand name."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--project", metavar="DIR", default=default,
                        help="project folder (default: $MLPROD_PROJECT, else the nearest folder "
                             f"holding {CONFIG_FILE}, from the current one up)")
    parser.add_argument("--store", metavar="URL", default=default,
                        help="store URL (SQLAlchemy), overriding mlprod.toml and $MLPROD_STORE_URL")
    parser.add_argument("--executor", metavar="NAME", default=default,
                        help="executor backend (local, dask), overriding mlprod.toml")


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    """What to run: --steps a,b | --from s, -p name=value (repeatable), --force."""
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--steps", metavar="A,B", type=_step_list,
                       help="run only these steps (comma-separated)")
    which.add_argument("--from", dest="from_step", metavar="STEP",
                       help="run this step and everything downstream of it")
    parser.add_argument("-p", "--param", dest="params", action="append", default=[],
                        metavar="NAME=VALUE",
                        help="set a parameter: name=value for every step that has it, "
                             "step.name=value for one step (repeatable); values are coerced to "
                             "the type of the default in the notebook's parameters cell")
    parser.add_argument("--force", action="store_true",
                        help="rerun steps even when they are up to date")


def add_limit_option(parser: argparse.ArgumentParser, default: int = 20) -> None:
    parser.add_argument("--limit", type=int, default=default, metavar="N",
                        help=f"how many runs to list, newest first (default {default})")


def run_request(ns: argparse.Namespace) -> dict:
    """The keyword arguments of Project.start_run from parsed selection options."""
    return {"steps": ns.steps, "from_step": ns.from_step, "parameters": parse_params(ns.params),
            "force": bool(ns.force), "from_text": True}


def parse_params(items: list[str] | None) -> dict:
    params: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InvalidInput(f"parameter {item!r} must be written name=value "
                               "(or step.name=value)",
                               field="parameters")
        params[name] = value
    return params


def _step_list(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one step name, e.g. --steps prepare,train")
    return list(dict.fromkeys(names))


# -- the project a door works on --------------------------------------------------------------
NO_PROJECT = f"no {CONFIG_FILE} here or above; run `mlprod init` or pass --project"


def find_project_root(start: str | os.PathLike) -> Path | None:
    """The nearest folder from `start` upwards holding mlprod.toml, else None."""
    start_path = Path(start).expanduser().resolve()
    for folder in (start_path, *start_path.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    return None


def project_root(ns: argparse.Namespace, cwd: str | os.PathLike | None = None, *,
                 required: bool = True) -> Path:
    """--project, else $MLPROD_PROJECT, else the nearest folder holding mlprod.toml. A project
    is a folder with mlprod.toml: without one this refuses (InvalidInput) rather than treat
    any folder as a project and write .mlprod/ into it. `required=False` (the production node,
    whose folder receives bundles) falls back to the given or current folder."""
    explicit = getattr(ns, "project", None) or os.environ.get("MLPROD_PROJECT")
    if explicit:
        root = Path(explicit).expanduser().resolve()
        if required and root.is_dir() and not (root / CONFIG_FILE).is_file():
            raise InvalidInput(f"no {CONFIG_FILE} in {root}; run `mlprod init {explicit}` or "
                               "pass the --project folder that holds it", field="project")
        return root  # a missing folder: Settings.load says it does not exist
    start = Path(cwd or os.getcwd())
    found = find_project_root(start)
    if found is None:
        if required:
            raise InvalidInput(NO_PROJECT, field="project")
        return start.expanduser().resolve()
    return found


def overrides(ns: argparse.Namespace) -> dict:
    return {"store_url": getattr(ns, "store", None), "executor": getattr(ns, "executor", None)}


def open_project(ns: argparse.Namespace, cwd: str | os.PathLike | None = None):
    from ..project import Project

    return Project(project_root(ns, cwd), **overrides(ns))
