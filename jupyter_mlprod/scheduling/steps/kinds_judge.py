"""Step kinds that produce and judge a candidate: run (a pipeline selection), check
(conditions on its metrics), compare (candidate versus champion, MLflow-style thresholds)."""
from __future__ import annotations

import math

from ...errors import Conflict, InvalidInput, MlprodError, NotFound
from ..scenarios import Problems, check_keys, normalize_run
from .registry import Outcome, StepKind, register

TERMINAL = ("succeeded", "failed", "cancelled")


def candidate_metrics(run) -> dict:
    """Metrics of this scenario run's latest run step: `name` and `step.name` -> value."""
    for step in reversed(run.steps):
        if step["kind"] == "run" and step["values"].get("metrics") is not None:
            return step["values"]["metrics"]
    return {}


class RunKind(StepKind):
    name = "run"
    fields = ("steps", "from", "parameters", "force")

    def normalize(self, raw, field, ctx, problems):
        scratch = Problems()
        saved, ctx.problems = ctx.problems, scratch
        try:
            out = normalize_run({k: raw[k] for k in self.fields if k in raw}, ctx)
        finally:
            ctx.problems = saved
        for e in scratch.errors:
            problems.error(field + e["field"][len("run"):], e["message"], e["code"])
        return {k: out.get(k) for k in self.fields} if not scratch.errors else {}

    def metrics_recorded(self, step, ctx):
        try:
            pipeline = ctx.pipeline()
            names = pipeline.select(step.get("steps"), step.get("from"))
        except Exception:  # noqa: BLE001 - reported by normalize already
            return set()
        found = set()
        for name in names:
            for check in getattr(pipeline.steps[name], "checks", ()) or ():
                found |= {check["metric"], f"{name}.{check['metric']}"}
        return found

    def advance(self, run, step, values):
        project = run.project
        if values.get("run_id") is None:
            try:
                started = project.runs.start(
                    steps=step.get("steps"), from_step=step.get("from"),
                    parameters=step.get("parameters") or None, force=step.get("force", False),
                    trigger=f"scenario:{run.fire['kind']}"[:40], wait=False,
                    scenario_id=run.fire["scenario_id"],
                    on_update=run.sequencer.run_updated)
            except Conflict as exc:   # another run of the project is going: wait for it
                return Outcome("running", {"waiting": exc.message})
            run.sequencer.launched(started["id"])
            return Outcome("running", {"run_id": started["id"]})
        record = project.repo.get_run(values["run_id"])
        if record is None:
            return Outcome("failed", error=f"run {values['run_id']} is gone")
        if record["status"] not in TERMINAL:
            return Outcome("running")
        metrics = {}
        for m in project.metrics.run_metrics(values["run_id"])["metrics"]:
            if m["value"] is not None:
                metrics[m["name"]] = metrics[f"{m['step']}.{m['name']}"] = m["value"]
        checks = project.metrics.run_checks(values["run_id"])
        out = {"metrics": metrics, "checks_outcome": checks["outcome"]}
        if record["status"] != "succeeded":
            return Outcome("failed", out, f"run {values['run_id']} {record['status']}"
                           + (f": {record['error']}" if record.get("error") else ""))
        if checks["outcome"] == "ERROR":
            return Outcome("failed", out, "a check of the run failed")
        return Outcome("succeeded", out)

    def abandon(self, run, step, values):
        if values.get("run_id") is not None:
            record = run.project.repo.get_run(values["run_id"])
            if record is not None and record["status"] not in TERMINAL:
                run.project.runs.cancel(values["run_id"])


class CheckKind(StepKind):
    name = "check"
    fields = ("checks",)

    def normalize(self, raw, field, ctx, problems):
        from ...monitoring.checks import parse_checks

        try:
            checks = parse_checks(raw.get("checks"), f"{field}.checks")
        except InvalidInput as exc:
            problems.error(exc.field or f"{field}.checks", exc.message)
            return {}
        if not checks:
            problems.error(f"{field}.checks", "give at least one check")
        for i, check in enumerate(checks):
            if check["metric"] not in ctx.recorded_metrics:
                problems.error(f"{field}.checks[{i}].metric", f"no earlier run step records "
                               f"metric {check['metric']!r}", code="unknown_metric")
        return {"checks": [dict(c) for c in checks]}

    def advance(self, run, step, values):
        from ...monitoring.checks import evaluate, worst

        metrics = candidate_metrics(run)
        results = [evaluate(i, c, metrics.get(c["metric"]), missing_reason=None, previous=None)
                   .to_dict() for i, c in enumerate(step["checks"])]
        outcome = worst(r["outcome"] for r in results)
        out = {"checks": results, "outcome": outcome}
        if outcome in ("ERROR", "EMPTY"):
            bad = next(r for r in results if r["outcome"] == outcome)
            return Outcome("failed", out, bad["message"])
        return Outcome("succeeded", out)


def threshold_rule(metric: str, t: dict) -> str:
    better = ">=" if t["greater_is_better"] else "<="
    sign = "+" if t["greater_is_better"] else "-"
    rule = f"{metric}: candidate {better} champion {sign} {t['min_absolute_change'] or 0:g}"
    if t["min_relative_change"]:
        rule += f" and by {t['min_relative_change']:g} of the champion"
    return rule


