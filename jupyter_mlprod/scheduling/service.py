"""ScenarioService: every scenario action, once (the doors call it through `project.scenarios`).

Scenario spec (what create/update take; `validate` checks it without saving):

    {"name": "nightly-train",                      # letter first; letters, digits, _ . -
     "description": "",
     "enabled": true,
     "triggers": [                                 # one or more
        {"type": "cron", "cron": "0 6 * * 1-5", "timezone": "Europe/Paris"},
        {"type": "interval", "every": "15m", "start_at": "2025-01-01T00:00:00Z"},  # or seconds
        {"type": "files", "paths": ["data/raw.csv", "data/*.parquet"], "poll": 10},
        {"type": "sql", "url": "postgresql://u@host/db", "query": "SELECT max(ts) FROM t",
         "poll": 60},                              # or "url_env": "ORDERS_DB_URL"
        {"type": "run_finished", "scenario": "ingest", "on": "success"},  # failure | any
        {"type": "manual"}],
     "run": {"steps": ["train"], "from": null, "parameters": {"n_rows": 1000}, "force": false},
     "reporters": [                                # when: always | failure | success | change
        {"type": "webhook", "url_env": "SLACK_WEBHOOK_URL", "when": "failure",
         "format": "slack", "template": "{emoji} {summary}", "body": null, "headers": {}},
        {"type": "email", "to": ["ops@example.com"], "from": "mlprod@example.com",
         "host": "smtp.example.com", "port": 587, "tls": "starttls", "user": "bot",
         "password_env": "SMTP_PASSWORD", "when": "change", "subject": null, "template": null}],
     "policies": {"misfire": "catch_up_once", "misfire_grace": 60, "overlap": "skip",
                  "retries": 0, "retry_delay": 60, "retry_on": "lost"},
     "version": 3}                                 # update only: refused if it changed since

Scenario view (what get/list/create/update/enable/disable return): the normalised spec (secrets
masked: SQL passwords, webhook URL paths) plus `id, version, created_at, updated_at,
created_by, updated_by, next_fire_at, last {fire_id, outcome, run_id, due_at, finished_at,
reason}, last_outcome, active_run_id, waiting` and `trigger_status[] {index, type,
description, next_fire_at, next_check_at, last_fired_at, last_checked_at, error,
error_since}`. Sending a view back to update() works: read-only keys are ignored and masked
secrets keep their stored value.

Fire view (timeline, history): `id, scenario_id, scenario, kind (cron | interval | files | sql
| run_finished | manual | retry), trigger (words), trigger_index, due_at, status (pending |
launching | launched | done | retried | skipped | error), outcome (succeeded | failed |
cancelled | error | null), reason, attempt, run_id, run_status, launched_at, latency (s from
due to launch), run_started_at, run_finished_at, duration, finished_at, created_by, claimed_by,
details`.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from functools import cached_property

from ..audit import audited, current_actor
from ..errors import Conflict, InvalidInput, NotFound, Unavailable
from ..store.scenarios import ScenarioRepository
from .claims import launch_lock
from .config import SchedulerConfig
from .launchers import RunLauncher
from .scenarios import Context, Problems, normalize
from .triggers import get_trigger, trigger_key
from .views import (READ_ONLY, delivery_view, fire_view, public_spec, query_limit, query_time,
                    restore_secrets, scenario_view)

log = logging.getLogger(__name__)
TERMINAL = ("succeeded", "failed", "cancelled")
NEXT_SHOWN = 5


class ScenarioService:
    def __init__(self, project, environ=None):
        self.project = project
        self.clock = project.clock
        self.environ = os.environ if environ is None else environ
        self.repo = ScenarioRepository(project.engine, project.settings.name)
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.launcher = RunLauncher(self)
        self.audit_trail = project.audit_trail

    @cached_property
    def config(self) -> SchedulerConfig:
        """Links in reports and send retries of "run now"; a Scheduler of the same project
        hands over its own (e.g. set by the server extension) through use_config()."""
        return SchedulerConfig.load(self.project.root)

    def use_config(self, config: SchedulerConfig) -> None:
        self.__dict__["config"] = config

    # -- reading ----------------------------------------------------------------------------
    def list(self) -> list[dict]:
        rows = self.repo.list_scenarios()
        triggers = self._triggers_by_scenario()
        summaries = self.repo.summaries()
        return [scenario_view(r, triggers.get(r["id"], []), summaries.get(r["id"])) for r in rows]

    def get(self, id_or_name) -> dict:
        row = self._row(id_or_name)
        triggers = self._triggers_by_scenario([row["id"]])
        return scenario_view(row, triggers.get(row["id"], []),
                             self.repo.summaries([row["id"]]).get(row["id"]))

    def fires(self, id_or_name, limit: int = 50) -> list[dict]:
        row = self._row(id_or_name)
        return self.project.scenario_runs.with_steps(
            [fire_view(f, row["spec"]) for f in
             self.repo.list_fires(scenario_id=row["id"], limit=query_limit(limit))])

    def timeline(self, since=None, until=None, *, scenario=None, limit: int = 500) -> list[dict]:
        """Fires of every scenario (or one) due between since and until (default: the last 24
        hours), newest first, with their run and outcome: the monitoring view."""
        until_at = query_time(until, "until") or self.clock.now()
        since_at = query_time(since, "since") or until_at - dt.timedelta(hours=24)
        if since_at > until_at:
            raise InvalidInput("since must be before until", field="since")
        specs = {r["id"]: r["spec"] for r in self.repo.list_scenarios()}
        sid = self._row(scenario)["id"] if scenario is not None else None
        rows = self.repo.list_fires(scenario_id=sid, since=since_at, until=until_at,
                                    limit=query_limit(limit, 5000))
        return self.project.scenario_runs.with_steps(
            [fire_view(r, specs.get(r["scenario_id"])) for r in rows])

    def deliveries(self, fire_id: int) -> list[dict]:
        return [delivery_view(d) for d in self.repo.deliveries([int(fire_id)])]

    # -- validation -------------------------------------------------------------------------
    def validate(self, spec, *, current=None, deep: bool = False,
                 text_parameters: bool = False) -> dict:
        """Validation as you type (no side effects): every error with its field, warnings, and
        for each trigger its description and, for time triggers, the next 5 fire times. With
        `deep`, also connect to SQL URLs, run the queries and hash watched files. The returned
        `spec` has its secrets masked, like a scenario view. `text_parameters`: the values of
        run.parameters are text (a command line's -p), coerced to the declared types."""
        row = self._row(current) if current is not None else None
        ctx = self._context(deep=deep, current=row)
        ctx.text_parameters = text_parameters
        if isinstance(spec, dict):
            spec = {k: v for k, v in spec.items() if k not in READ_ONLY}
            if row is not None:
                spec = restore_secrets(spec, row["spec"])
        normalized = normalize(spec, ctx)
        triggers = []
        raw_triggers = spec.get("triggers") if isinstance(spec, dict) else None
        for i, raw in enumerate(raw_triggers if isinstance(raw_triggers, list) else []):
            triggers.append(self._preview(raw, i, ctx))
        return {"valid": not ctx.problems.errors, "errors": ctx.problems.errors,
                "warnings": ctx.problems.warnings, "triggers": triggers,
                "spec": public_spec(normalized)}

    def _preview(self, raw, i: int, ctx: Context) -> dict:
        field = f"triggers[{i}]"
        out = {"index": i, "type": raw.get("type") if isinstance(raw, dict) else None,
               "description": None, "next": []}
        if ctx.problems.has_errors_under(field) or not isinstance(raw, dict):
            return out
        from .triggers import normalize_trigger

        spec = normalize_trigger(raw, field, Context(ctx.root, ctx.load_pipeline, Problems(),
                                                     ctx.now, names=ctx.names,
                                                     current_name=ctx.current_name,
                                                     environ=ctx.environ))
        if spec is None:
            return out
        trigger = get_trigger(spec["type"])
        out["description"] = trigger.describe(spec)
        if trigger.timed:
            at = ctx.now
            for _ in range(NEXT_SHOWN):
                at = trigger.next_due(spec, at, ctx.now)
                out["next"].append(at.isoformat().replace("+00:00", "Z"))
        return out

    # -- writing ----------------------------------------------------------------------------
    @audited("scenario.create", "scenario")
    def create(self, spec: dict, *, by: str | None = None, text_parameters: bool = False
               ) -> dict:
        if isinstance(spec, dict):
            spec = {k: v for k, v in spec.items() if k not in READ_ONLY + ("version",)}
        ctx = self._context(deep=True)
        ctx.text_parameters = text_parameters
        normalized = normalize(spec, ctx)
        ctx.problems.raise_first()
        now = self.clock.now()
        user = by or current_actor()
        sid = self.repo.insert_scenario(
            dict(name=normalized["name"], enabled=normalized["enabled"], spec=normalized,
                 created_at=now, updated_at=now, created_by=user, updated_by=user),
            self._trigger_rows(normalized, ctx, now),
            audit=self.audit_trail.event("scenario.create", "scenario", normalized["name"],
                                         after=public_spec(normalized)))
        log.info("scenario %s created by %s", normalized["name"], user)
        self._wake()
        return self.get(sid)

    @audited("scenario.edit", "scenario")
    def update(self, id_or_name, spec: dict, *, by: str | None = None) -> dict:
        return self._update(id_or_name, spec, by=by, action="scenario.edit")

    def _update(self, id_or_name, spec: dict, *, by: str | None, action: str) -> dict:
        row = self._row(id_or_name)
        if not isinstance(spec, dict):
            raise InvalidInput("a scenario update must be an object", field="scenario")
        expected = spec.get("version")
        if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
            raise InvalidInput("version must be the whole number read with the scenario",
                               field="version")
        merged = dict(row["spec"])
        merged.update({k: v for k, v in spec.items() if k not in READ_ONLY + ("version",)})
        merged = restore_secrets(merged, row["spec"])
        ctx = self._context(deep=True, current=row)
        normalized = normalize(merged, ctx)
        ctx.problems.raise_first()
        if normalized["name"] != row["name"]:
            self._refuse_if_watched(row, "renamed")
        now = self.clock.now()
        reenabled = normalized["enabled"] and not row["enabled"]
        rows = self._trigger_rows(normalized, ctx, now, reset=reenabled)
        outcome = self.repo.update_scenario(
            row["id"], expected, dict(name=normalized["name"], enabled=normalized["enabled"],
                                      spec=normalized, updated_at=now,
                                      updated_by=by or current_actor()),
            rows, audit=self.audit_trail.event(action, "scenario", row["name"],
                                               before=public_spec(row["spec"]),
                                               after=public_spec(normalized)))
        if outcome == "missing":
            raise NotFound(f"scenario {id_or_name!r} does not exist", field="scenario")
        if outcome == "stale":
            raise Conflict(f"scenario {row['name']!r} was changed by someone else (version "
                           f"{expected} is not current); reload it and edit again",
                           field="version", code="stale_version")
        self._wake()
        return self.get(row["id"])

    @audited("scenario.enable", "scenario")
    def enable(self, id_or_name, *, by: str | None = None) -> dict:
        return self._set_enabled(id_or_name, True, by)

    @audited("scenario.disable", "scenario")
    def disable(self, id_or_name, *, by: str | None = None) -> dict:
        return self._set_enabled(id_or_name, False, by)

    def _set_enabled(self, id_or_name, enabled: bool, by) -> dict:
        row = self._row(id_or_name)
        if row["enabled"] == enabled:
            return self.get(row["id"])
        return self._update(row["id"], {"enabled": enabled}, by=by,
                            action="scenario.enable" if enabled else "scenario.disable")

    @audited("scenario.delete", "scenario")
    def remove(self, id_or_name) -> dict:
        row = self._row(id_or_name)
        self._refuse_if_watched(row, "removed")
        view = self.get(row["id"])
        self.repo.delete_scenario(row["id"], audit=self.audit_trail.event(
            "scenario.delete", "scenario", row["name"], before=public_spec(row["spec"])))
        log.info("scenario %s removed", row["name"])
        self._wake()
        return view

    # -- run now ----------------------------------------------------------------------------
    @audited("scenario.trigger", "scenario")
    def trigger(self, id_or_name, by: str | None = None, *, wait: bool = False,
                defer: bool = False) -> dict:
        """Run the scenario now; returns the run (as `project.runs.get`). A run already going
        in the project is a Conflict. `defer` only queues the fire for the running scheduler
        (e.g. a CLI against a headless daemon) and returns the fire."""
        row = self._row(id_or_name)
        user = by or current_actor()
        now = self.clock.now()
        [fire] = self.repo.insert_fires([{
            "scenario_id": row["id"], "kind": "manual", "due_at": now, "coalesce": False,
            "due_key": f"manual:{uuid.uuid4().hex}", "details": {"by": user}}], now, user,
            audit=self.audit_trail.event("scenario.trigger", "scenario", row["name"],
                                         details={"defer": defer}))
        if row["spec"].get("steps"):   # the scheduler carries a scenario run out, step by step
            self._wake()
            return self.project.scenario_runs.get(fire["id"])
        if defer:
            self._wake()
            return fire_view(dict(fire, scenario_name=row["name"]), row["spec"])
        fire = dict(fire, scenario_name=row["name"], scenario_spec=row["spec"],
                    enabled=row["enabled"])
        with launch_lock(self.project.engine, wait=True) as held:
            if not held:
                self.repo.set_fire(fire["id"], status="skipped", finished_at=self.clock.now(),
                                   reason="the launch lock could not be taken")
                raise Unavailable("another scheduler is busy launching runs; try again",
                                  field="scenario")
            result = self.launcher.launch_one(fire, self.launcher.state(), manual=True)
        if result.status != "launched":
            self.repo.set_fire(fire["id"], status="skipped", finished_at=self.clock.now(),
                               reason=f"run now refused: {result.reason}")
            raise Conflict(f"scenario {row['name']!r} cannot run now: {result.reason}",
                           field="scenario", code="run_active")
        run_id = result.run["id"]
        if wait:
            self.project.runs.wait(run_id)
        if self.project.repo.get_run(run_id)["status"] in TERMINAL:
            self._finish(fire["id"])
        return self.project.runs.get(run_id)

    # -- launcher callbacks (RunLauncher's context) -----------------------------------------
    def launched(self, run_id: int) -> None:
        pass

    def run_updated(self, fire_id: int, run_id: int) -> None:
        run = self.project.repo.get_run(run_id)
        if run is not None and run["status"] in TERMINAL:
            self._finish(fire_id)

    def _finish(self, fire_id: int) -> None:
        """Finish a fire started here and send its reports now (a scheduler would too)."""
        from .delivery import Deliverer
        from .finishing import Finisher

        finisher = Finisher(self.project, self.repo, self.config, self.clock, self.name)
        for _ in range(20):   # the launcher records the run on the fire right after starting it
            if finisher.finish(fire_id) or (self.repo.get_fire(fire_id) or {}).get(
                    "status") != "launching":
                break
            time.sleep(0.1)
        if self.repo.deliveries([fire_id]):
            thread = threading.Thread(target=Deliverer(self.repo, self.config, self.clock,
                                                       self.environ).deliver_due,
                                      name=f"mlprod-report-{fire_id}", daemon=True)
            thread.start()
            thread.join(self.config.report_timeout * 2 + 1)
        self._wake()

    # -- helpers ----------------------------------------------------------------------------
    def _row(self, id_or_name) -> dict:
        row = None
        if isinstance(id_or_name, int) and not isinstance(id_or_name, bool) or \
                isinstance(id_or_name, str) and id_or_name.isdigit():
            if 0 < int(id_or_name) < 2 ** 31:
                row = self.repo.get_scenario(sid=int(id_or_name))
        elif isinstance(id_or_name, str) and id_or_name:
            row = self.repo.get_scenario(name=id_or_name)
        else:
            raise InvalidInput("give a scenario by name or id", field="scenario")
        if row is None:
            raise NotFound(f"scenario {id_or_name!r} does not exist", field="scenario")
        return row

    def _triggers_by_scenario(self, sids=None) -> dict[int, list[dict]]:
        out: dict[int, list[dict]] = {}
        for t in self.repo.triggers(sids):
            out.setdefault(t["scenario_id"], []).append(t)
        return out

    def _context(self, *, deep: bool, current: dict | None = None) -> Context:
        names, upstreams = self.repo.graph()
        if current is not None:
            names.pop(current["name"], None)
            upstreams.pop(current["name"], None)
        return Context(root=self.project.root, load_pipeline=self.project.pipeline,
                       problems=Problems(), now=self.clock.now(), deep=deep,
                       current_name=current["name"] if current else None, names=names,
                       upstreams=upstreams, environ=self.environ,
                       endpoint_names=lambda: {e["name"] for e in self.project.endpoints.list()},
                       node_names=lambda: {n["name"] for n in self.project.bundles.nodes()})

    def _trigger_rows(self, spec: dict, ctx: Context, now, reset: bool = False) -> list[dict]:
        rows, seen = [], {}
        for i, t in enumerate(spec["triggers"]):
            key = trigger_key(t)
            seen[key] = seen.get(key, 0) + 1
            key = key if seen[key] == 1 else f"{key}-{seen[key]}"
            trigger = get_trigger(t["type"])
            row = {"position": i, "key": key, "kind": t["type"], "spec": t, "anchor_at": now,
                   "next_at": None, "reset": reset}
            if trigger.timed:
                row["next_at"] = trigger.next_due(t, now, now)
            elif trigger.polled:
                baseline = ctx.baselines.get(f"triggers[{i}]")
                row["fingerprint"], row["state"] = baseline if baseline else (None, None)
                row["last_checked_at"] = now if baseline else None
                row["next_at"] = now + dt.timedelta(seconds=trigger.poll_seconds(t))
            rows.append(row)
        return rows

    def _refuse_if_watched(self, row: dict, what: str) -> None:
        _, upstreams = self.repo.graph()
        watchers = sorted(name for name, ups in upstreams.items()
                          if name != row["name"] and row["name"] in ups)
        if watchers:
            raise Conflict(f"scenario {row['name']!r} cannot be {what}: scenario "
                           f"{watchers[0]!r} is triggered when it finishes", field="scenario",
                           code="scenario_in_use")

    def _wake(self) -> None:
        from .scheduler import wake_schedulers

        wake_schedulers(self.project)

