"""Step kinds that release a candidate: bundle it, wait for a person's approval, deploy it to a
node or folder (never twice for one scenario run), put it on an endpoint as a canary or shadow
then promote or roll back, and notify through the scenario's reporters."""
from __future__ import annotations

import string

from ..scenarios import NAME_RE
from .kinds_judge import candidate_metrics, normalize_target, target_history
from .registry import Outcome, StepKind, register

FIXED_FIELDS = ("run_id", "fire_id", "scenario", "bundle_id")
APPROVE_TIMEOUT = 7 * 86400


def render(template: str, run) -> str:
    """`{run_id}`, `{fire_id}`, `{scenario}`, `{bundle_id}` and metric names (`{auc}`)."""
    names = dict(candidate_metrics(run))
    names.update(run_id=latest(run, "run_id"), fire_id=run.fire["id"],
                 scenario=run.fire["scenario_name"], bundle_id=latest(run, "bundle_id"))
    out = []
    for literal, field, spec, _ in string.Formatter().parse(template):
        out.append(literal)
        if field is not None:
            value = names.get(field)
            out.append("-" if value is None else format(value, spec or ""))
    return "".join(out)


def check_template(raw, field, ctx, problems, *, required: bool) -> str:
    if raw is None and not required:
        return ""
    if not isinstance(raw, str) or (required and not raw.strip()) or len(raw) > 2000:
        problems.error(field, "the message must be text of at most 2000 characters")
        return ""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(raw) if f is not None]
    except ValueError as exc:
        problems.error(field, f"the message is not a valid template: {exc}")
        return raw
    for name in fields:
        if name not in FIXED_FIELDS and name not in ctx.recorded_metrics:
            problems.error(field, f"unknown placeholder {{{name}}} (use {', '.join(FIXED_FIELDS)}"
                           " or a metric an earlier run step records)", code="unknown_placeholder")
    return raw


def latest(run, key: str):
    for step in reversed(run.steps):
        if step["values"].get(key) is not None:
            return step["values"][key]
    return None


class MessageKind(StepKind):
    """A kind whose one field is a message template."""

    fields = ("message",)
    message_required = False

    def normalize(self, raw, field, ctx, problems):
        return {"message": check_template(raw.get("message"), f"{field}.message", ctx, problems,
                                          required=self.message_required)}


class BundleKind(MessageKind):
    name = "bundle"

    def advance(self, run, step, values):
        metrics = {"run_id": latest(run, "run_id"), "values": candidate_metrics(run)}
        bundle = run.project.bundles.create(render(step["message"], run)
                                            or f"scenario {run.fire['scenario_name']}",
                                            metrics=metrics)
        return Outcome("succeeded", {"bundle_id": bundle["id"]})


class ApproveKind(StepKind):
    name = "approve"
    fields = ("approvers",)
    default_timeout = APPROVE_TIMEOUT

    def normalize(self, raw, field, ctx, problems):
        approvers = raw.get("approvers", [])
        if not isinstance(approvers, list) or not all(
                isinstance(a, str) and a.strip() and len(a) <= 200 for a in approvers):
            problems.error(f"{field}.approvers", "approvers must be a list of user names (at "
                           "most 200 characters each)")
            approvers = []
        return {"approvers": [a.strip() for a in approvers]}

    def advance(self, run, step, values):
        decision = run.approvals.get(step["index"])
        if decision is None:
            if not values.get("announced"):
                run.announce(step)
                return Outcome("waiting", {"announced": True})
            return Outcome("waiting")
        out = {"decided_by": decision["decided_by"], "decision": decision["decision"]}
        if decision["decision"] == "approve":
            return Outcome("succeeded", out)
        return Outcome("rejected", out, f"rejected by {decision['decided_by']}"
                       + (f": {decision['message']}" if decision.get("message") else ""))


class DeployKind(StepKind):
    name = "deploy"
    fields = ("target", "strict", "env")

    def normalize(self, raw, field, ctx, problems):
        target = normalize_target(raw.get("target"), f"{field}.target", ctx, problems,
                                  ("node", "folder"))
        strict = raw.get("strict", False)
        if not isinstance(strict, bool):
            problems.error(f"{field}.strict", "strict must be true or false")
        env = raw.get("env", "compare")
        if env not in ("compare", "recreate"):
            problems.error(f"{field}.env", f"env must be compare or recreate, not {env!r}")
        if not ctx.has_bundle_step:
            problems.error(f"{field}.kind", "a deploy step needs a bundle step before it",
                           code="no_bundle")
        return {"target": target, "strict": strict is True,
                "env": env if env in ("compare", "recreate") else "compare"}

    def advance(self, run, step, values):
        bundle_id = latest(run, "bundle_id")
        if bundle_id is None:
            return Outcome("failed", error="no bundle step before this deploy produced a bundle")
        (_, target), = step["target"].items()
        key = f"scenario-run {run.fire['id']} step {step['index']}"
        if values.get("key") is None:
            # recorded before the deploy: a replaced scheduler looks for it on the target
            return Outcome("running", {"key": key, "bundle_id": bundle_id})
        history = target_history(run.project, target)
        done = next((d for d in history["deployments"] if key in (d.get("message") or "")), None)
        if done is None and (history["active"] or {}).get("bundle_id") == bundle_id:
            done = history["active"]   # already what the target runs: nothing to deploy
        if done is None:
            result = run.project.bundles.deploy(
                bundle_id, target, strict=step["strict"], env=step.get("env", "compare"),
                message=f"{run.fire['scenario_name']}: {key}", actor=run.actor)
            done = result["deployment"]
        return Outcome("succeeded", {"deployment_id": done.get("id"), "target": step["target"]})


