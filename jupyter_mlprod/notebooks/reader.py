"""Reading notebooks cheaply and writing them without ever leaving a half-written file."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ..errors import InvalidInput, NotFound


def read_notebook(path: Path, display: str | None = None) -> dict:
    """Parse an .ipynb as plain JSON (no schema validation: it costs ~10 ms per notebook and
    we only need metadata and code cells). Malformed files raise InvalidInput naming the file."""
    display = display or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"notebook {display} does not exist", field="path") from None
    except OSError as exc:  # a folder, a name too long, no permission: the caller's path
        raise InvalidInput(f"notebook {display} cannot be read: {exc.strerror or exc}",
                           field="path") from None
    try:
        nb = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"notebook {display} is not valid JSON ({exc})", field="path",
                           code="malformed_notebook") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) \
            or not isinstance(nb.get("metadata", {}), dict):
        raise InvalidInput(f"notebook {display} is not a Jupyter notebook (no 'cells' list)",
                           field="path", code="malformed_notebook")
    if nb.get("nbformat", 4) != 4:
        raise InvalidInput(f"notebook {display} uses nbformat {nb.get('nbformat')}; "
                           "only version 4 is supported", field="path", code="malformed_notebook")
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or "cell_type" not in cell:
            raise InvalidInput(f"notebook {display}: cell {i} has no cell_type", field="path",
                               code="malformed_notebook")
    return nb


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def cell_tags(cell: dict) -> list[str]:
    tags = (cell.get("metadata") or {}).get("tags") or []
    return [t for t in tags if isinstance(t, str)]


def write_notebook_atomic(path: Path, nb: dict) -> None:
    """Write to a temp file in the same folder, then rename: readers see old or new, never half."""
    text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600; the rewritten notebook keeps the mode the user's file had (or,
        # for a new file, the mode the umask gives).
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
