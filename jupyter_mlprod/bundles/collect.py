"""What goes into a bundle: the notebooks, mlprod.toml, project Python files, the steps'
declared inputs/outputs, include/exclude globs from `[bundles]` in mlprod.toml, the pipeline,
scenario and endpoint definitions as they stand, and the git commit if there is one."""
from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import os
import re
import subprocess
import tomllib
from pathlib import Path

from ..errors import InvalidInput, Unavailable
from ..paths import is_inside, outside
from ..settings import CONFIG_FILE
from .manifest import safe_relative_path
from .stripping import strip_config, strip_scenarios

log = logging.getLogger(__name__)

DEFAULT_INCLUDE = ("**/*.py", "requirements*.txt")
ALWAYS_EXCLUDE = (".mlprod/**", ".git/**", "**/.ipynb_checkpoints/**", "**/__pycache__/**",
                  ".venv/**", "**/*.pyc")
_SKIP_DIRS = {".mlprod", ".git", ".ipynb_checkpoints", "__pycache__", ".venv", "node_modules"}
_MODEL_SUFFIXES = {".pkl", ".pickle", ".joblib", ".onnx", ".pt", ".pth", ".h5", ".keras",
                   ".safetensors", ".cbm", ".ubj", ".model"}


@dataclasses.dataclass
class Collection:
    files: dict[str, str]  # path -> kind
    pipeline: dict
    scenarios: list
    endpoints: list
    git: dict | None
    notes: list[str]
    # secrets taken out (field + what to set on the node), and files whose bundled content
    # is their text without secrets
    stripped: list = dataclasses.field(default_factory=list)
    replaced: dict = dataclasses.field(default_factory=dict)