class EndpointKind(StepKind):
    name = "endpoint"
    fields = ("endpoint", "mode", "weight", "promote_after")

    def normalize(self, raw, field, ctx, problems):
        from ..scenarios import number

        name = raw.get("endpoint")
        if not isinstance(name, str) or not NAME_RE.match(name):
            problems.error(f"{field}.endpoint", "endpoint must be an endpoint's name")
        elif ctx.endpoint_names is not None and name not in ctx.endpoint_names():
            problems.error(f"{field}.endpoint", f"unknown endpoint {name!r}",
                           code="unknown_endpoint")
        mode = raw.get("mode", "canary")
        if mode not in ("canary", "shadow"):
            problems.error(f"{field}.mode", f"mode must be canary or shadow, not {mode!r}")
        weight = number(raw, "weight", field, problems, 10, 0.1, 100, integer=False)
        promote = raw.get("promote_after") or {}
        if not isinstance(promote, dict):
            problems.error(f"{field}.promote_after", "promote_after must be an object with "
                           "requests and max_errors")
            promote = {}
        where = f"{field}.promote_after"
        out = {"requests": number(promote, "requests", where, problems, 100, 1, 10 ** 9),
               "max_errors": number(promote, "max_errors", where, problems, 0, 0, 10 ** 9)}
        if not ctx.has_bundle_step:
            problems.error(f"{field}.kind", "an endpoint step needs a bundle step before it",
                           code="no_bundle")
        return {"endpoint": name, "mode": mode, "weight": weight, "promote_after": out}

    def advance(self, run, step, values):
        from ...serving.traffic import primary_version

        endpoints = run.project.endpoints
        name = step["endpoint"]
        if values.get("version") is None:
            bundle_id = latest(run, "bundle_id")
            view = endpoints.get(name)
            live = primary_version(view.get("traffic"))
            # a scheduler that died after adding the version left it there: use it
            version = next((v["version"] for v in view["versions"]
                            if v.get("bundle_id") == bundle_id), None) or endpoints.add_version(
                name, bundle_dir=run.bundle_tree(bundle_id), bundle_id=bundle_id,
                activate=False)["version"]
            if version == live:   # resumed after the traffic moved: nothing left to switch
                return Outcome("succeeded", {"version": version, "promoted": True})
            if live is None:
                endpoints.set_traffic(name, {version: 100}, reason=f"{run.label}: first version")
                return Outcome("succeeded", {"version": version, "promoted": True})
            if step["mode"] == "canary":
                w = step["weight"]
                endpoints.set_traffic(name, {live: 100 - w, version: w},
                                      reason=f"{run.label}: canary {version} at {w:g} %")
            else:
                weights = (view["traffic"] or {}).get("weights") or {live: 100}
                endpoints.set_traffic(name, weights, shadow=version,
                                      reason=f"{run.label}: shadow {version}")
            return Outcome("running", {"version": version, "previous": live})
        stats = endpoints.live_stats(name)["versions"].get(values["version"]) or {}
        requests, errors = stats.get("requests", 0), stats.get("errors", 0)
        out = {"requests": requests, "errors": errors}
        rule = step["promote_after"]
        if errors > rule["max_errors"]:
            endpoints.rollback(name)
            return Outcome("failed", dict(out, rolled_back=True),
                           f"{values['version']} had {errors} errors: rolled back")
        if requests >= rule["requests"]:
            endpoints.promote(name, values["version"])
            return Outcome("succeeded", dict(out, promoted=True))
        return Outcome("running", out)

    def abandon(self, run, step, values):
        """Not enough traffic in time: the canary or shadow is taken off again."""
        if values.get("version") and values.get("previous") and not values.get("promoted"):
            run.project.endpoints.rollback(step["endpoint"])


class NotifyKind(MessageKind):
    name = "notify"
    message_required = True

    def advance(self, run, step, values):
        text = render(step["message"], run)
        sent = run.notify(text)
        return Outcome("succeeded", {"message": text, "reports": sent})


for _kind in (BundleKind(), ApproveKind(), DeployKind(), EndpointKind(), NotifyKind()):
    register(_kind)
