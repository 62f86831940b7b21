"""Scenarios, their trigger states, fires and report deliveries (the latter two in
scenario_fires.py, mixed in). The only place scheduling SQL is written. Writers that must not
race (claiming due triggers, finalizing fires, claiming deliveries) lock what they take:
`FOR UPDATE SKIP LOCKED` on PostgreSQL, `BEGIN IMMEDIATE` (the database write lock) on
SQLite; the unique (scenario, due_key) key of fires is the last guard. Policy decisions are
callbacks run inside those transactions, so this module holds no rules."""
from __future__ import annotations

import datetime as dt
from typing import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..clock import as_utc
from ..errors import Conflict
from .audit import insert_event
from .scenario_fires import FireStore, _row
from .schema_scheduling import report_deliveries as dl
from .schema_scheduling import scenario_fires as fires
from .schema_scheduling import scenario_triggers as trig
from .schema_scheduling import scenarios as scen


class ScenarioRepository(FireStore):
    def __init__(self, engine: Engine, project: str):
        self.engine = engine
        self.project = project
        self.sqlite = engine.dialect.name == "sqlite"
        self._sequences: dict[str, str] = {}

    # -- scenarios ------------------------------------------------------------------------
    def insert_scenario(self, values: dict, triggers: list[dict], audit: dict | None = None
                        ) -> int:
        try:
            with self.write() as conn:
                sid = conn.execute(scen.insert().values(project=self.project, version=1, **values)
                                   .returning(scen.c.id)).scalar_one()
                if triggers:
                    conn.execute(trig.insert(), [_trigger_row(sid, t) for t in triggers])
                if audit:
                    insert_event(conn, self.project, None, audit)
        except IntegrityError:
            raise Conflict(f"a scenario named {values['name']!r} already exists", field="name",
                           code="duplicate_name") from None
        return sid

    def update_scenario(self, sid: int, expected_version: int | None, values: dict,
                        triggers: list[dict] | None, audit: dict | None = None) -> str:
        """'ok', 'missing' or 'stale' (the version changed since the caller read it)."""
        try:
            with self.write() as conn:
                row = conn.execute(scen.select().where(scen.c.id == sid,
                                                       scen.c.project == self.project)).first()
                if row is None:
                    return "missing"
                if expected_version is not None and row.version != expected_version:
                    return "stale"
                conn.execute(scen.update().where(scen.c.id == sid)
                             .values(version=row.version + 1, **values))
                if triggers is not None:
                    self._replace_triggers(conn, sid, triggers)
                if audit:
                    insert_event(conn, self.project, None, audit)
        except IntegrityError:
            raise Conflict(f"a scenario named {values.get('name')!r} already exists",
                           field="name", code="duplicate_name") from None
        return "ok"

    def _replace_triggers(self, conn, sid: int, triggers: list[dict]) -> None:
        existing = {r.key: r for r in conn.execute(trig.select().where(trig.c.scenario_id == sid))}
        keep = set()
        for t in triggers:
            old = existing.get(t["key"])
            if old is not None and not t.get("reset"):
                keep.add(t["key"])
                conn.execute(trig.update().where(trig.c.id == old.id)
                             .values(position=t["position"]))
        stale = [r.id for k, r in existing.items() if k not in keep]
        if stale:
            conn.execute(trig.delete().where(trig.c.id.in_(stale)))
        new = [_trigger_row(sid, t) for t in triggers if t["key"] not in keep]
        if new:
            conn.execute(trig.insert(), new)

    def update_triggers(self, values: list[dict]) -> None:
        """Set fields of trigger rows: each dict has `id` plus the columns to set."""
        with self.write() as conn:
            for v in values:
                v = dict(v)
                conn.execute(trig.update().where(trig.c.id == v.pop("id"))
                             .values(version=trig.c.version + 1, **v))

    def delete_scenario(self, sid: int, audit: dict | None = None) -> bool:
        with self.write() as conn:
            conn.execute(dl.delete().where(dl.c.scenario_id == sid))
            conn.execute(fires.delete().where(fires.c.scenario_id == sid))
            conn.execute(trig.delete().where(trig.c.scenario_id == sid))
            deleted = conn.execute(scen.delete().where(
                scen.c.id == sid, scen.c.project == self.project)).rowcount == 1
            if deleted and audit:
                insert_event(conn, self.project, None, audit)
            return deleted

    def get_scenario(self, sid: int | None = None, name: str | None = None) -> dict | None:
        query = scen.select().where(scen.c.project == self.project)
        query = query.where(scen.c.id == sid if sid is not None else scen.c.name == name)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _row(row) if row else None

    def list_scenarios(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(scen.select().where(scen.c.project == self.project)
                                .order_by(scen.c.name)).mappings().all()
        return [_row(r) for r in rows]

    def triggers(self, sids: Iterable[int] | None = None) -> list[dict]:
        query = trig.select().join(scen, scen.c.id == trig.c.scenario_id).where(
            scen.c.project == self.project)
        if sids is not None:
            query = query.where(trig.c.scenario_id.in_(list(sids)))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(trig.c.scenario_id, trig.c.position)
                                ).mappings().all()
        return [_row(r) for r in rows]

    def graph(self) -> tuple[dict[str, int], dict[str, set[str]]]:
        """Scenario names -> ids, and for each, the scenarios its run_finished triggers watch."""
        with self.engine.connect() as conn:
            names = dict(conn.execute(sa.select(scen.c.name, scen.c.id)
                                      .where(scen.c.project == self.project)).all())
            edges = conn.execute(sa.select(scen.c.name, trig.c.spec)
                                 .join(trig, trig.c.scenario_id == scen.c.id)
                                 .where(scen.c.project == self.project,
                                        trig.c.kind == "run_finished")).all()
        upstreams: dict[str, set[str]] = {}
        for name, spec in edges:
            upstreams.setdefault(name, set()).add(spec.get("scenario"))
        return names, upstreams

    def summaries(self, sids: Iterable[int] | None = None) -> dict[int, dict]:
        """Per scenario: its last fire with an outcome (and that run's times), its waiting fires
        and its run in flight."""
        scope = [fires.c.project == self.project]
        if sids is not None:
            scope.append(fires.c.scenario_id.in_(list(sids)))
        last_ids = (sa.select(sa.func.max(fires.c.id)).where(*scope, fires.c.outcome.is_not(None))
                    .group_by(fires.c.scenario_id))
        with self.engine.connect() as conn:
            last = conn.execute(self._fire_query().where(fires.c.id.in_(last_ids))).mappings().all()
            waiting = conn.execute(sa.select(fires.c.scenario_id, sa.func.count()).where(
                *scope, fires.c.status == "pending").group_by(fires.c.scenario_id)).all()
            active = conn.execute(self._fire_query().where(
                *scope, fires.c.status.in_(("launching", "launched")))).mappings().all()
        out: dict[int, dict] = {}
        for r in last:
            out.setdefault(r["scenario_id"], {})["last"] = _row(r)
        for sid, count in waiting:
            out.setdefault(sid, {})["waiting"] = count
        for r in active:
            out.setdefault(r["scenario_id"], {})["active"] = _row(r)
        return out

    # -- time and polled triggers (scheduler) ---------------------------------------------
    def _due_query(self, now, kinds):
        return (sa.select(trig, scen.c.name.label("scenario_name"),
                          scen.c.spec.label("scenario_spec"))
                .join(scen, scen.c.id == trig.c.scenario_id)
                .where(scen.c.project == self.project, scen.c.enabled.is_(True),
                       trig.c.kind.in_(list(kinds)), trig.c.next_at <= now))

    def claim_due(self, now: dt.datetime, kinds, limit: int,
                  plan: Callable[[list[dict]], tuple[list[dict], list[dict]]],
                  by: str) -> tuple[list[dict], list[dict]]:
        """Lock due trigger rows, let `plan` compute (trigger updates, fires), apply both.
        Returns (the rows taken, the fires created)."""
        with self.write() as conn:
            query = self._due_query(now, kinds).order_by(trig.c.next_at, trig.c.scenario_id,
                                                         trig.c.position).limit(limit)
            rows = [_row(r) for r in conn.execute(self._locked(query, trig)).mappings()]
            if not rows:
                return [], []
            updates, new = plan(rows)
            self._update_rows(conn, trig, updates, version=True)
            return rows, self._insert_fires(conn, new, now, by)

    def next_due_at(self, kinds) -> dt.datetime | None:
        query = (sa.select(sa.func.min(trig.c.next_at)).join(scen, scen.c.id == trig.c.scenario_id)
                 .where(scen.c.project == self.project, scen.c.enabled.is_(True),
                        trig.c.kind.in_(list(kinds))))
        with self.engine.connect() as conn:
            return as_utc(conn.execute(query).scalar())

    def with_trigger(self, trigger_id: int, decide: Callable[[dict], tuple[dict | None, list]],
                     now: dt.datetime, by: str) -> list[dict]:
        """Lock one trigger row (waiting for it) and apply what `decide(row)` returns."""
        with self.write() as conn:
            query = (sa.select(trig, scen.c.name.label("scenario_name"),
                               scen.c.spec.label("scenario_spec"), scen.c.enabled.label("enabled"))
                     .join(scen, scen.c.id == trig.c.scenario_id).where(trig.c.id == trigger_id))
            if not self.sqlite:
                query = query.with_for_update(of=trig)
            row = conn.execute(query).mappings().first()
            if row is None:
                return []
            values, new = decide(_row(row))
            if values:
                self._update_rows(conn, trig, [dict(values, id=trigger_id)], version=True)
            return self._insert_fires(conn, new, now, by)



def _trigger_row(sid: int, t: dict) -> dict:
    row = {k: v for k, v in t.items() if k in trig.c and k not in ("id", "scenario_id")}
    row.setdefault("version", 0)
    return dict(row, scenario_id=sid)
