"""Fires and report deliveries of scenarios, and the transaction helpers the scenario
repository shares (see store/scenarios.py for the locking rules)."""
from __future__ import annotations

import contextlib
import datetime as dt
from typing import Callable, Iterable

import sqlalchemy as sa

from .runs import ACTIVE
from .schema import runs
from .schema_scheduling import report_deliveries as dl
from .schema_scheduling import scenario_fires as fires
from .schema_scheduling import scenario_triggers as trig
from .schema_scheduling import scenarios as scen

_UTC = dt.timezone.utc


def _row(row) -> dict:
    """A plain dict; SQLite hands back naive datetimes, all of them UTC."""
    return {k: v.replace(tzinfo=_UTC) if type(v) is dt.datetime and v.tzinfo is None else v
            for k, v in row.items()}


class FireStore:
    engine: sa.engine.Engine
    project: str
    sqlite: bool
    _sequences: dict

    @contextlib.contextmanager
    def write(self):
        """One write transaction; on SQLite it takes the write lock first (no upgrade races)."""
        with self.engine.connect() as conn:
            if self.sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    def _locked(self, query, of):
        return query if self.sqlite else query.with_for_update(skip_locked=True, of=of)

    # -- fires ----------------------------------------------------------------------------
    def _fire_query(self):
        return (sa.select(fires, scen.c.name.label("scenario_name"),
                          runs.c.status.label("run_status"), runs.c.error.label("run_error"),
                          runs.c.created_at.label("run_created_at"),
                          runs.c.started_at.label("run_started_at"),
                          runs.c.finished_at.label("run_finished_at"))
                .join(scen, scen.c.id == fires.c.scenario_id)
                .outerjoin(runs, runs.c.id == fires.c.run_id))

    def insert_fires(self, new: list[dict], now: dt.datetime, by: str,
                     audit: dict | None = None) -> list[dict]:
        with self.write() as conn:
            rows = self._insert_fires(conn, new, now, by)
            if audit:
                from .audit import insert_event

                insert_event(conn, self.project, None, audit)
            return rows

    def _insert_fires(self, conn, new: list[dict], now, by) -> list[dict]:
        """Insert fires; a pending one for a scenario that already has one waiting is coalesced
        into it (recorded as skipped) unless it says `coalesce: False`."""
        if not new:
            return []
        sids = {f["scenario_id"] for f in new}
        waiting = dict(conn.execute(sa.select(fires.c.scenario_id, sa.func.min(fires.c.id)).where(
            fires.c.scenario_id.in_(sids), fires.c.status == "pending")
            .group_by(fires.c.scenario_id)).all())
        rows, later = [], []
        for f in new:
            f = dict(f)
            coalesce = f.pop("coalesce", True)
            row = {"project": self.project, "status": "pending", "attempt": 1, "details": {},
                   "created_by": by, "created_at": now, **f}
            if row["status"] == "pending" and coalesce:
                into = waiting.get(row["scenario_id"])
                if row["scenario_id"] in waiting:
                    row.update(status="skipped", finished_at=now,
                               details=dict(row["details"], coalesced_into=into))
                    later.append((len(rows), into))
                else:
                    waiting[row["scenario_id"]] = None   # filled once inserted
                    row["_first"] = True
            rows.append(row)
        firsts = [i for i, r in enumerate(rows) if r.pop("_first", False)]
        columns = set().union(*rows)
        for row in rows:   # executemany needs the same keys in every row
            for column in columns - set(row):
                row[column] = None
        ids = self._insert_with_ids(conn, fires, rows)
        for i, rid in enumerate(ids):
            rows[i]["id"] = rid
        first_of = {rows[i]["scenario_id"]: rows[i]["id"] for i in firsts}
        fixes = []
        for i, into in later:
            into = into or first_of.get(rows[i]["scenario_id"])
            rows[i]["details"]["coalesced_into"] = into
            rows[i]["reason"] = rows[i].get("reason") or (
                f"coalesced into fire {into}, which is still waiting to run")
            fixes.append({"id": rows[i]["id"], "details": rows[i]["details"],
                          "reason": rows[i]["reason"]})
        self._update_rows(conn, fires, fixes)
        return rows

    def pending_fires(self, now: dt.datetime, limit: int) -> list[dict]:
        query = (sa.select(fires, scen.c.name.label("scenario_name"),
                           scen.c.spec.label("scenario_spec"), scen.c.enabled.label("enabled"))
                 .join(scen, scen.c.id == fires.c.scenario_id)
                 .where(fires.c.project == self.project, fires.c.status == "pending",
                        fires.c.due_at <= now).order_by(fires.c.due_at, fires.c.id).limit(limit))
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query).mappings()]

    def has_fires(self, statuses, due_by: dt.datetime | None = None) -> bool:
        query = sa.select(fires.c.id).where(fires.c.project == self.project,
                                            fires.c.status.in_(list(statuses)))
        if due_by is not None:
            query = query.where(fires.c.due_at <= due_by)
        with self.engine.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def fires_in(self, statuses) -> list[dict]:
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(self._fire_query().where(
                fires.c.project == self.project, fires.c.status.in_(list(statuses)))).mappings()]

    def get_fire(self, fire_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(self._fire_query().where(
                fires.c.id == fire_id, fires.c.project == self.project)).mappings().first()
        return _row(row) if row else None

    def list_fires(self, *, scenario_id: int | None = None, since=None, until=None,
                   limit: int = 200) -> list[dict]:
        query = self._fire_query().where(fires.c.project == self.project)
        if scenario_id is not None:
            query = query.where(fires.c.scenario_id == scenario_id)
        if since is not None:
            query = query.where(fires.c.due_at >= since)
        if until is not None:
            query = query.where(fires.c.due_at <= until)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(fires.c.due_at.desc(), fires.c.id.desc())
                                .limit(limit)).mappings().all()
        return [_row(r) for r in rows]

    def set_fire(self, fire_id: int, *, expect: str | None = None, **values) -> bool:
        """Update a fire; with `expect`, only if its status still is that (compare-and-set)."""
        with self.write() as conn:
            query = fires.update().where(fires.c.id == fire_id)
            if expect is not None:
                query = query.where(fires.c.status == expect)
            return conn.execute(query.values(**values)).rowcount == 1

    def active_scenario_runs(self) -> dict[int, int]:
        """scenario id -> its run in flight, in this project."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(runs.c.scenario_id, runs.c.id).where(
                runs.c.project == self.project, runs.c.status.in_(ACTIVE),
                runs.c.scenario_id.is_not(None))).all()
        return {sid: rid for sid, rid in rows}

    def count_active_scenario_runs(self) -> int:
        """Across every project of the store: what the global limit counts."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(runs).where(
                runs.c.status.in_(ACTIVE), runs.c.scenario_id.is_not(None))).scalar_one()

    def orphan_run(self, scenario_id: int, since: dt.datetime) -> dict | None:
        """A run of the scenario created from `since` on that no fire points at: what a launcher
        that died between creating the run and recording it left behind."""
        linked = sa.select(fires.c.run_id).where(fires.c.scenario_id == scenario_id,
                                                 fires.c.run_id.is_not(None))
        query = (sa.select(runs.c.id, runs.c.status, runs.c.started_at, runs.c.created_at)
                 .where(runs.c.project == self.project, runs.c.scenario_id == scenario_id,
                        runs.c.created_at >= since, runs.c.id.not_in(linked))
                 .order_by(runs.c.id).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _row(row) if row else None

    def record_runs(self, items: list[tuple[dict, dict]]) -> list[int]:
        """Insert run records without executing anything, and mark their fires launched:
        (fire update incl. id, run row) pairs. Used for runs that failed to start (the error is
        recorded on a run) and by the dry-run launcher."""
        if not items:
            return []
        with self.write() as conn:
            ids = self._insert_with_ids(conn, runs,
                                        [dict(run, project=self.project) for _, run in items])
            self._update_rows(conn, fires, [dict(f, run_id=rid) for (f, _), rid in zip(items, ids)])
        return list(ids)

    # -- finishing fires ------------------------------------------------------------------
    def has_finished_runs(self) -> bool:
        """A cheap read: is any launched fire's run over (or gone)?"""
        query = (sa.select(fires.c.id).outerjoin(runs, runs.c.id == fires.c.run_id)
                 .where(fires.c.project == self.project, fires.c.status == "launched",
                        sa.or_(runs.c.id.is_(None), runs.c.status.not_in(ACTIVE))).limit(1))
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def finalize(self, decide: Callable, now: dt.datetime, by: str, *, fire_id: int | None = None,
                 limit: int = 500) -> tuple[list[dict], list[dict]]:
        """Lock launched fires whose run has ended; `decide(rows, previous, watchers)` returns
        (fire updates, new fires, deliveries), applied in the same transaction."""
        with self.write() as conn:
            query = (sa.select(fires, scen.c.name.label("scenario_name"),
                               scen.c.spec.label("scenario_spec"),
                               runs.c.status.label("run_status"), runs.c.error.label("run_error"))
                     .join(scen, scen.c.id == fires.c.scenario_id)
                     .outerjoin(runs, runs.c.id == fires.c.run_id)
                     .where(fires.c.project == self.project, fires.c.status == "launched",
                            sa.or_(runs.c.id.is_(None), runs.c.status.not_in(ACTIVE))))
            if fire_id is not None:
                query = query.where(fires.c.id == fire_id)
            rows = [_row(r) for r in conn.execute(self._locked(
                query.order_by(fires.c.id).limit(limit), fires)).mappings()]
            if not rows:
                return [], []
            sids = {r["scenario_id"] for r in rows}
            last_ids = (sa.select(sa.func.max(fires.c.id)).where(
                fires.c.scenario_id.in_(sids), fires.c.status.in_(("done", "error")))
                .group_by(fires.c.scenario_id))
            previous = dict(conn.execute(sa.select(fires.c.scenario_id, fires.c.outcome)
                                         .where(fires.c.id.in_(last_ids))).all())
            watchers = [_row(r) for r in conn.execute(
                sa.select(trig.c.spec, trig.c.position, scen.c.id.label("scenario_id"),
                          scen.c.name.label("scenario_name"))
                .join(scen, scen.c.id == trig.c.scenario_id)
                .where(scen.c.project == self.project, scen.c.enabled.is_(True),
                       trig.c.kind == "run_finished")).mappings()]
            updates, new, deliveries = decide(rows, previous, watchers)
            self._update_rows(conn, fires, updates)
            created = self._insert_fires(conn, new, now, by)
            if deliveries:
                conn.execute(dl.insert(), [dict(d, project=self.project) for d in deliveries])
            return rows, created

    # -- report deliveries ----------------------------------------------------------------
    def claim_deliveries(self, now: dt.datetime, lease_seconds: float, limit: int) -> list[dict]:
        with self.write() as conn:
            query = dl.select().where(dl.c.project == self.project, sa.or_(
                sa.and_(dl.c.status == "pending", dl.c.next_attempt_at <= now),
                sa.and_(dl.c.status == "sending", dl.c.lease_until < now))
            ).order_by(dl.c.id).limit(limit)
            rows = [_row(r) for r in conn.execute(self._locked(query, dl)).mappings()]
            if rows:
                conn.execute(dl.update().where(dl.c.id.in_([r["id"] for r in rows])).values(
                    status="sending", lease_until=now + dt.timedelta(seconds=lease_seconds)))
        return rows

    def finish_delivery(self, delivery_id: int, **values) -> None:
        with self.write() as conn:
            conn.execute(dl.update().where(dl.c.id == delivery_id).values(lease_until=None,
                                                                          **values))

    def deliveries(self, fire_ids: Iterable[int] | None = None) -> list[dict]:
        query = dl.select().where(dl.c.project == self.project)
        if fire_ids is not None:
            query = query.where(dl.c.fire_id.in_(list(fire_ids)))
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query.order_by(dl.c.id)).mappings()]

    def has_deliveries_due(self, now: dt.datetime) -> bool:
        query = sa.select(dl.c.id).where(dl.c.project == self.project, sa.or_(
            sa.and_(dl.c.status == "pending", dl.c.next_attempt_at <= now),
            sa.and_(dl.c.status == "sending", dl.c.lease_until < now))).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def _insert_with_ids(self, conn, table, rows: list[dict]) -> list[int]:
        """Insert rows and return their ids in order. On PostgreSQL the ids are taken from the
        table's sequence first, then the rows go in one pipelined executemany: a 500-row
        INSERT ... RETURNING costs 3-4 times more there (the driver parses the huge statement)."""
        if self.sqlite or len(rows) < 20:
            return list(conn.execute(table.insert().returning(
                table.c.id, sort_by_parameter_order=True), rows).scalars().all())
        sequence = self._sequences.get(table.name)
        if sequence is None:
            sequence = self._sequences[table.name] = conn.execute(
                sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
        ids = list(conn.execute(sa.text("SELECT nextval(CAST(:s AS regclass)) FROM "
                                        "generate_series(1, :n)"),
                                {"s": sequence, "n": len(rows)}).scalars().all())
        conn.execute(table.insert(), [dict(r, id=i) for r, i in zip(rows, ids)])
        return ids

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def _update_rows(conn, table, updates: list[dict], version: bool = False) -> None:
        """Per-row updates keyed by `id`, grouped by the set of columns they touch."""
        groups: dict[tuple, list[dict]] = {}
        for u in updates:
            groups.setdefault(tuple(sorted(k for k in u if k != "id")), []).append(u)
        for cols, items in groups.items():
            if not cols:
                continue
            values = {c: sa.bindparam(f"v_{c}") for c in cols}
            if version:
                values["version"] = table.c.version + 1
            stmt = table.update().where(table.c.id == sa.bindparam("v_id")).values(**values)
            conn.execute(stmt, [{f"v_{k}": v for k, v in u.items()} for u in items])

