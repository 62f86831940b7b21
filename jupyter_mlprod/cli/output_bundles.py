"""What the doors show of bundles, deployments, nodes and audit events: rows and lines built
from the views `project.bundles` returns. Shared by the CLI (text) and the magic (HTML + text),
so a column means the same thing in both. They format; they decide nothing."""
from __future__ import annotations

from .output import fmt_time, one_line, text_table
from ..words import counted


def fmt_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(abs(size))
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            text = f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
            return ("-" if size < 0 else "") + text
        value /= 1000
    return str(size)  # unreachable


def fmt_delta(delta: int) -> str:
    return ("+" if delta > 0 else "") + fmt_size(delta)


# -- bundles ----------------------------------------------------------------------------------
BUNDLE_HEADERS = ["bundle", "created", "author", "files", "size", "origin", "message"]


def bundle_rows(bundles: list[dict]) -> list[list[str]]:
    return [[b["short_id"], fmt_time(b["created_at"]), b.get("author") or "",
             str(b["file_count"]), fmt_size(b["total_size"]), b.get("origin", ""),
             one_line(b.get("message") or "", 60)] for b in bundles]


def bundle_lines(view: dict, *, files: bool = False, packages: bool = False) -> list[str]:
    """`mlprod bundle show`: what the bundle is and what it holds."""
    kinds = ", ".join(f"{k} {v['count']} ({fmt_size(v['size'])})"
                      for k, v in sorted(view["by_kind"].items()))
    git = view.get("git")
    env = view.get("environment") or {}
    lines = [f"bundle      {view['id']}",
             f"project     {view['project']}",
             f"created     {fmt_time(view['created_at'])} by {view.get('author') or '?'}",
             f"message     {one_line(view.get('message') or '') or '-'}",
             f"files       {view['file_count']}, {fmt_size(view['total_size'])}"
             + (f": {kinds}" if kinds else ""),
             f"steps       {', '.join(s or '?' for s in view['steps']) or '-'}",
             f"scenarios   {view['scenario_count']}    endpoints  {view['endpoint_count']}",
             f"python      {view.get('python') or '?'}"
             + (f" on {env.get('platform')} {env.get('machine')}, "
                + counted(env.get('package_count') or 0, "package") if env else "")]
    if git:
        lines.append(f"git         {git['commit'][:12]} ({git.get('branch') or 'detached'})"
                     + (" with uncommitted changes" if git.get("dirty") else ""))
    if view.get("parent"):
        lines.append(f"parent      {view['parent'][:12]}")
    if view.get("origin"):
        lines.append(f"origin      {view['origin']}")
    for note in view.get("notes") or []:
        lines.append(f"note        {note}")
    if files and view.get("files"):
        lines += ["", "files:"]
        width = max(len(f["path"]) for f in view["files"])
        lines += [f"  {f['path'].ljust(width)}  {f['kind']:<8}  {fmt_size(f['size']):>9}  "
                  f"{f['sha256'][:12]}" for f in view["files"]]
    if packages and env.get("packages"):
        lines += ["", "packages:"] + [f"  {n}=={v}" for n, v in env["packages"].items()]
    return lines


def created_line(view: dict) -> str:
    return (f"created bundle {view['short_id']}: {counted(view['file_count'], 'file')}, "
            f"{fmt_size(view['total_size'])}, {fmt_size(view.get('new_bytes', 0))} new")


PREVIEW_HEADERS = ["path", "kind", "size", "status"]


def preview_rows(view: dict) -> list[list[str]]:
    return [[f["path"], f["kind"], fmt_size(f["size"]), f["status"]] for f in view["files"]]


def preview_lines(view: dict) -> list[str]:
    env = view["environment"]
    return ([f"a bundle of {view['project']} would hold {counted(view['file_count'], 'file')}, "
             f"{fmt_size(view['total_size'])} (at most {fmt_size(view['new_bytes_at_most'])} "
             "new):", text_table(PREVIEW_HEADERS, preview_rows(view))] +
            [f"steps: {', '.join(view['steps']) or '-'}; scenarios: {view['scenario_count']}; "
             f"endpoints: {view['endpoint_count']}; Python {env['python']} on {env['platform']}, "
             + counted(env['package_count'], "package")] + [f"note: {n}" for n in view["notes"]])


