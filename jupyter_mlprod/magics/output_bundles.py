"""Notebook views of bundles, diffs and deployments: HTML with a plain-text fallback, built
from the same rows and lines as the CLI (`cli.output_bundles`)."""
from __future__ import annotations

from html import escape

from ..cli.output import text_table
from ..cli.output_bundles import (BUNDLE_HEADERS, DEPLOYMENT_HEADERS, PREVIEW_HEADERS,
                                  bundle_lines, bundle_rows, created_line, deploy_lines,
                                  deployment_line, deployment_rows, diff_lines, fmt_delta,
                                  fmt_size, preview_lines, preview_rows, verify_lines)
from .output import Rich, html_table

_MUTED = "color:#607d8b"
_PRE = ("font-family:monospace;font-size:12px;margin:2px 0 6px 0;padding:4px 8px;"
        "background:#fafafa;border-left:3px solid #cfd8dc;white-space:pre-wrap")
_CHANGE = {"added": ("+", "#2e7d32"), "removed": ("-", "#c62828"), "changed": ("~", "#ef6c00")}


def _div(text: str, style: str = "") -> str:
    return f'<div style="{style}">{escape(text)}</div>'


def _mark(change: str) -> str:
    sign, colour = _CHANGE.get(change, ("?", "#455a64"))
    return f'<b style="color:{colour}">{sign}</b>'


def bundles_view(data: dict) -> Rich:
    if not data["bundles"]:
        text = "no bundles yet: %mlprod bundle create -m MESSAGE makes one"
        return Rich(_div(text), text, data)
    rows = bundle_rows(data["bundles"])
    more = f"({len(rows)} of {data['total']})" if data["total"] > len(rows) else ""
    return Rich(html_table(BUNDLE_HEADERS, rows) + (_div(more, _MUTED) if more else ""),
                text_table(BUNDLE_HEADERS, rows) + (f"\n{more}" if more else ""), data)


def bundle_view(view: dict, heading: str | None = None) -> Rich:
    lines = bundle_lines(view)
    head = f"<b>bundle {escape(view['short_id'])}</b>"
    if heading:
        head = f"<b>{escape(heading)}</b>"
    info = [[line[:12].strip(), line[12:]] for line in lines[1:]]
    files = [[f["path"], f["kind"], fmt_size(f["size"]), f["sha256"][:12]]
             for f in view.get("files", [])]
    html = (f"<div>{head} <span style='{_MUTED}'>{escape(view['id'])}</span></div>"
            + html_table(["", ""], info)
            + (html_table(["file", "kind", "size", "sha256"], files) if files else ""))
    text = "\n".join(([heading] if heading else []) + lines)
    return Rich(html, text, view)


def created_view(view: dict) -> Rich:
    return bundle_view(view, heading=created_line(view))


def preview_view(view: dict) -> Rich:
    lines = preview_lines(view)
    rest = [line for line in lines[2:]]
    html = (_div(lines[0], "font-weight:600") + html_table(PREVIEW_HEADERS, preview_rows(view))
            + "".join(_div(line, _MUTED) for line in rest))
    return Rich(html, "\n".join(lines), view)


