"""Paths stay inside the project, symlinks too: one rule for notebooks, step inputs and
outputs, file triggers, bundles and every `?path=` a door receives. A path is checked where it
RESOLVES (after following symlinks), so a link to /etc or to a folder next door is refused."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import InvalidInput


def is_inside(root: Path, path: Path | str) -> bool:
    """Whether `path` (absolute, or relative to `root`) resolves inside `root`."""
    root = Path(root).resolve()
    try:
        resolved = (root / path).resolve()
    except (OSError, RuntimeError):  # a symlink loop is not inside anything
        return False
    return resolved == root or root in resolved.parents


def resolve_inside(root: Path, rel: str | os.PathLike, field: str) -> Path:
    """The resolved absolute path of `rel` under `root`; InvalidInput naming `field` when it
    leaves the project (by `..`, an absolute path or a symlink)."""
    root = Path(root).resolve()
    if not is_inside(root, rel):
        raise outside(rel, field)
    return (root / rel).resolve()


def outside(rel, field: str) -> InvalidInput:
    return InvalidInput(f"{field}: {str(rel)!r} resolves outside the project (a symlink or "
                        "a path leaving the project folder); only files inside it can be used",
                        field=field, code="path_outside_project")
