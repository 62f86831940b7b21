"""Diff two bundles: files added/removed/changed, notebook cell-level changes, packages
added/removed/upgraded/downgraded, data and model changes with sizes, pipeline, scenarios and
endpoints."""
from __future__ import annotations

import difflib
import json
from typing import Callable
from ..words import counted

from .diff_values import json_file_changes, parameter_changes, parameter_summary

_MAX_DIFF_LINES = 200


def diff_manifests(a: dict, b: dict, read_blob: Callable[[str], bytes]) -> dict:
    fa = {f["path"]: f for f in a["files"]}
    fb = {f["path"]: f for f in b["files"]}
    added = [_file(fb[p]) for p in sorted(set(fb) - set(fa))]
    removed = [_file(fa[p]) for p in sorted(set(fa) - set(fb))]
    changed = [{"path": p, "kind": fb[p]["kind"], "size_before": fa[p]["size"],
                "size_after": fb[p]["size"], "sha256_before": fa[p]["sha256"],
                "sha256_after": fb[p]["sha256"]}
               for p in sorted(set(fa) & set(fb)) if fa[p]["sha256"] != fb[p]["sha256"]]
    notebooks, loaded = [], []
    for entry in added + removed + changed:
        if entry["path"].endswith(".ipynb"):
            before = fa.get(entry["path"]) if entry["path"] in fa else None
            after = fb.get(entry["path"]) if entry["path"] in fb else None
            pair = _load(read_blob, before), _load(read_blob, after)
            notebooks.append(notebook_diff(entry["path"], *pair))
            loaded.append((entry["path"], *pair))
    data = []
    for change, items in (("added", added), ("removed", removed), ("changed", changed)):
        for f in items:
            if f["kind"] in ("data", "model"):
                before = f.get("size_before", 0 if change == "added" else f.get("size", 0))
                after = f.get("size_after", 0 if change == "removed" else f.get("size", 0))
                data.append({"path": f["path"], "kind": f["kind"], "change": change,
                             "size_before": before if change != "added" else None,
                             "size_after": after if change != "removed" else None,
                             "delta": after - before})
    data.sort(key=lambda d: d["path"])
    packages = package_diff(a["environment"].get("packages", {}),
                            b["environment"].get("packages", {}))
    py_a, py_b = a["environment"].get("python"), b["environment"].get("python")
    result = {
        "files": {"added": added, "removed": removed, "changed": changed,
                  "unchanged_count": len(set(fa) & set(fb)) - len(changed)},
        "notebooks": notebooks, "data": data, "packages": packages,
        "parameters": parameter_changes(loaded),
        "json_files": json_file_changes(
            [(e["path"], fa.get(e["path"]), fb.get(e["path"])) for e in added + removed + changed],
            read_blob),
        "python": None if py_a == py_b else {"before": py_a, "after": py_b},
        "pipeline": _named_diff(a["pipeline"].get("steps", []), b["pipeline"].get("steps", []),
                                "name"),
        "scenarios": _named_diff(a["scenarios"], b["scenarios"], "name"),
        "endpoints": _named_diff(a["endpoints"], b["endpoints"], "name"),
    }
    result["summary"] = _summary(result) + parameter_summary(result["parameters"])
    return result


def _file(f: dict) -> dict:
    return {"path": f["path"], "kind": f["kind"], "size": f["size"], "sha256": f["sha256"]}