# -- diff -------------------------------------------------------------------------------------
def diff_lines(diff: dict) -> list[str]:
    a, b = diff["a"], diff["b"]
    lines = [f"bundle {a['short_id']} -> {b['short_id']}: {diff['summary']}"]
    files = diff["files"]
    for f in files["added"]:
        lines.append(f"  + {f['path']} ({f['kind']}, {fmt_size(f['size'])})")
    for f in files["removed"]:
        lines.append(f"  - {f['path']} ({f['kind']}, {fmt_size(f['size'])})")
    for f in files["changed"]:
        lines.append(f"  ~ {f['path']} ({f['kind']}, {fmt_size(f['size_before'])} -> "
                     f"{fmt_size(f['size_after'])})")
    for nb in diff["notebooks"]:
        counts = nb["counts"]
        lines.append(f"notebook {nb['path']} ({nb['status']}): cells {counts['changed']} changed, "
                     f"{counts['added']} added, {counts['removed']} removed"
                     + ("; its step definition changed" if nb["step_changed"] else ""))
        for cell in nb["cells"]:
            where = cell["index_after"] if cell["index_after"] is not None else \
                cell["index_before"]
            lines.append(f"  cell {where} {cell['change']}: {one_line(cell['source'], 70)}")
            for line in (cell.get("diff") or [])[2:]:
                lines.append(f"      {line}")
    for d in diff["data"]:
        lines.append(f"data {d['path']} {d['change']}: {fmt_size(d['size_before'])} -> "
                     f"{fmt_size(d['size_after'])} ({fmt_delta(d['delta'])})")
    packages = diff["packages"]
    for p in packages["added"]:
        lines.append(f"package + {p['name']}=={p['version']}")
    for p in packages["removed"]:
        lines.append(f"package - {p['name']}=={p['version']}")
    for p in packages["upgraded"] + packages["downgraded"]:
        lines.append(f"package ~ {p['name']} {p['from']} -> {p['to']}")
    if diff["python"]:
        lines.append(f"python {diff['python']['before']} -> {diff['python']['after']}")
    for key in ("pipeline", "scenarios", "endpoints"):
        change = diff[key]
        parts = [f"{what} {', '.join(change[what])}" for what in ("added", "removed", "changed")
                 if change[what]]
        if parts:
            lines.append(f"{key}: " + "; ".join(parts))
    return lines


def verify_lines(result: dict) -> list[str]:
    head = (f"bundle {result['bundle_id'][:12]} "
            f"{'verified' if result['ok'] else 'is DAMAGED'}: {counted(result['files_checked'], 'file')}, "
            f"{fmt_size(result['bytes_checked'])} re-hashed")
    lines = [head]
    if not result["manifest_ok"]:
        lines.append("  the manifest no longer hashes to the bundle id")
    lines += [f"  {b['path']}: {b['problem']} (sha256 {b['sha256'][:12]})" for b in result["bad"]]
    return lines


# -- deployments, nodes, audit ----------------------------------------------------------------
DEPLOYMENT_HEADERS = ["id", "bundle", "action", "status", "when", "actor", "env", "message"]


def deployment_rows(deployments: list[dict]) -> list[list[str]]:
    rows = []
    for d in deployments:
        env = d.get("environment") or {}
        rows.append([str(d["id"]), d["short_id"], d["action"], d["status"],
                     fmt_time(d["created_at"]), d.get("actor") or "",
                     "" if not env else ("ok" if env.get("ok") else "mismatch"),
                     one_line(d.get("message") or (d.get("bundle") or {}).get("message") or "",
                              50)])
    return rows


def deployment_line(d: dict, verb: str = "active") -> str:
    return (f"bundle {d['short_id']} is {verb} on {d['node']} (deployment {d['id']}, "
            f"{d['action']})")


def deploy_lines(result: dict) -> list[str]:
    d, target = result["deployment"], result["target"]
    lines = [f"deployed bundle {d['short_id']} to {target['name']} ({target['kind']} "
             f"{target['address']}): deployment {d['id']} is active",
             f"  uploaded {counted(result['uploaded_blobs'], 'file content')}, "
             f"{fmt_size(result['uploaded_bytes'])}; {result['reused_blobs']} already there"]
    if d.get("previous_bundle_id"):
        lines.append(f"  previous bundle {d['previous_bundle_id'][:12]} (roll back with "
                     f"`mlprod rollback --target {target['name']}`)")
    for problem in result["environment"]["problems"]:
        lines.append(f"  environment: {problem}")
    return lines


NODE_HEADERS = ["name", "url", "token from", "token set"]


def node_rows(nodes: list[dict]) -> list[list[str]]:
    return [[n["name"], n["url"], "$" + n["token_env"], "yes" if n["token_available"] else "NO"]
            for n in nodes]
