"""`{placeholder}` templates for report bodies and subjects. Only known names are replaced
(no attribute access, no format specs): a template is user text, never code. `{{` and `}}`
give literal braces."""
from __future__ import annotations

import re

PLACEHOLDERS = {
    "project": "project name", "scenario": "scenario name", "outcome": "succeeded, failed, "
    "cancelled or error", "OUTCOME": "the outcome in capitals", "previous_outcome": "the outcome "
    "before this one", "run_id": "run number", "run_url": "link to the run in the panel",
    "duration": "run duration, e.g. 12.3 s", "failed_step": "the first failed step",
    "error": "the error (step error, or why the run could not start)", "trigger": "what fired it",
    "due_at": "when the fire was due (UTC)", "started_at": "run start (UTC)", "finished_at":
    "run end (UTC)", "attempt": "attempt number", "summary": "one-line summary", "text":
    "the full plain-text report", "emoji": ":white_check_mark: or :x:",
}
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_]+)\}")


def unknown_placeholders(template: str) -> list[str]:
    return sorted({m.group(1) for m in _TOKEN.finditer(template)
                   if m.group(1) and m.group(1) not in PLACEHOLDERS})


def render(template: str, values: dict) -> str:
    def sub(match):
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        value = values.get(match.group(1))
        return "" if value is None else str(value)

    return _TOKEN.sub(sub, template)


def render_json(template, values: dict):
    """Render every string inside a JSON-like template (a custom webhook body)."""
    if isinstance(template, str):
        return render(template, values)
    if isinstance(template, list):
        return [render_json(item, values) for item in template]
    if isinstance(template, dict):
        return {key: render_json(value, values) for key, value in template.items()}
    return template


def json_strings(template) -> list[str]:
    if isinstance(template, str):
        return [template]
    if isinstance(template, list):
        return [s for item in template for s in json_strings(item)]
    if isinstance(template, dict):
        return [s for value in template.values() for s in json_strings(value)]
    return []


def check_template(value, field: str, problems, *, json_body: bool = False) -> None:
    if json_body:
        if not isinstance(value, (dict, list)):
            problems.error(field, "body must be a JSON object (strings inside may use "
                           "{placeholders})")
            return
        strings = json_strings(value)
    elif not isinstance(value, str) or not value.strip():
        problems.error(field, "a template must be non-empty text with {placeholders}")
        return
    else:
        strings = [value]
    unknown = sorted({u for s in strings for u in unknown_placeholders(s)})
    if unknown:
        problems.error(field, f"unknown placeholder {{{unknown[0]}}} (known: "
                       f"{', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))})",
                       code="unknown_placeholder")