def _load(read_blob, entry: dict | None) -> dict | None:
    if entry is None:
        return None
    try:
        nb = json.loads(read_blob(entry["sha256"]))
        return nb if isinstance(nb, dict) and isinstance(nb.get("cells"), list) else {"cells": []}
    except (ValueError, UnicodeDecodeError):
        return {"cells": []}


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def notebook_diff(path: str, before: dict | None, after: dict | None) -> dict:
    """Cell-level changes. Cells are matched by their nbformat id when both sides have ids,
    else by aligning their sources."""
    status = "added" if before is None else "removed" if after is None else "changed"
    cb = [c for c in (before or {}).get("cells", []) if isinstance(c, dict)]
    ca = [c for c in (after or {}).get("cells", []) if isinstance(c, dict)]
    cells: list[dict] = []
    ids_b, ids_a = [c.get("id") for c in cb], [c.get("id") for c in ca]
    if cb and ca and all(ids_b) and all(ids_a) and set(ids_b) & set(ids_a):
        where_b = {cid: i for i, cid in enumerate(ids_b)}
        where_a = {cid: i for i, cid in enumerate(ids_a)}
        for i, cid in enumerate(ids_b):
            if cid not in where_a:
                cells.append(_cell("removed", cb[i], i, None))
        for j, cid in enumerate(ids_a):
            if cid not in where_b:
                cells.append(_cell("added", ca[j], None, j))
            elif _cell_key(cb[where_b[cid]]) != _cell_key(ca[j]):
                cells.append(_cell("changed", ca[j], where_b[cid], j, cb[where_b[cid]]))
    else:
        matcher = difflib.SequenceMatcher(a=[_cell_key(c) for c in cb],
                                          b=[_cell_key(c) for c in ca], autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                continue
            pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
            for k in range(pairs):
                cells.append(_cell("changed", ca[j1 + k], i1 + k, j1 + k, cb[i1 + k]))
            for i in range(i1 + pairs, i2):
                cells.append(_cell("removed", cb[i], i, None))
            for j in range(j1 + pairs, j2):
                cells.append(_cell("added", ca[j], None, j))
    cells.sort(key=lambda c: (c["index_after"] if c["index_after"] is not None
                              else c["index_before"], c["change"]))
    meta_b = (before or {}).get("metadata", {}).get("mlprod")
    meta_a = (after or {}).get("metadata", {}).get("mlprod")
    return {"path": path, "status": status, "cells": cells,
            "step_changed": status == "changed" and meta_b != meta_a,
            "counts": {k: sum(c["change"] == k for c in cells) for k in ("added", "removed", "changed")}}


def _cell_key(cell: dict) -> tuple:
    return cell.get("cell_type"), _source(cell), tuple((cell.get("metadata") or {}).get("tags") or ())


def _cell(change: str, cell: dict, i: int | None, j: int | None, old: dict | None = None) -> dict:
    entry = {"change": change, "index_before": i, "index_after": j,
             "cell_type": cell.get("cell_type"), "source": _source(cell)}
    if old is not None:
        lines = list(difflib.unified_diff(_source(old).splitlines(), _source(cell).splitlines(),
                                          "before", "after", lineterm="", n=2))
        entry["diff"] = lines[:_MAX_DIFF_LINES]
        entry["source_before"] = _source(old)
    return entry


def _version_key(version: str):
    try:
        from packaging.version import Version

        return (0, Version(version))
    except Exception:
        parts = []
        for piece in version.replace("-", ".").split("."):
            parts.append((0, int(piece), "") if piece.isdigit() else (1, 0, piece))
        return (1, tuple(parts))


def package_diff(before: dict, after: dict) -> dict:
    added = [{"name": n, "version": after[n]} for n in sorted(set(after) - set(before))]
    removed = [{"name": n, "version": before[n]} for n in sorted(set(before) - set(after))]
    upgraded, downgraded = [], []
    for name in sorted(set(before) & set(after)):
        if before[name] == after[name]:
            continue
        entry = {"name": name, "from": before[name], "to": after[name]}
        try:
            up = _version_key(after[name]) > _version_key(before[name])
        except TypeError:
            up = True
        (upgraded if up else downgraded).append(entry)
    return {"added": added, "removed": removed, "upgraded": upgraded, "downgraded": downgraded}


def _named_diff(before: list, after: list, key: str) -> dict:
    def index(items):
        out = {}
        for i, item in enumerate(items):
            name = item.get(key) if isinstance(item, dict) else None
            out[str(name if name is not None else i)] = item
        return out

    ib, ia = index(before), index(after)
    return {"added": sorted(set(ia) - set(ib)), "removed": sorted(set(ib) - set(ia)),
            "changed": sorted(n for n in set(ia) & set(ib)
                              if json.dumps(ia[n], sort_keys=True, default=str) !=
                              json.dumps(ib[n], sort_keys=True, default=str))}


def _summary(d: dict) -> str:
    f, p = d["files"], d["packages"]
    parts = [f"{counted(len(f['added']), 'file')} added, {len(f['removed'])} removed, "
             f"{len(f['changed'])} changed"]
    cells = sum(len(nb["cells"]) for nb in d["notebooks"])
    if cells:
        parts.append(counted(cells, "notebook cell change"))
    moved = sum(abs(x["delta"]) for x in d["data"])
    if d["data"]:
        parts.append(f"{counted(len(d['data']), 'data/model change')} ({moved:,} bytes)")
    pk = [f"{len(p[k])} {k}" for k in ("added", "removed", "upgraded", "downgraded") if p[k]]
    if pk:
        parts.append("packages: " + ", ".join(pk))
    if d["python"]:
        parts.append(f"Python {d['python']['before']} -> {d['python']['after']}")
    return "; ".join(parts)