def bundle_config(root: Path) -> dict:
    path = root / CONFIG_FILE
    if not path.exists():
        return {"include": list(DEFAULT_INCLUDE), "exclude": []}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("bundles", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{CONFIG_FILE} is not valid TOML: {exc}", field=CONFIG_FILE) from None
    out = {}
    for key, default in (("include", list(DEFAULT_INCLUDE)), ("exclude", [])):
        value = table.get(key, default)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise InvalidInput(f"{CONFIG_FILE} [bundles] {key} must be a list of globs",
                               field=f"bundles.{key}")
        out[key] = value
    return out


def glob_regex(pattern: str) -> re.Pattern:
    """A project-relative glob as a regex: `**` spans folders, `*` and `?` stay in one."""
    text, i, out = pattern.strip(), 0, ""
    if text.startswith("./"):
        text = text[2:]
    while i < len(text):
        if text.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif text.startswith("**", i):
            out, i = out + ".*", i + 2
        elif text[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif text[i] == "?":
            out, i = out + "[^/]", i + 1
        elif text[i] == "[":
            end = text.find("]", i + 1)
            if end < 0:
                out, i = out + re.escape(text[i]), i + 1
            else:
                out, i = out + "[" + text[i + 1:end].replace("!", "^", 1) + "]", end + 1
        else:
            out, i = out + re.escape(text[i]), i + 1
    if text.endswith("/"):
        out += ".*"
    return re.compile(out + r"(?:/.*)?\Z")  # a folder names everything below it


def walk(root: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        base = Path(dirpath).relative_to(root).as_posix()
        for name in sorted(filenames):
            found.append(name if base == "." else f"{base}/{name}")
    return found


def collect(project) -> Collection:
    root: Path = project.root
    config = bundle_config(root)
    notes: list[str] = []
    pipeline = project.pipeline()
    files: dict[str, str] = {}
    for info in project.notebooks.scan():
        files[info.path] = "notebook"
    if (root / CONFIG_FILE).is_file():
        files[CONFIG_FILE] = "config"
    hasher = project.runs.hasher
    for spec in pipeline.steps.values():
        for pattern in (*spec.inputs, *spec.outputs):
            for rel in hasher.expand(pattern):
                files.setdefault(rel, _data_kind(rel))
    if config["include"]:
        includes = [glob_regex(p) for p in config["include"]]
        for rel in walk(root):
            if rel not in files and any(rx.match(rel) for rx in includes):
                files[rel] = _data_kind(rel) if not rel.endswith(".py") else "file"
    excludes = [glob_regex(p) for p in (*ALWAYS_EXCLUDE, *config["exclude"])]
    for rel in list(files):
        if any(rx.match(rel) for rx in excludes):
            if files[rel] == "notebook" and any(s.path == rel for s in pipeline.steps.values()):
                notes.append(f"{rel} is a pipeline step but [bundles] exclude leaves it out")
            del files[rel]
            continue
        try:
            safe_relative_path(rel)
        except InvalidInput:
            notes.append(f"{rel} left out: its name cannot travel in a bundle")
            del files[rel]
            continue
        if not is_inside(root, rel):  # a symlink out of the project is never packaged
            raise outside(rel, "files")
        if not (root / rel).is_file():
            notes.append(f"{rel} left out: not a regular file")
            del files[rel]
    for problem in pipeline.problems:
        notes.append(f"pipeline problem: {problem.message}")
    scenarios, stripped = strip_scenarios(definitions(project, "scenarios", notes))
    endpoints = definitions(project, "endpoints", notes)
    replaced = {}
    if CONFIG_FILE in files:
        text, found = strip_config((root / CONFIG_FILE).read_text(encoding="utf-8"), CONFIG_FILE)
        refused = [s["field"] for s in found if s.get("refused")]
        if refused:
            raise InvalidInput(f"{refused[0]} holds a secret that cannot be stripped from a bundle; "
                               "read it from the environment instead", field=CONFIG_FILE,
                               code="secret_in_bundle")
        stripped += found
        if text is not None:
            replaced[CONFIG_FILE] = text.encode("utf-8")
    notes += [f"secret left out: {s['field']}: {s['note']}" for s in stripped]
    return Collection(dict(sorted(files.items())), pipeline.to_dict(), scenarios, endpoints,
                      git_info(root), notes, stripped, replaced)


def _data_kind(rel: str) -> str:
    suffix = Path(rel).suffix.lower()
    if rel.endswith(".ipynb"):
        return "notebook"
    if suffix in _MODEL_SUFFIXES or rel.startswith("models/"):
        return "model"
    return "data"


def definitions(project, attr: str, notes: list[str]) -> list:
    """Scenario or endpoint definitions as they stand, through `project.scenarios` /
    `project.endpoints`. A missing capability package is skipped (and noted); a broken one
    is an error, so a bundle never silently lacks its scenarios."""
    try:
        service = getattr(project, attr)
    except ImportError as exc:  # the capability package is absent (or not finished) here
        if exc.name and exc.name.startswith("jupyter_mlprod."):
            notes.append(f"{attr} not included: {exc.name} is not available in this version")
            return []
        raise
    try:
        value = _export(service)
    except Exception as exc:
        raise Unavailable(f"cannot read the project's {attr}: {exc}", field=attr) from exc
    if value is None:
        notes.append(f"{attr} not included: the {attr} service has no export_definitions()")
        return []
    if isinstance(value, dict):
        value = value.get(attr, next((v for v in value.values() if isinstance(v, list)), []))
    return json.loads(json.dumps(list(value or []), default=str))


def _export(service):
    """The definitions as stored (secrets unmasked: production needs them), through the
    service's export_definitions() when it has one, else its stored specs or its list view
    minus read-only fields."""
    if callable(getattr(service, "export_definitions", None)):
        return service.export_definitions()
    repo = getattr(service, "repo", None)
    if callable(getattr(repo, "list_scenarios", None)):  # scheduling, before export_definitions
        return [dict(row["spec"], name=row["name"], enabled=row["enabled"])
                for row in repo.list_scenarios()]
    if callable(getattr(service, "list", None)):
        read_only = set(getattr(importlib.import_module(type(service).__module__.rsplit(".", 1)[0]
                                                        + ".views"), "READ_ONLY", ())
                        if _has_views(service) else ())
        return [{k: v for k, v in item.items() if k not in read_only} if isinstance(item, dict)
                else item for item in service.list()]
    return None


def _has_views(service) -> bool:
    try:
        importlib.import_module(type(service).__module__.rsplit(".", 1)[0] + ".views")
        return True
    except ImportError:
        return False


def git_info(root: Path) -> dict | None:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                                  text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return None
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    return {"commit": commit, "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(status)}
