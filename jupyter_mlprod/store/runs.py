"""Runs and step runs. Every write is one short transaction; readers get plain dicts."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..clock import as_utc
from .audit import insert_event
from .schema import runs, step_runs

ACTIVE = ("queued", "running")


class RunRepository:
    def __init__(self, engine: Engine, project: str):
        self.engine = engine
        self.project = project

    # -- writes ---------------------------------------------------------------------------
    def create_run(self, run: dict, steps: list[dict], audit: dict | None = None) -> int:
        """Record a run (and, given, its audit event about the new run id) in one transaction."""
        with self.engine.begin() as conn:
            run_id = conn.execute(
                runs.insert().values(project=self.project, **run).returning(runs.c.id)).scalar_one()
            if steps:
                conn.execute(step_runs.insert(), [dict(s, run_id=run_id) for s in steps])
            if audit:
                insert_event(conn, self.project, None, dict(audit, object_id=str(run_id)))
        return run_id

    def update_run(self, run_id: int, **values) -> None:
        with self.engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(**values))

    def update_step(self, run_id: int, step: str, **values) -> None:
        with self.engine.begin() as conn:
            conn.execute(step_runs.update()
                         .where(step_runs.c.run_id == run_id, step_runs.c.step == step)
                         .values(**values))

    def finish_run(self, run_id: int, status: str, finished_at: dt.datetime, error: str | None,
                   unfinished_step_status: str, reason: str, only_if_active: bool = False) -> None:
        """Close a run and every step still open in it, in one transaction (with
        `only_if_active`, nothing happens to a run already closed)."""
        with self.engine.begin() as conn:
            if only_if_active:
                # Takes the row's write lock first, so a concurrent closer waits, then skips.
                closing = conn.execute(runs.update().where(runs.c.id == run_id,
                                                           runs.c.status.in_(ACTIVE))
                                       .values(status=status, finished_at=finished_at, error=error))
                if closing.rowcount == 0:
                    return
            conn.execute(step_runs.update()
                         .where(step_runs.c.run_id == run_id,
                                step_runs.c.status.in_(("pending", "running")))
                         .values(status=unfinished_step_status, reason=reason,
                                 finished_at=finished_at))
            conn.execute(runs.update().where(runs.c.id == run_id)
                         .values(status=status, finished_at=finished_at, error=error))

    # -- reads ----------------------------------------------------------------------------
    def get_run(self, run_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(runs.select().where(runs.c.id == run_id,
                                                   runs.c.project == self.project)).mappings().first()
            if row is None:
                return None
            steps = conn.execute(step_runs.select().where(step_runs.c.run_id == run_id)
                                 .order_by(step_runs.c.position)).mappings().all()
        return _run_dict(row, [dict(s) for s in steps])

    def list_runs(self, limit: int, offset: int) -> tuple[list[dict], int]:
        with self.engine.connect() as conn:
            rows = conn.execute(runs.select().where(runs.c.project == self.project)
                                .order_by(runs.c.id.desc()).limit(limit).offset(offset)).mappings().all()
            total = conn.execute(sa.select(sa.func.count()).select_from(runs)
                                 .where(runs.c.project == self.project)).scalar_one()
        return [_run_dict(r, None) for r in rows], total

    def active_runs(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(runs.select().where(runs.c.project == self.project,
                                                    runs.c.status.in_(ACTIVE))).mappings().all()
        return [_run_dict(r, None) for r in rows]

    def last_successes(self, steps: list[str]) -> dict[str, dict]:
        """For each step, its most recent successful step run (fingerprint, run id, outputs)."""
        if not steps:
            return {}
        newest = (sa.select(step_runs.c.step, sa.func.max(step_runs.c.id).label("id"))
                  .join(runs, runs.c.id == step_runs.c.run_id)
                  .where(runs.c.project == self.project, step_runs.c.status == "succeeded",
                         step_runs.c.step.in_(steps))
                  .group_by(step_runs.c.step).subquery())
        query = (sa.select(step_runs.c.step, step_runs.c.fingerprint, step_runs.c.run_id,
                           step_runs.c.outputs_digest)
                 .join(newest, newest.c.id == step_runs.c.id))
        with self.engine.connect() as conn:
            return {r.step: {"fingerprint": r.fingerprint, "run_id": r.run_id,
                             "outputs_digest": r.outputs_digest}
                    for r in conn.execute(query)}

    def latest_statuses(self) -> dict[str, dict]:
        """Each step's latest step run that got past pending, for the DAG's colours."""
        newest = (sa.select(step_runs.c.step, sa.func.max(step_runs.c.id).label("id"))
                  .join(runs, runs.c.id == step_runs.c.run_id)
                  .where(runs.c.project == self.project, step_runs.c.status != "pending")
                  .group_by(step_runs.c.step).subquery())
        query = (sa.select(step_runs.c.step, step_runs.c.status, step_runs.c.run_id,
                           step_runs.c.finished_at)
                 .join(newest, newest.c.id == step_runs.c.id))
        with self.engine.connect() as conn:
            return {r.step: {"run_id": r.run_id, "status": r.status,
                             "finished_at": as_utc(r.finished_at)} for r in conn.execute(query)}


def _run_dict(row, steps: list[dict] | None) -> dict:
    data = dict(row)
    for key in ("created_at", "started_at", "finished_at", "heartbeat_at"):
        data[key] = as_utc(data[key])
    if steps is not None:
        for step in steps:
            for key in ("started_at", "finished_at"):
                step[key] = as_utc(step[key])
        data["steps"] = steps
    return data