def diff_view(diff: dict) -> Rich:
    a, b = diff["a"], diff["b"]
    parts = [f"<div><b>bundle {escape(a['short_id'])} → {escape(b['short_id'])}</b> "
             f"<span style='{_MUTED}'>{escape(a.get('message') or '')} → "
             f"{escape(b.get('message') or '')}</span></div>",
             _div(diff["summary"])]
    files = diff["files"]
    rows = ([("added", f["path"], f["kind"], "", fmt_size(f["size"])) for f in files["added"]]
            + [("removed", f["path"], f["kind"], fmt_size(f["size"]), "")
               for f in files["removed"]]
            + [("changed", f["path"], f["kind"], fmt_size(f["size_before"]),
                fmt_size(f["size_after"])) for f in files["changed"]])
    if rows:
        body = "".join(
            f"<tr><td style='padding:2px 8px'>{_mark(c)}</td>"
            + "".join(f"<td style='padding:2px 8px'>{escape(v)}</td>" for v in rest)
            + "</tr>" for c, *rest in rows)
        parts.append("<table class='mlprod-table' style='border-collapse:collapse;"
                     "font-size:12px;margin:4px 0'><thead><tr><th></th><th>file</th>"
                     "<th>kind</th><th>before</th><th>after</th></tr></thead>"
                     f"<tbody>{body}</tbody></table>")
    for nb in diff["notebooks"]:
        parts.append(f"<div style='margin-top:6px'><b>{escape(nb['path'])}</b> "
                     f"<span style='{_MUTED}'>({escape(nb['status'])}"
                     + ("; step definition changed" if nb["step_changed"] else "")
                     + ")</span></div>")
        for cell in nb["cells"]:
            where = cell["index_after"] if cell["index_after"] is not None else \
                cell["index_before"]
            parts.append(f"<div>{_mark(cell['change'])} cell {where} "
                         f"<span style='{_MUTED}'>{escape(cell['cell_type'] or '')}</span></div>")
            lines = (cell.get("diff") or [])[2:] or [
                ("+" if cell["change"] == "added" else "-") + line
                for line in cell["source"].splitlines()]
            rendered = []
            for line in lines:
                colour = "#2e7d32" if line.startswith("+") else \
                    "#c62828" if line.startswith("-") else "#455a64"
                rendered.append(f"<span style='color:{colour}'>{escape(line)}</span>")
            parts.append(f"<pre style='{_PRE}'>" + "\n".join(rendered) + "</pre>")
    if diff["data"]:
        parts.append(html_table(["data", "change", "before", "after", "delta"], [
            [d["path"], d["change"], fmt_size(d["size_before"]), fmt_size(d["size_after"]),
             fmt_delta(d["delta"])] for d in diff["data"]]))
    packages = diff["packages"]
    package_rows = ([[p["name"], "added", "", p["version"]] for p in packages["added"]]
                    + [[p["name"], "removed", p["version"], ""] for p in packages["removed"]]
                    + [[p["name"], "upgraded", p["from"], p["to"]] for p in packages["upgraded"]]
                    + [[p["name"], "downgraded", p["from"], p["to"]]
                       for p in packages["downgraded"]])
    if package_rows:
        parts.append(html_table(["package", "change", "before", "after"], package_rows))
    return Rich("\n".join(parts), "\n".join(diff_lines(diff)), diff)


def verify_view(result: dict) -> Rich:
    lines = verify_lines(result)
    colour = "#2e7d32" if result["ok"] else "#c62828"
    html = _div(lines[0], f"color:{colour};font-weight:600") + "".join(
        _div(line) for line in lines[1:])
    return Rich(html, "\n".join(lines), result)


def deploy_view(result: dict) -> Rich:
    lines = deploy_lines(result)
    html = _div(lines[0], "color:#2e7d32;font-weight:600") + "".join(
        _div(line.strip(), _MUTED) for line in lines[1:])
    return Rich(html, "\n".join(lines), result)


def deployment_view(deployment: dict, verb: str) -> Rich:
    line = f"{verb}: {deployment_line(deployment)}"
    return Rich(_div(line, "color:#2e7d32;font-weight:600"), line, deployment)


def deployments_view(history: dict) -> Rich:
    active = history["active"]
    head = deployment_line(active) if active else f"nothing is deployed on {history['node']}"
    rows = deployment_rows(history["deployments"])
    html = _div(head, "font-weight:600") + (html_table(DEPLOYMENT_HEADERS, rows, status_column=3)
                                            if rows else "")
    text = head + ("\n" + text_table(DEPLOYMENT_HEADERS, rows) if rows else "")
    return Rich(html, text, history)


def progress_lines(lines: list[str]) -> Rich:
    return Rich("".join(_div(line, _MUTED) for line in lines), "\n".join(lines), None)
