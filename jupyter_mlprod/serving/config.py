"""Endpoint options: defaults, validation, and the names endpoints and versions may take."""
from __future__ import annotations

import copy
import re

from ..errors import InvalidInput

DEFAULT_OPTIONS: dict = {
    "timeout_ms": 5000,  # a scoring call over this answers 504
    "max_body_bytes": 1 << 20,  # a bigger request body answers 413
    "batching": {"enabled": False, "max_batch": 32, "max_wait_ms": 2.0},
    "input_schema": None,  # declared JSON Schema; None = inferred from the sample request
    # sample: share of scored requests logged; columns: request fields kept (None: all);
    # older or surplus rows are deleted (max_age_hours, max_rows per version); rows: false
    # keeps only the drift columns (no JSON row per request: the cheapest log)
    "prediction_log": {"enabled": False, "redact": [], "sample": 1.0, "columns": None,
                       "max_age_hours": 168, "max_rows": 1_000_000, "rows": True},
    "debug": False,  # 500 answers carry the traceback
    "kg_timeout_ms": None,  # Kernel Gateway routes: none by default, as in Kernel Gateway
}
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
RESERVED = {"health", "ready", "metrics", "stats", "openapi.json", "favicon.ico"}
MAX_BODY_LIMIT = 256 << 20


def check_name(name) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name) or name in RESERVED:
        raise InvalidInput(f"endpoint name {name!r} is not valid: use lowercase letters, digits, "
                           "'-' and '_' (up to 63, starting with a letter or digit; not "
                           f"{', '.join(sorted(RESERVED))})", field="name", code="invalid_name")
    return name


def check_version(version) -> str:
    if not isinstance(version, str) or not VERSION_RE.match(version):
        raise InvalidInput(f"version {version!r} is not valid: use letters, digits, '.', '-' and "
                           "'_' (up to 64)", field="version", code="invalid_version")
    return version


def name_from_notebook(path: str) -> str:
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
    name = re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-_") or "endpoint"
    return check_name(name[:63] if name not in RESERVED else f"{name}-endpoint")


def merge_options(current: dict | None, changes: dict | None) -> dict:
    """Defaults < current < changes (nested dicts merge), validated."""
    merged = copy.deepcopy(DEFAULT_OPTIONS)
    for source in (current or {}, {} if changes is None else changes):  # False is no object
        if not isinstance(source, dict):
            raise InvalidInput("options must be an object", field="options")
        for key, value in source.items():
            if key not in DEFAULT_OPTIONS:
                raise InvalidInput(f"unknown endpoint option {key!r} (known: "
                                   f"{', '.join(DEFAULT_OPTIONS)})", field=f"options.{key}")
            if isinstance(DEFAULT_OPTIONS[key], dict):
                if not isinstance(value, dict):
                    raise InvalidInput(f"option {key} must be an object", field=f"options.{key}")
                for sub in value:
                    if sub not in DEFAULT_OPTIONS[key]:
                        raise InvalidInput(f"unknown option {key}.{sub}", field=f"options.{key}.{sub}")
                merged[key].update(value)
            else:
                merged[key] = value
    _validate(merged)
    return merged


def _validate(o: dict) -> None:
    def number(path: str, value, low: float, high: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise InvalidInput(f"option {path} must be a number from {low:g} to {high:g}, got "
                               f"{value!r}", field=f"options.{path}")

    number("timeout_ms", o["timeout_ms"], 1, 3_600_000)
    number("max_body_bytes", o["max_body_bytes"], 1, MAX_BODY_LIMIT)
    o["max_body_bytes"] = int(o["max_body_bytes"])
    batching = o["batching"]
    if not isinstance(batching["enabled"], bool):
        raise InvalidInput("option batching.enabled must be true or false",
                           field="options.batching.enabled")
    number("batching.max_batch", batching["max_batch"], 1, 4096)
    batching["max_batch"] = int(batching["max_batch"])
    number("batching.max_wait_ms", batching["max_wait_ms"], 0, 1000)
    if o["input_schema"] is not None and not isinstance(o["input_schema"], dict):
        raise InvalidInput("option input_schema must be a JSON Schema object or null",
                           field="options.input_schema")
    if o["input_schema"]:
        from .schema import Validator

        Validator(o["input_schema"])  # refuses a schema that is not valid JSON Schema
    log = o["prediction_log"]
    if not isinstance(log["enabled"], bool):
        raise InvalidInput("option prediction_log.enabled must be true or false",
                           field="options.prediction_log.enabled")
    if not isinstance(log["redact"], list) or not all(isinstance(f, str) and f for f in log["redact"]):
        raise InvalidInput("option prediction_log.redact must be a list of field names "
                           "(dotted for nested fields)", field="options.prediction_log.redact")
    number("prediction_log.sample", log["sample"], 0, 1)
    number("prediction_log.max_age_hours", log["max_age_hours"], 0.001, 24 * 3650)
    number("prediction_log.max_rows", log["max_rows"], 1, 1e9)
    log["max_rows"] = int(log["max_rows"])
    if not isinstance(log["rows"], bool):
        raise InvalidInput("option prediction_log.rows must be true or false",
                           field="options.prediction_log.rows")
    if log["columns"] is not None and (not isinstance(log["columns"], list) or not all(
            isinstance(f, str) and f for f in log["columns"])):
        raise InvalidInput("option prediction_log.columns must be null (every field) or a list "
                           "of request field names", field="options.prediction_log.columns")
    if o["kg_timeout_ms"] is not None:
        number("kg_timeout_ms", o["kg_timeout_ms"], 1, 3_600_000)
    if not isinstance(o["debug"], bool):
        raise InvalidInput("option debug must be true or false", field="options.debug")
