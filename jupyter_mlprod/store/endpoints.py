"""Endpoints, versions, traffic history, keys, prediction logs and running servers.

Every write is one short transaction. Anything a running server must notice (versions, traffic,
keys, options) bumps the endpoint's `revision`; servers poll `revisions()` (one cheap query)
and reload only the endpoints whose revision moved."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..clock import as_utc
from ..errors import Conflict
from .audit import insert_event
from .schema_serving import (endpoint_keys, endpoint_traffic, endpoint_versions, endpoints,
                             predictions, serving_servers)

class EndpointRepository:
    def __init__(self, engine: Engine, project: str):
        self.engine = engine
        self.project = project

    # -- endpoints ------------------------------------------------------------------------
    def create_endpoint(self, name: str, description: str, options: dict, now: dt.datetime,
                        audit: dict | None = None) -> int:
        try:
            with self.engine.begin() as conn:
                endpoint_id = conn.execute(endpoints.insert().values(
                    project=self.project, name=name, description=description, options=options,
                    traffic=None, traffic_id=None, revision=1, created_at=now, updated_at=now)
                    .returning(endpoints.c.id)).scalar_one()
                if audit:
                    insert_event(conn, self.project, None, audit)
                return endpoint_id
        except sa.exc.IntegrityError:
            raise Conflict(f"endpoint {name!r} already exists", field="name",
                           code="duplicate_endpoint") from None

    def get_endpoint(self, name: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(endpoints.select().where(
                endpoints.c.project == self.project, endpoints.c.name == name)).mappings().first()
        return _dates(dict(row), "created_at", "updated_at") if row else None

    def list_endpoints(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(endpoints.select().where(endpoints.c.project == self.project)
                                .order_by(endpoints.c.name)).mappings().all()
        return [_dates(dict(r), "created_at", "updated_at") for r in rows]

    def update_endpoint(self, endpoint_id: int, now: dt.datetime, audit: dict | None = None,
                        **values) -> None:
        with self.engine.begin() as conn:
            conn.execute(endpoints.update().where(endpoints.c.id == endpoint_id).values(
                revision=endpoints.c.revision + 1, updated_at=now, **values))
            if audit:
                insert_event(conn, self.project, None, audit)

    def delete_endpoint(self, endpoint_id: int, audit: dict | None = None) -> None:
        with self.engine.begin() as conn:
            for table in (predictions, endpoint_keys, endpoint_traffic, endpoint_versions):
                conn.execute(table.delete().where(table.c.endpoint_id == endpoint_id))
            conn.execute(endpoints.delete().where(endpoints.c.id == endpoint_id))
            if audit:
                insert_event(conn, self.project, None, audit)

    def revisions(self, names: list[str] | None = None) -> dict[str, int]:
        """name -> revision: what a server polls."""
        query = sa.select(endpoints.c.name, endpoints.c.revision).where(
            endpoints.c.project == self.project)
        if names is not None:
            query = query.where(endpoints.c.name.in_(names))
        with self.engine.connect() as conn:
            return {r.name: r.revision for r in conn.execute(query)}

    # -- versions -------------------------------------------------------------------------
    def add_version(self, endpoint_id: int, row: dict, now: dt.datetime,
                    audit: dict | None = None) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(endpoint_versions.insert().values(
                    endpoint_id=endpoint_id, created_at=now, status="new", **row))
                conn.execute(endpoints.update().where(endpoints.c.id == endpoint_id).values(
                    revision=endpoints.c.revision + 1, updated_at=now))
                if audit:
                    insert_event(conn, self.project, None, audit)
        except sa.exc.IntegrityError:
            raise Conflict(f"version {row['version']!r} already exists", field="version",
                           code="duplicate_version") from None

    def list_versions(self, endpoint_id: int) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(endpoint_versions.select()
                                .where(endpoint_versions.c.endpoint_id == endpoint_id)
                                .order_by(endpoint_versions.c.id)).mappings().all()
        return [_dates(dict(r), "created_at", "checked_at") for r in rows]

    def get_versions(self, endpoint_id: int, versions: list[str]) -> dict[str, dict]:
        """Full rows (with the cell spec) of the named versions."""
        if not versions:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(endpoint_versions.select().where(
                endpoint_versions.c.endpoint_id == endpoint_id,
                endpoint_versions.c.version.in_(versions))).mappings().all()
        return {r["version"]: _dates(dict(r), "created_at", "checked_at") for r in rows}

    def count_versions(self, endpoint_id: int) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(endpoint_versions)
                                .where(endpoint_versions.c.endpoint_id == endpoint_id)).scalar_one()

    def set_version_status(self, endpoint_id: int, version: str, status: str, error: str | None,
                           now: dt.datetime) -> None:
        """Written by servers after loading a version; does not bump the revision."""
        with self.engine.begin() as conn:
            conn.execute(endpoint_versions.update().where(
                endpoint_versions.c.endpoint_id == endpoint_id,
                endpoint_versions.c.version == version).values(
                status=status, error=error, checked_at=now))

    # -- traffic --------------------------------------------------------------------------
    def set_traffic(self, endpoint_id: int, traffic: dict, previous_id: int | None, reason: str,
                    now: dt.datetime, audit: dict | None = None) -> int:
        with self.engine.begin() as conn:
            entry = conn.execute(endpoint_traffic.insert().values(
                endpoint_id=endpoint_id, traffic=traffic, previous_id=previous_id, reason=reason,
                created_at=now).returning(endpoint_traffic.c.id)).scalar_one()
            conn.execute(endpoints.update().where(endpoints.c.id == endpoint_id).values(
                traffic=traffic, traffic_id=entry, revision=endpoints.c.revision + 1,
                updated_at=now))
            if audit:
                insert_event(conn, self.project, None, audit)
        return entry

    def traffic_entry(self, entry_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(endpoint_traffic.select().where(
                endpoint_traffic.c.id == entry_id)).mappings().first()
        return _dates(dict(row), "created_at") if row else None

    def traffic_history(self, endpoint_id: int, limit: int) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(endpoint_traffic.select()
                                .where(endpoint_traffic.c.endpoint_id == endpoint_id)
                                .order_by(endpoint_traffic.c.id.desc()).limit(limit)).mappings().all()
        return [_dates(dict(r), "created_at") for r in rows]

    # -- keys -----------------------------------------------------------------------------
    def add_key(self, endpoint_id: int, key_id: str, label: str, key_hash: str,
                now: dt.datetime, audit: dict | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(endpoint_keys.insert().values(endpoint_id=endpoint_id, key_id=key_id,
                                                       label=label, hash=key_hash, created_at=now))
            conn.execute(endpoints.update().where(endpoints.c.id == endpoint_id).values(
                revision=endpoints.c.revision + 1))
            if audit:
                insert_event(conn, self.project, None, audit)

    def list_keys(self, endpoint_id: int) -> list[dict]:
        columns = [endpoint_keys.c.key_id, endpoint_keys.c.label, endpoint_keys.c.created_at,
                   endpoint_keys.c.revoked_at]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*columns).where(endpoint_keys.c.endpoint_id == endpoint_id)
                                .order_by(endpoint_keys.c.id)).mappings().all()
        return [_dates(dict(r), "created_at", "revoked_at") for r in rows]

    def revoke_key(self, endpoint_id: int, key_id: str, now: dt.datetime,
                   audit: dict | None = None) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(endpoint_keys.update().where(
                endpoint_keys.c.endpoint_id == endpoint_id, endpoint_keys.c.key_id == key_id,
                endpoint_keys.c.revoked_at.is_(None)).values(revoked_at=now)).rowcount
            if done:
                conn.execute(endpoints.update().where(endpoints.c.id == endpoint_id).values(
                    revision=endpoints.c.revision + 1))
                if audit:
                    insert_event(conn, self.project, None, audit)
        return bool(done)

    def active_key_hashes(self, endpoint_id: int) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(endpoint_keys.c.hash).where(
                endpoint_keys.c.endpoint_id == endpoint_id,
                endpoint_keys.c.revoked_at.is_(None))).scalars())

    # -- prediction log -------------------------------------------------------------------
    def append_predictions(self, rows: list[dict]) -> None:
        if rows:
            with self.engine.begin() as conn:
                conn.execute(predictions.insert(), rows)

    def list_predictions(self, endpoint_id: int, limit: int, offset: int,
                         version: str | None = None, shadow: bool | None = None) -> tuple[list[dict], int]:
        where = [predictions.c.endpoint_id == endpoint_id]
        if version is not None:
            where.append(predictions.c.version == version)
        if shadow is not None:
            where.append(predictions.c.shadow == shadow)
        with self.engine.connect() as conn:
            rows = conn.execute(predictions.select().where(*where).order_by(predictions.c.id.desc())
                                .limit(limit).offset(offset)).mappings().all()
            total = conn.execute(sa.select(sa.func.count()).select_from(predictions)
                                 .where(*where)).scalar_one()
        return [_dates(dict(r), "at") for r in rows], total

    # -- servers --------------------------------------------------------------------------
    def register_server(self, row: dict) -> None:
        with self.engine.begin() as conn:
            conn.execute(serving_servers.insert().values(project=self.project, **row))

    def heartbeat_server(self, server_id: str, now: dt.datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(serving_servers.update().where(serving_servers.c.server_id == server_id)
                         .values(heartbeat_at=now))

    def remove_server(self, server_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(serving_servers.delete().where(serving_servers.c.server_id == server_id))

    def list_servers(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(serving_servers.select().where(
                serving_servers.c.project == self.project).order_by(serving_servers.c.id)).mappings().all()
        return [_dates(dict(r), "started_at", "heartbeat_at") for r in rows]


def _dates(row: dict, *keys: str) -> dict:
    for key in keys:
        row[key] = as_utc(row[key])
    return row
