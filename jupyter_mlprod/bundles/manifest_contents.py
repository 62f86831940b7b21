"""A manifest from outside (an archive, a node upload) is checked against the project's own
rules before anything is stored: its steps (parse_step: names, inputs and outputs inside the
project), its scenarios (names, triggers and reporters as a scenario save checks them, watched
paths inside the project, run steps that exist), and its endpoints (endpoint and version name
rules, options, notebooks that are bundled files). A self-consistent manifest naming
`../../etc/passwd` or an endpoint `../evil` is refused like a tampered one."""
from __future__ import annotations

import datetime as dt

from ..errors import InvalidInput, MlprodError
from .manifest import safe_relative_path


def _bad(message: str, where: str) -> InvalidInput:
    return InvalidInput(f"the manifest's {where}: {message}", field="manifest",
                        code="bad_manifest", details={"where": where})


def check_contents(data: dict) -> None:
    files = {f["path"] for f in data["files"]}
    steps = _check_pipeline(data["pipeline"], files)
    _check_scenarios(data["scenarios"], steps)
    _check_endpoints(data["endpoints"])


def _check_pipeline(pipeline: dict, files: set[str]) -> set[str]:
    from ..notebooks.steps import parse_step

    raw_steps = pipeline.get("steps", [])
    if not isinstance(raw_steps, list):
        raise _bad("pipeline.steps must be a list", "pipeline.steps")
    names: set[str] = set()
    for i, step in enumerate(raw_steps):
        where = f"pipeline.steps[{i}]"
        if not isinstance(step, dict):
            raise _bad("a step must be an object", where)
        try:
            path = safe_relative_path(step.get("path"), what=f"{where}.path")
            fields = {k: step.get(k) for k in ("inputs", "outputs", "after", "timeout",
                                                "retries") if step.get(k) is not None}
            spec = parse_step(dict(fields, step=step.get("name")), path, field_prefix=where)
        except MlprodError as exc:
            raise _bad(exc.message, where) from None
        if not path.endswith(".ipynb") or path not in files:
            raise _bad(f"step {spec.name} names {path!r}, which is not a notebook of the bundle",
                       f"{where}.path")
        if spec.name in names:
            raise _bad(f"step {spec.name} appears twice", f"{where}.name")
        names.add(spec.name)
    return names


def _check_scenarios(scenarios: list, steps: set[str]) -> None:
    from ..scheduling.reporters import normalize_reporter
    from ..scheduling.scenarios import NAME_RE, Context, Problems
    from ..scheduling.triggers import normalize_trigger

    seen: set[str] = set()
    names = {s.get("name"): i for i, s in enumerate(scenarios) if isinstance(s, dict)}
    for i, scenario in enumerate(scenarios):
        where = f"scenarios[{i}]"
        if not isinstance(scenario, dict):
            raise _bad("a scenario must be an object", where)
        name = scenario.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name) or name in seen:
            raise _bad(f"scenario name {name!r} is not valid (or appears twice)", f"{where}.name")
        seen.add(name)
        ctx = Context(root=".", load_pipeline=_no_pipeline, problems=Problems(),
                      now=dt.datetime.now(dt.timezone.utc), environ={}, names=names,
                      current_name=name)
        for j, trigger in enumerate(scenario.get("triggers") or []):
            normalize_trigger(trigger, f"{where}.triggers[{j}]", ctx)
        for j, reporter in enumerate(scenario.get("reporters") or []):
            normalize_reporter(reporter, f"{where}.reporters[{j}]", ctx)
        if ctx.problems.errors:
            first = ctx.problems.errors[0]
            raise _bad(first["message"], first["field"])
        run = scenario.get("run") or {}
        if not isinstance(run, dict):
            raise _bad("run must be an object", f"{where}.run")
        named = list(run.get("steps") or []) + ([run["from"]] if run.get("from") else [])
        for step in named:
            if step not in steps:
                raise _bad(f"run names step {step!r}, which the bundle's pipeline lacks",
                           f"{where}.run")


def _no_pipeline():
    raise InvalidInput("the bundle's scenarios are checked without a project", field="run")


def _check_endpoints(endpoints: list) -> None:
    from ..serving.config import check_name, check_version, merge_options

    seen: set[str] = set()
    for i, endpoint in enumerate(endpoints):
        where = f"endpoints[{i}]"
        if not isinstance(endpoint, dict):
            raise _bad("an endpoint must be an object", where)
        try:
            name = check_name(endpoint.get("name"))
            if endpoint.get("options") is not None:
                merge_options(None, endpoint["options"])
            for j, version in enumerate(endpoint.get("versions") or []):
                if not isinstance(version, dict):
                    raise _bad("a version must be an object", f"{where}.versions[{j}]")
                check_version(version.get("version"))
                notebook = version.get("notebook")
                if notebook is not None:  # inside the project (it may come from another bundle)
                    safe_relative_path(notebook, what=f"{where}.versions[{j}].notebook")
        except InvalidInput as exc:
            if exc.code == "bad_manifest":
                raise
            raise _bad(exc.message, f"{where}.{exc.field or 'name'}") from None
        if name in seen:
            raise _bad(f"endpoint {name} appears twice", f"{where}.name")
        seen.add(name)
