"""Steps of scenario runs and their approvals (issue 11). A scenario run is a fire whose
scenario has steps; each write here is one transaction, with its audit event when it changes
what a person can see (a step's outcome, a decision)."""
from __future__ import annotations

from typing import Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .audit import insert_event
from .scenario_fires import _row
from .schema_scheduling import report_deliveries as dl
from .schema_scheduling import scenario_approvals as appr
from .schema_scheduling import scenario_fires as fires
from .schema_scheduling import scenario_step_runs as steps
from .schema_scheduling import scenario_triggers as trig
from .schema_scheduling import scenarios as scen


class ScenarioStepRepository:
    def __init__(self, engine, project: str, fire_store):
        self.engine = engine
        self.project = project
        self.fires = fire_store        # its write() takes SQLite's write lock first

    def begin(self, fire_id: int, rows: list[dict], fire_values: dict, audit: dict | None) -> bool:
        """Create the step rows and mark the fire running, if it still is pending."""
        with self.fires.write() as conn:
            done = conn.execute(fires.update().where(fires.c.id == fire_id,
                                                     fires.c.status == "pending")
                                .values(**fire_values)).rowcount == 1
            if not done:
                return False
            conn.execute(steps.insert(), [dict(r, fire_id=fire_id) for r in rows])
            if audit:
                insert_event(conn, self.project, None, audit)
            return True

    def steps_of(self, fire_ids) -> dict[int, list[dict]]:
        ids = list(fire_ids)
        out: dict[int, list[dict]] = {i: [] for i in ids}
        if not ids:
            return out
        with self.engine.connect() as conn:
            for row in conn.execute(steps.select().where(steps.c.fire_id.in_(ids))
                                    .order_by(steps.c.fire_id, steps.c.position)).mappings():
                out[row["fire_id"]].append(_row(row))
        return out

    def approvals_of(self, fire_id: int) -> dict[int, dict]:
        with self.engine.connect() as conn:
            return {r["position"]: _row(r) for r in conn.execute(
                appr.select().where(appr.c.fire_id == fire_id)).mappings()}

    def active_fires(self) -> list[dict]:
        """Scenario runs in progress, oldest first, with their scenario's spec."""
        query = (sa.select(fires, scen.c.name.label("scenario_name"),
                           scen.c.spec.label("scenario_spec"))
                 .join(scen, scen.c.id == fires.c.scenario_id)
                 .where(fires.c.project == self.project,
                        fires.c.status.in_(("running", "waiting_approval")))
                 .order_by(fires.c.id))
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query).mappings()]

    def has_active(self) -> bool:
        query = sa.select(fires.c.id).where(fires.c.project == self.project, fires.c.status.in_(
            ("running", "waiting_approval"))).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def save_step(self, fire_id: int, position: int, values: dict, *,
                  fire_values: dict | None = None, audit: dict | None = None) -> None:
        """Update one step (and the fire's status, run id...) in one transaction."""
        with self.fires.write() as conn:
            if values:
                conn.execute(steps.update().where(steps.c.fire_id == fire_id,
                                                  steps.c.position == position).values(**values))
            if fire_values:
                conn.execute(fires.update().where(fires.c.id == fire_id).values(**fire_values))
            if audit:
                insert_event(conn, self.project, None, audit)

    def finish(self, fire_id: int, fire_values: dict, skipped: list[int], now,
               deliveries: list[dict], audit: dict | None, after: Callable | None = None,
               by: str | None = None) -> bool:
        """End a scenario run: its fire, the steps left (skipped), its reports and the fires of
        scenarios waiting for it (`after(watchers)` -> new fires), at once."""
        with self.fires.write() as conn:
            done = conn.execute(fires.update().where(
                fires.c.id == fire_id, fires.c.status.in_(("running", "waiting_approval")))
                .values(**fire_values)).rowcount == 1
            if not done:
                return False
            if skipped:
                conn.execute(steps.update().where(steps.c.fire_id == fire_id,
                                                  steps.c.position.in_(skipped))
                             .values(status="skipped", finished_at=now))
            if deliveries:
                conn.execute(dl.insert(), [dict(d, project=self.project) for d in deliveries])
            if after is not None:
                watchers = [_row(r) for r in conn.execute(
                    sa.select(trig.c.spec, trig.c.position, scen.c.id.label("scenario_id"))
                    .join(scen, scen.c.id == trig.c.scenario_id)
                    .where(scen.c.project == self.project, scen.c.enabled.is_(True),
                           trig.c.kind == "run_finished")).mappings()]
                self.fires._insert_fires(conn, after(watchers), now, by)
            if audit:
                insert_event(conn, self.project, None, audit)
            return True

    def decide(self, fire_id: int, position: int, decision: dict, audit: dict) -> dict | None:
        """Record a decision once: None when this step already has one (the earlier stays)."""
        try:
            with self.fires.write() as conn:
                conn.execute(appr.insert().values(fire_id=fire_id, position=position, **decision))
                insert_event(conn, self.project, None, audit)
        except IntegrityError:
            return None
        return decision

    def queue_deliveries(self, deliveries: list[dict]) -> None:
        if deliveries:
            with self.fires.write() as conn:
                conn.execute(dl.insert(), [dict(d, project=self.project) for d in deliveries])
