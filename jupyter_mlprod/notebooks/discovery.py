"""Finds the project's notebooks and their step specs, re-reading only files that changed."""
from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

from ..errors import InvalidInput
from ..paths import is_inside
from .parameters import ParameterSpec, infer_parameters
from .reader import read_notebook
from .steps import StepSpec, parse_step

_SKIP_DIRS = {".mlprod", ".ipynb_checkpoints", "node_modules", "__pycache__", ".git", ".venv"}


@dataclasses.dataclass(frozen=True)
class NotebookInfo:
    path: str
    step: StepSpec | None
    parameters: tuple[ParameterSpec, ...]
    code_digest_source: str  # code cells joined: what the fingerprint covers
    kernel_name: str | None
    problem: InvalidInput | None = None


class NotebookIndex:
    """A cache of parsed notebooks keyed by (mtime_ns, size): a no-op rerun of a 50-step
    pipeline reads no notebook twice."""

    def __init__(self, root: Path):
        self.root = root
        self._cache: dict[str, tuple[tuple[int, int], NotebookInfo]] = {}
        self._lock = threading.Lock()

    def scan(self) -> list[NotebookInfo]:
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
            for filename in sorted(filenames):
                if filename.endswith(".ipynb") and not filename.startswith(".") and \
                        is_inside(self.root, Path(dirpath) / filename):  # no symlink out
                    found.append(self.info(Path(dirpath) / filename))
        with self._lock:
            live = {info.path for info in found}
            for stale in set(self._cache) - live:
                del self._cache[stale]
        return found

    def info(self, absolute: Path) -> NotebookInfo:
        rel = absolute.relative_to(self.root).as_posix()
        stat = absolute.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._cache.get(rel)
            if cached and cached[0] == key:
                return cached[1]
        info = _parse(absolute, rel)
        with self._lock:
            self._cache[rel] = (key, info)
        return info

    def forget(self, rel: str) -> None:
        with self._lock:
            self._cache.pop(rel, None)


def _parse(absolute: Path, rel: str) -> NotebookInfo:
    try:
        nb = read_notebook(absolute, rel)
        raw = nb.get("metadata", {}).get("mlprod")
        step = parse_step(raw, rel) if raw is not None else None
    except InvalidInput as problem:
        return NotebookInfo(rel, None, (), "", None, problem)
    code = "\n\x1e\n".join(
        "".join(c.get("source", "")) if isinstance(c.get("source"), list) else str(c.get("source", ""))
        for c in nb["cells"] if c.get("cell_type") == "code")
    kernel = (nb.get("metadata", {}).get("kernelspec") or {}).get("name")
    return NotebookInfo(rel, step, tuple(infer_parameters(nb)), code, kernel)
