"""Notebook output for the magic: HTML tables (status cells coloured like the DAG) with a plain
text fallback, built from the same rows as the CLI's tables."""
from __future__ import annotations

from html import escape

from ..cli.output import (RUN_HEADERS, STEP_HEADERS, STEP_RUN_HEADERS, fmt_duration, fmt_progress,
                          run_rows, run_summary, step_rows, step_run_rows, text_table)
from ..pipelines.render import status_color

_TABLE = ('<table class="mlprod-table" style="border-collapse:collapse;font-size:12px;'
          'margin:4px 0">')
_CELL = "padding:3px 10px;border-bottom:1px solid #e0e0e0;text-align:left;vertical-align:top"


class Rich:
    """Shown as HTML in a notebook, as text elsewhere; `data` keeps what it was built from."""

    def __init__(self, html: str, text: str, data=None):
        self.html = html
        self.text = text
        self.data = data

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


def badge(status: str | None) -> str:
    fill, stroke, text = status_color(status)
    return (f'<span style="background:{fill};border:1px solid {stroke};color:{text};'
            f'border-radius:9px;padding:0 7px;white-space:nowrap">{escape(status or "never run")}'
            "</span>")


def html_table(headers: list[str], rows: list[list[str]], status_column: int | None = None) -> str:
    head = "".join(f'<th style="{_CELL};font-weight:600">{escape(h)}</th>' for h in headers)
    body = []
    for row in rows:
        cells = []
        for k, value in enumerate(row):
            if k == status_column and value:  # "succeeded (run 3)": badge, then the rest
                status, sep, rest = value.partition(" (")
                content = badge(status) + escape(sep + rest)
            else:
                content = escape(value)
            cells.append(f'<td style="{_CELL}">{content}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'{_TABLE}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def error(message: str) -> Rich:
    line = "mlprod: error: " + " ".join(message.split())
    return Rich(f'<div class="mlprod-error" style="color:#c62828;font-family:monospace">'
                f"{escape(line)}</div>", line)


def note(text: str) -> Rich:
    return Rich(f'<div style="color:#455a64">{escape(text)}</div>', text)


def status_view(project, view: dict) -> Rich:
    settings = project.settings
    heading = (f"project {settings.name} — {settings.root} (store: {settings.store_kind}, "
               f"executor: {settings.executor})")
    rows = step_rows(view)
    html = [f"<div><b>{escape(settings.name)}</b> <span style='color:#607d8b'>"
            f"{escape(str(settings.root))} · store {escape(settings.store_kind)} · executor "
            f"{escape(settings.executor)}</span></div>"]
    text = [heading]
    if rows:
        html.append(html_table(STEP_HEADERS, rows, status_column=5))
        text.append(text_table(STEP_HEADERS, rows))
    else:
        html.append("<div>no steps yet: tag a notebook as a pipeline step</div>")
        text.append("no steps yet")
    if view["problems"]:
        items = "".join(f"<li>{escape(p['message'])}</li>" for p in view["problems"])
        html.append(f'<div style="color:#c62828">problems:<ul style="margin:2px 0">{items}</ul>'
                    "</div>")
        text += ["problems:"] + [f"  - {p['message']}" for p in view["problems"]]
    return Rich("\n".join(html), "\n".join(text), view)


def runs_view(data: dict) -> Rich:
    if not data["runs"]:
        return Rich("<div>no runs yet</div>", "no runs yet", data)
    rows = run_rows(data["runs"])
    more = f" ({len(rows)} of {data['total']})" if data["total"] > len(rows) else ""
    return Rich(html_table(RUN_HEADERS, rows, status_column=1) +
                (f"<div style='color:#607d8b'>{escape(more.strip())}</div>" if more else ""),
                text_table(RUN_HEADERS, rows) + more, data)


def progress_view(run: dict) -> Rich:
    """The live table while a run goes: step, status, cell i/n, duration, note."""
    headers = ["step", "status", "progress", "duration", "note"]
    rows = [[s["step"], s["status"], fmt_progress(s), fmt_duration(s["duration"]),
             s.get("reason") or ""] for s in run["steps"]]
    title = f"run {run['id']} {run['status']}"
    return Rich(f"<div><b>{escape(title)}</b></div>" + html_table(headers, rows, status_column=1),
                title + "\n" + text_table(headers, rows), run)


def run_view(run: dict, outputs: dict[str, str]) -> Rich:
    """A finished (or any) run: summary line + its step runs."""
    rows = step_run_rows(run, outputs)
    summary = run_summary(run)
    fill, stroke, colour = status_color(run["status"])
    html = (f'<div style="color:{colour}"><b>{escape(summary)}</b></div>'
            + html_table(STEP_RUN_HEADERS, rows, status_column=1))
    if run.get("error"):
        html += f'<div style="color:#c62828">{escape(run["error"])}</div>'
    return Rich(html, summary + "\n" + text_table(STEP_RUN_HEADERS, rows), run)