def judge(candidate: float | None, champion: float | None, t: dict) -> bool:
    """MLflow's validate_evaluation_results rule for one metric."""
    if candidate is None:
        return False
    if champion is None:
        return True
    gain = candidate - champion if t["greater_is_better"] else champion - candidate
    if gain < (t["min_absolute_change"] or 0.0):
        return False
    return not t["min_relative_change"] or gain >= t["min_relative_change"] * abs(champion)


class CompareKind(StepKind):
    name = "compare"
    fields = ("target", "metrics")

    def normalize(self, raw, field, ctx, problems):
        target = normalize_target(raw.get("target"), f"{field}.target", ctx, problems,
                                  ("node", "folder", "endpoint"))
        metrics = raw.get("metrics")
        out = {}
        if not isinstance(metrics, dict) or not metrics:
            problems.error(f"{field}.metrics", "metrics must map metric names to thresholds, "
                           'e.g. {"auc": {"greater_is_better": true, "min_absolute_change": 0}}')
            return {"target": target, "metrics": {}}
        for name, t in metrics.items():
            where = f"{field}.metrics.{name}"
            if name not in ctx.recorded_metrics:
                problems.error(where, f"no earlier run step records metric {name!r} (declare a "
                               "check on it in its step notebook)", code="unknown_metric")
            if t is None:
                t = {}
            if not isinstance(t, dict):
                problems.error(where, "a threshold is an object with greater_is_better, "
                               "min_absolute_change, min_relative_change")
                continue
            check_keys(t, ("greater_is_better", "min_absolute_change", "min_relative_change"),
                       where, problems)
            rule = {"greater_is_better": t.get("greater_is_better", True)}
            if not isinstance(rule["greater_is_better"], bool):
                problems.error(f"{where}.greater_is_better", "greater_is_better must be true or "
                               "false")
            for key in ("min_absolute_change", "min_relative_change"):
                value = t.get(key)
                if value is not None and (isinstance(value, bool) or not isinstance(
                        value, (int, float)) or not math.isfinite(value) or value < 0):
                    problems.error(f"{where}.{key}", f"{key} must be a number >= 0, not {value!r}")
                    value = None
                rule[key] = value
            out[name] = rule
        return {"target": target, "metrics": out}

    def advance(self, run, step, values):
        candidate = candidate_metrics(run)
        try:
            champion, where = champion_metrics(run.project, step["target"])
        except MlprodError as exc:
            return Outcome("failed", error=f"the champion's metrics cannot be read: {exc.message}")
        rows = []
        for metric, t in step["metrics"].items():
            cand = candidate.get(metric)
            champ = None if champion is None else champion.get(metric)
            rows.append({"metric": metric, "candidate": cand, "champion": champ,
                         "passed": judge(cand, champ, t), "rule": threshold_rule(metric, t)})
        out = {"comparison": rows, "champion": where}
        if champion is None:
            out["note"] = "no champion yet: the candidate wins"
            return Outcome("succeeded", out)
        lost = [r for r in rows if not r["passed"]]
        if lost:
            r = lost[0]
            return Outcome("failed", out, f"candidate lost: {r['metric']} {r['candidate']} vs "
                           f"champion {r['champion']} ({r['rule']})")
        return Outcome("succeeded", out)


def normalize_target(raw, field, ctx, problems, allowed) -> dict:
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in allowed:
        problems.error(field, f"target must be one of {{{'|'.join(allowed)}: name}}")
        return {}
    (kind, value), = raw.items()
    longest = 1000 if kind == "folder" else 200
    if not isinstance(value, str) or not value.strip() or len(value) > longest:
        problems.error(f"{field}.{kind}", f"{kind} must be a name of at most {longest} "
                       "characters")
        return {}
    if kind == "endpoint" and ctx.endpoint_names is not None and \
            value not in ctx.endpoint_names():
        problems.error(f"{field}.endpoint", f"unknown endpoint {value!r}",
                       code="unknown_endpoint")
    if kind == "node" and ctx.node_names is not None and value not in ctx.node_names():
        problems.error(f"{field}.node", f"unknown node {value!r} (register it first: mlprod "
                       "nodes register)", code="unknown_node")
    return {kind: value}


def target_history(project, target: str, limit: int = 20) -> dict:
    """A node's or folder's deployments (through the node's authenticated API for a node)."""
    try:
        return project.bundles.deployments(target, limit=limit)
    except NotFound as exc:   # an empty production folder: nothing deployed yet
        if exc.code != "not_a_project":
            raise
        return {"active": None, "deployments": []}


def champion_metrics(project, target: dict) -> tuple[dict | None, dict]:
    """The metrics recorded in the bundle the target runs now (None: nothing yet)."""
    (kind, value), = target.items()
    if kind == "endpoint":
        from ...serving.traffic import primary_version

        view = project.endpoints.get(value)
        live = primary_version(view.get("traffic"))
        version = next((v for v in view["versions"] if v["version"] == live), None)
        bundle_id = (version or {}).get("bundle_id")
        where = {"endpoint": value, "version": live, "bundle_id": bundle_id}
    else:
        active = target_history(project, value)["active"]
        bundle_id = active["bundle_id"] if active else None
        where = {kind: value, "bundle_id": bundle_id}
    if bundle_id is None:
        return None, where
    manifest = project.bundles.manifest(bundle_id)
    return (manifest.get("metrics") or {}).get("values") or {}, where


for _kind in (RunKind(), CheckKind(), CompareKind()):
    register(_kind)
