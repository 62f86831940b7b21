"""The prediction log as columns, for drift: one folder per endpoint version under
`.mlprod/predlog/<endpoint>/<version>/`, one `.npz` segment per writer flush holding the
prediction ids, times, each request field and each scalar field of the answer as numpy arrays.

Writing happens on the serving worker's background log thread (never the request path);
reading a window loads the newest segments and concatenates arrays, so a drift computation
over a million rows never touches a row in Python. Retention by age and row count deletes
whole segments (the oldest first)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from .drift_profile import as_column

FEATURE = "f:"
OUTPUT = "p:"
SCALAR = ""    # the answer's own name when it is a bare number or string


class ColumnLog:
    def __init__(self, root: Path):
        self.root = Path(root)
        self._seq = 0

    def folder(self, endpoint: str, version: str) -> Path:
        return self.root / endpoint / version

    # -- writing (serving worker's log thread) ---------------------------------------------
    def write(self, endpoint: str, version: str, ids: list[str], at: list[float],
              inputs: list, outputs: list, columns: list[str] | None = None) -> Path | None:
        """One segment from parallel lists: prediction id, epoch seconds, parsed request
        (a dict), parsed answer. `columns` limits the request fields kept."""
        if not ids:
            return None
        arrays = {"__id": np.array(ids, dtype=str), "__at": np.array(at, dtype=np.float64)}
        for prefix, records, keep in ((FEATURE, inputs, columns), (OUTPUT, outputs, None)):
            names: dict[str, None] = {}
            rows = [r if isinstance(r, dict) else {SCALAR: r} for r in records]
            for r in rows:
                names.update(dict.fromkeys(r))
            for name in names:
                if keep is not None and name not in keep:
                    continue
                values = [r.get(name) for r in rows]
                column = _column(values)
                if column is not None:
                    arrays[prefix + name] = column
        return self.write_arrays(endpoint, version, arrays)

    def write_arrays(self, endpoint: str, version: str, arrays: dict[str, np.ndarray]) -> Path:
        """One segment from ready columns ("__id", "__at", "f:<field>", "p:<field>")."""
        at = arrays["__at"]
        folder = self.folder(endpoint, version)
        folder.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        name = f"{int(at.max() * 1000):014d}-{at.size}-{os.getpid()}-{self._seq}"
        tmp = folder / f".{name}.tmp.npz"
        np.savez(tmp, **arrays)
        final = folder / f"{name}.npz"
        os.replace(tmp, final)   # readers never see half a segment
        return final

    def prune(self, endpoint: str, version: str, max_age_hours: float, max_rows: int,
              now: float | None = None) -> int:
        """Delete segments older than max_age_hours, then the oldest ones that would take the
        log beyond max_rows (whole segments)."""
        now = time.time() if now is None else now
        cutoff = now - max_age_hours * 3600
        removed = 0
        kept = 0
        for path, last, rows in reversed(self._segments(endpoint, version)):
            if last < cutoff or (kept and kept + rows > max_rows):   # the newest always stays
                path.unlink(missing_ok=True)
                removed += 1
            else:
                kept += rows
        return removed

    # -- reading ----------------------------------------------------------------------------
    def _segments(self, endpoint: str, version: str) -> list[tuple[Path, float, int]]:
        """(path, time of its last row, rows), oldest first."""
        folder = self.folder(endpoint, version)
        if not folder.is_dir():
            return []
        out = []
        for path in folder.glob("*.npz"):
            if path.name.startswith("."):
                continue
            parts = path.stem.split("-")
            try:
                out.append((path, int(parts[0]) / 1000.0, int(parts[1])))
            except (ValueError, IndexError):
                continue
        out.sort(key=lambda s: (s[1], s[0].name))
        return out

    def window(self, endpoint: str, version: str, *, last: int | None = None,
               hours: float | None = None, now: float | None = None) -> dict[str, np.ndarray]:
        """The last `last` logged rows, or those of the last `hours`, as name -> array
        ("__id", "__at", "f:<field>", "p:<field>"), oldest first."""
        segments = self._segments(endpoint, version)
        chosen = []
        if hours is not None:
            cutoff = (time.time() if now is None else now) - hours * 3600
            chosen = [s for s in segments if s[1] >= cutoff]
        else:
            total = 0
            for seg in reversed(segments):
                if total >= (last or 0):
                    break
                chosen.append(seg)
                total += seg[2]
            chosen.reverse()
        table = concat(_load([path for path, _, _ in chosen]))
        if not table:
            return {}
        at = table["__at"]
        if at.size > 1 and np.any(at[1:] < at[:-1]):   # workers' segments interleave in time
            order = np.argsort(at, kind="stable")
            table = {k: v[order] for k, v in table.items()}
        if hours is not None:
            keep = table["__at"] >= cutoff
            return {k: v[keep] for k, v in table.items()}
        return {k: v[-last:] for k, v in table.items()} if last else table

    def first(self, endpoint: str, version: str, rows: int) -> dict[str, np.ndarray]:
        """The first `rows` logged rows (a reference made from requests)."""
        chosen, total = [], 0
        for seg in self._segments(endpoint, version):
            if total >= rows:
                break
            chosen.append(seg)
            total += seg[2]
        table = concat(_load([path for path, _, _ in chosen]))
        if not table:
            return {}
        order = np.argsort(table["__at"], kind="stable")[:rows]
        return {k: v[order] for k, v in table.items()}

    def find(self, endpoint: str, prediction_id: str, recent_files: int = 200
             ) -> tuple[str, float] | None:
        """(version, time) of a logged prediction id, searching the newest segments."""
        base = self.root / endpoint
        if not base.is_dir():
            return None
        files = sorted(base.glob("*/*.npz"), key=lambda p: p.name, reverse=True)[:recent_files]
        for path in files:
            try:
                with np.load(path, allow_pickle=False) as data:
                    hits = np.nonzero(data["__id"] == prediction_id)[0]
                    if hits.size:
                        return path.parent.name, float(data["__at"][hits[0]])
            except (OSError, ValueError, KeyError):
                continue
        return None


def _column(values: list) -> np.ndarray | None:
    """A field's values as a column; None for nested values (objects, lists), not kept."""
    first = next((v for v in values if v is not None), None)
    if isinstance(first, float) or (isinstance(first, int) and not isinstance(first, bool)):
        try:   # the common case, all numbers: one C loop
            return np.array(values, dtype=np.float64)
        except (TypeError, ValueError):
            pass
    if all(v is None or isinstance(v, (int, float, str, bool)) for v in values):
        return as_column(values)
    return None


def _load(paths: list[Path]) -> list[dict[str, np.ndarray]]:
    parts = []
    for path in paths:
        try:
            with np.load(path, allow_pickle=False) as data:
                parts.append({k: data[k] for k in data.files})
        except (OSError, ValueError):   # deleted by retention meanwhile
            continue
    return parts


def concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate segments; a field missing from a segment is missing (NaN / "") there; a
    field numeric in one segment and text in another becomes text."""
    if not parts:
        return {}
    names = list(dict.fromkeys(k for p in parts for k in p))
    out = {}
    for name in names:
        pieces = []
        text = any(p[name].dtype.kind == "U" for p in parts if name in p)
        for p in parts:
            n = p["__at"].size
            if name in p:
                arr = p[name]
                if text and arr.dtype.kind != "U":
                    arr = np.where(np.isnan(arr), "", arr.astype(str))
                pieces.append(arr)
            else:
                pieces.append(np.full(n, "", dtype=str) if text else np.full(n, np.nan))
        out[name] = np.concatenate(pieces)
    return out
