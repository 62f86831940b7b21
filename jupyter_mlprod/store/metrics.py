"""Metrics and check results of step runs. Readers get plain dicts; history is per project
(through the run), step and metric."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..clock import as_utc
from .schema import runs, step_runs
from .schema_monitoring import check_results, metrics


class MetricRepository:
    def __init__(self, engine: Engine, project: str):
        self.engine = engine
        self.project = project

    # -- writes ---------------------------------------------------------------------------
    def record(self, run_id: int, step: str, rows: list[dict], at: dt.datetime) -> None:
        """Replace the step run's metrics (a retried or resumed step records them again)."""
        with self.engine.begin() as conn:
            conn.execute(metrics.delete().where(metrics.c.run_id == run_id, metrics.c.step == step))
            if rows:
                conn.execute(metrics.insert(), [dict(r, run_id=run_id, step=step, at=at)
                                                for r in rows])

    def record_checks(self, run_id: int, step: str, results: list[dict], at: dt.datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(check_results.delete().where(check_results.c.run_id == run_id,
                                                      check_results.c.step == step))
            if results:
                conn.execute(check_results.insert(),
                             [dict(position=r["position"], metric=r["metric"], spec=r["check"],
                                   outcome=r["outcome"], value=r["value"], message=r["message"],
                                   run_id=run_id, step=step, at=at) for r in results])

    # -- reads ----------------------------------------------------------------------------
    def for_run(self, run_id: int, step: str | None = None) -> list[dict]:
        query = (sa.select(metrics).join(runs, runs.c.id == metrics.c.run_id)
                 .where(runs.c.project == self.project, metrics.c.run_id == run_id))
        if step is not None:
            query = query.where(metrics.c.step == step)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(metrics.c.id)).mappings().all()
        return [_row(r) for r in rows]

    def checks_for_run(self, run_id: int) -> list[dict]:
        query = (sa.select(check_results).join(runs, runs.c.id == check_results.c.run_id)
                 .where(runs.c.project == self.project, check_results.c.run_id == run_id)
                 .order_by(check_results.c.id))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_row(r) for r in rows]

    def history(self, step: str, name: str | None, last: int) -> list[dict]:
        """The step's metrics over its `last` most recent runs that recorded any, oldest first,
        with the run's status, parameters and the step run's status."""
        recent = (sa.select(metrics.c.run_id).join(runs, runs.c.id == metrics.c.run_id)
                  .where(runs.c.project == self.project, metrics.c.step == step))
        if name is not None:
            recent = recent.where(metrics.c.name == name)
        recent = recent.distinct().order_by(metrics.c.run_id.desc()).limit(last).subquery()
        query = (sa.select(metrics, runs.c.parameters, runs.c.status.label("run_status"),
                           step_runs.c.status.label("step_status"))
                 .join(runs, runs.c.id == metrics.c.run_id)
                 .join(recent, recent.c.run_id == metrics.c.run_id)
                 .outerjoin(step_runs, sa.and_(step_runs.c.run_id == metrics.c.run_id,
                                               step_runs.c.step == metrics.c.step))
                 .where(metrics.c.step == step))
        if name is not None:
            query = query.where(metrics.c.name == name)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(metrics.c.run_id, metrics.c.id)).mappings().all()
        return [_row(r) for r in rows]

    def previous_values(self, step: str, names: list[str], before_run: int) -> dict[str, tuple]:
        """For each name, (run_id, value) from the step's last successful run before this one."""
        if not names:
            return {}
        last = (sa.select(sa.func.max(step_runs.c.run_id))
                .join(runs, runs.c.id == step_runs.c.run_id)
                .where(runs.c.project == self.project, step_runs.c.step == step,
                       step_runs.c.status == "succeeded", step_runs.c.run_id < before_run)
                .scalar_subquery())
        query = (sa.select(metrics.c.name, metrics.c.value, metrics.c.run_id)
                 .where(metrics.c.step == step, metrics.c.run_id == last,
                        metrics.c.name.in_(names), metrics.c.value.is_not(None)))
        with self.engine.connect() as conn:
            return {r.name: (r.run_id, r.value) for r in conn.execute(query)}

    def latest_check_outcomes(self) -> dict[str, dict]:
        """Per step, the check outcomes of its newest step run that has any."""
        newest = (sa.select(check_results.c.step, sa.func.max(check_results.c.run_id).label("run_id"))
                  .join(runs, runs.c.id == check_results.c.run_id)
                  .where(runs.c.project == self.project)
                  .group_by(check_results.c.step).subquery())
        query = (sa.select(check_results.c.step, check_results.c.run_id, check_results.c.outcome)
                 .join(newest, sa.and_(newest.c.step == check_results.c.step,
                                       newest.c.run_id == check_results.c.run_id)))
        out: dict[str, dict] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                entry = out.setdefault(r.step, {"run_id": r.run_id, "outcomes": []})
                entry["outcomes"].append(r.outcome)
        return out


def _row(row) -> dict:
    data = dict(row)
    data["at"] = as_utc(data["at"])
    return data
