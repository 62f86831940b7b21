"""The values a person compares between two bundles, beyond sizes and hashes: the default of
every notebook parameter (the papermill `parameters` cell) and the values inside JSON files
(metrics, reports), side by side."""
from __future__ import annotations

import json
from typing import Callable

from ..notebooks.parameters import infer_parameters

_MAX_JSON_BYTES = 256 * 1024  # larger JSON files are data, compared by size only
_MAX_KEYS = 200  # per file: a diff is read by a person


def parameter_changes(notebooks: list[tuple[str, dict | None, dict | None]]) -> list[dict]:
    """[{notebook, name, change, before, after}] for parameters added, removed, or whose
    default changed, over (path, notebook before, notebook after) triples."""
    out = []
    for path, before, after in notebooks:
        pb = {p.name: p.default for p in infer_parameters(before or {})}
        pa = {p.name: p.default for p in infer_parameters(after or {})}
        for name in sorted(set(pb) | set(pa)):
            if name in pb and name in pa and _same(pb[name], pa[name]):
                continue
            change = "added" if name not in pb else "removed" if name not in pa else "changed"
            out.append({"notebook": path, "name": name, "change": change,
                        "before": pb.get(name), "after": pa.get(name)})
    return out


def parameter_summary(changes: list[dict]) -> str:
    """"; 1 parameter change" / "; 3 parameter changes" for the diff's one-line summary."""
    n = len(changes)
    return f"; {n} parameter change{'' if n == 1 else 's'}" if n else ""


def json_file_changes(entries: list[tuple[str, dict | None, dict | None]],
                      read_blob: Callable[[str], bytes]) -> list[dict]:
    """[{path, change, values: [{key, change, before, after}], truncated}] for each JSON file
    (not a notebook) added, removed or changed, its values flattened to dotted keys."""
    out = []
    for path, before, after in entries:
        if not path.lower().endswith(".json"):
            continue
        vb, va = _flat_json(read_blob, before), _flat_json(read_blob, after)
        if vb is None and va is None:
            continue  # too large or not JSON on both sides
        vb, va = vb or {}, va or {}
        values = []
        for key in sorted(set(vb) | set(va)):
            if key in vb and key in va and _same(vb[key], va[key]):
                continue
            change = "added" if key not in vb else "removed" if key not in va else "changed"
            values.append({"key": key, "change": change, "before": vb.get(key),
                           "after": va.get(key)})
        change = "added" if before is None else "removed" if after is None else "changed"
        out.append({"path": path, "change": change, "values": values[:_MAX_KEYS],
                    "truncated": len(values) > _MAX_KEYS})
    return out


def _same(a, b) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _flat_json(read_blob, entry: dict | None) -> dict | None:
    if entry is None or entry["size"] > _MAX_JSON_BYTES:
        return None
    try:
        value = json.loads(read_blob(entry["sha256"]))
    except (ValueError, UnicodeDecodeError):
        return None
    flat: dict = {}
    _flatten(value, "", flat)
    return flat


def _flatten(value, prefix: str, into: dict) -> None:
    """Objects become dotted keys; lists and scalars are values (a list compares whole)."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), into)
    else:
        into[prefix or "(value)"] = value
