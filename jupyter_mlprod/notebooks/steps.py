"""A step is a notebook whose metadata carries `mlprod`: name, inputs, outputs, after, timeout,
retries. This module parses and validates that block; it never touches the store."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path, PurePosixPath

from ..errors import InvalidInput
from ..paths import resolve_inside

STEP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")
_KNOWN_KEYS = {"step", "inputs", "outputs", "after", "timeout", "retries", "checks", "probes",
               "drift"}


@dataclasses.dataclass(frozen=True)
class StepSpec:
    name: str
    path: str  # project-relative POSIX path of the notebook
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    timeout: int | None = None
    retries: int = 0
    checks: tuple = ()          # of dicts, validated by monitoring.checks.parse_checks
    probes: bool | dict = True  # data probes of the outputs (see monitoring.spec)
    drift: dict | None = None   # a drift check of an input table, before the step runs

    def metadata(self) -> dict:
        data: dict = {"step": self.name, "inputs": list(self.inputs), "outputs": list(self.outputs)}
        if self.after:
            data["after"] = list(self.after)
        if self.timeout is not None:
            data["timeout"] = self.timeout
        data["retries"] = self.retries
        if self.checks:
            data["checks"] = [dict(c) for c in self.checks]
        if self.probes is not True:
            data["probes"] = self.probes
        if self.drift:
            data["drift"] = dict(self.drift)
        return data

    def to_dict(self) -> dict:
        data = {"name": self.name, "path": self.path, "inputs": list(self.inputs),
                "outputs": list(self.outputs), "after": list(self.after),
                "timeout": self.timeout, "retries": self.retries}
        if self.checks:  # absent means none / probes on, as in the notebook's metadata
            data["checks"] = [dict(c) for c in self.checks]
        if self.probes is not True:
            data["probes"] = self.probes
        if self.drift:
            data["drift"] = dict(self.drift)
        return data


MAX_NAME_BYTES, MAX_PATH_BYTES = 255, 4000  # the file system's own limits (NAME_MAX, PATH_MAX)


def validate_project_path(value: str, *, field: str, allow_glob: bool = True) -> str:
    """Normalise a project-relative path; refuse absolute paths and escapes with `..`."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} must be a non-empty project-relative path", field=field)
    text = value.strip().replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        raise InvalidInput(f"{field}: {value!r} is absolute; use a path relative to the project",
                           field=field, code="path_outside_project")
    parts = PurePosixPath(text).parts
    if "\0" in text or len(text.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES or any(
            len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for part in parts):
        raise InvalidInput(f"{field}: not a usable file name (a name is at most {MAX_NAME_BYTES} "
                           f"bytes, a path {MAX_PATH_BYTES}, and neither holds a NUL)", field=field,
                           code="invalid_path")
    if ".." in parts:
        raise InvalidInput(f"{field}: {value!r} points outside the project", field=field,
                           code="path_outside_project")
    if not allow_glob and any(ch in text for ch in "*?["):
        raise InvalidInput(f"{field}: {value!r} cannot be a glob", field=field)
    return str(PurePosixPath(*parts)) if parts else text


def parse_step(raw: object, path: str, *, field_prefix: str = "") -> StepSpec:
    """Validate a `metadata.mlprod` block (or a REST body) into a StepSpec."""
    where = field_prefix or f"{path}: metadata.mlprod"
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where} must be an object", field=field_prefix or "mlprod")
    unknown = set(raw) - _KNOWN_KEYS - {"name"}
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidInput(f"{where}: unknown field {name!r} (allowed: "
                           f"{', '.join(sorted(_KNOWN_KEYS))})", field=_f(field_prefix, name))
    name = raw.get("step", raw.get("name"))
    if not isinstance(name, str) or not STEP_NAME.match(name):
        raise InvalidInput(f"{where}: step name {name!r} must start with a letter or _ and use only "
                           "letters, digits, _ and - (max 64)", field=_f(field_prefix, "name"))
    lists = {}
    for key in ("inputs", "outputs", "after"):
        value = raw.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise InvalidInput(f"{where}: {key} must be a list", field=_f(field_prefix, key))
        if key == "after":
            for item in value:
                if not isinstance(item, str) or not STEP_NAME.match(item):
                    raise InvalidInput(f"{where}: after names an invalid step {item!r}",
                                       field=_f(field_prefix, key))
            lists[key] = tuple(dict.fromkeys(value))
        else:
            lists[key] = tuple(dict.fromkeys(
                validate_project_path(v, field=_f(field_prefix, key)) for v in value))
    timeout = raw.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0):
        raise InvalidInput(f"{where}: timeout must be a positive whole number of seconds",
                           field=_f(field_prefix, "timeout"))
    retries = raw.get("retries", 0) or 0
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise InvalidInput(f"{where}: retries must be a whole number from 0 to 10",
                           field=_f(field_prefix, "retries"))
    from ..monitoring.checks import parse_checks
    from ..monitoring.spec import parse_probes

    checks = parse_checks(raw.get("checks"), _f(field_prefix, "checks"))
    probes = parse_probes(raw.get("probes"), _f(field_prefix, "probes"))
    drift = None
    if raw.get("drift") is not None:
        from ..monitoring.drift_batch import parse_step_drift

        drift = parse_step_drift(raw["drift"], lists["inputs"], _f(field_prefix, "drift"))
    return StepSpec(name=name, path=path, inputs=lists["inputs"], outputs=lists["outputs"],
                    after=lists["after"], timeout=timeout, retries=retries, checks=checks,
                    probes=probes, drift=drift)


def relative_notebook_path(root: Path, value: str) -> tuple[str, Path]:
    """Resolve a notebook path given by a user; refuse anything outside the project."""
    rel = validate_project_path(value, field="path", allow_glob=False)
    absolute = resolve_inside(root, rel, "path")
    if absolute.suffix != ".ipynb":
        raise InvalidInput(f"path {value!r} is not a notebook (.ipynb)", field="path")
    return rel, absolute


def _f(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix and prefix != key else key
