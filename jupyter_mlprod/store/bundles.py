"""Bundles, deployments, the active pointer and registered nodes. Plain dicts out."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..clock import as_utc
from .audit import insert_event
from .schema_bundles import bundle_files, bundles, deployments, node_state, nodes


class BundleRepository:
    def __init__(self, engine: Engine, owner: str):
        self.engine = engine
        self.owner = owner

    # -- bundles --------------------------------------------------------------------------
    def _insert_bundle(self, conn, row: dict, files: list[dict]) -> bool:
        exists = conn.execute(sa.select(bundles.c.pk).where(
            bundles.c.owner == self.owner, bundles.c.bundle_id == row["bundle_id"])).first()
        if exists:
            return False
        pk = conn.execute(bundles.insert().values(owner=self.owner, **row)
                          .returning(bundles.c.pk)).scalar_one()
        if files:
            conn.execute(bundle_files.insert(), [dict(f, bundle_pk=pk) for f in files])
        return True

    def add_bundle(self, row: dict, files: list[dict], at, audit: dict | None = None) -> bool:
        """Register a bundle (and its audit event) in one transaction. False if already there."""
        try:
            with self.engine.begin() as conn:
                added = self._insert_bundle(conn, row, files)
                if added and audit:
                    insert_event(conn, self.owner, at, audit)
                return added
        except IntegrityError:  # registered concurrently by another process: same content
            return False

    def get_bundle(self, bundle_id: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(bundles.select().where(bundles.c.owner == self.owner,
                                                      bundles.c.bundle_id == bundle_id)).mappings().first()
        return _bundle_dict(row) if row else None

    def find_bundle_ids(self, prefix: str) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(bundles.c.bundle_id).where(
                bundles.c.owner == self.owner, bundles.c.bundle_id.startswith(prefix)).limit(5)).scalars())

    def list_bundles(self, limit: int, offset: int) -> tuple[list[dict], int]:
        cols = [c for c in bundles.c if c.name != "manifest"]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*cols).where(bundles.c.owner == self.owner)
                                .order_by(bundles.c.pk.desc()).limit(limit).offset(offset)).mappings().all()
            total = conn.execute(sa.select(sa.func.count()).select_from(bundles)
                                 .where(bundles.c.owner == self.owner)).scalar_one()
        return [_bundle_dict(r) for r in rows], total

    def latest_bundle_id(self) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(bundles.c.bundle_id).where(bundles.c.owner == self.owner)
                                .order_by(bundles.c.pk.desc()).limit(1)).scalar()

    def referenced_blobs(self) -> set[str]:
        """Every blob any registered bundle of any owner in this store needs."""
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(bundle_files.c.sha256).distinct()).scalars())

    # -- deployments ----------------------------------------------------------------------
    def activate(self, *, bundle_row: dict | None, files: list[dict], deployment: dict, at,
                 audit: list[dict]) -> dict:
        """The atomic switch: register the bundle if new, insert the deployment, supersede the
        previous one, move the node's pointer and write the audit events, in ONE transaction."""
        with self.engine.begin() as conn:
            if bundle_row is not None:
                self._insert_bundle(conn, bundle_row, files)
            state = conn.execute(node_state.select().where(node_state.c.owner == self.owner)
                                 .with_for_update()).mappings().first()
            previous_id = state["active_deployment_id"] if state else None
            new_id = conn.execute(deployments.insert().values(
                owner=self.owner, status="active", created_at=at, **deployment)
                .returning(deployments.c.id)).scalar_one()
            if previous_id is not None:
                conn.execute(deployments.update().where(deployments.c.id == previous_id)
                             .values(status="superseded", superseded_at=at))
            if state:
                conn.execute(node_state.update().where(node_state.c.owner == self.owner)
                             .values(active_deployment_id=new_id, updated_at=at))
            else:
                conn.execute(node_state.insert().values(owner=self.owner,
                                                        active_deployment_id=new_id, updated_at=at))
            for event in audit:
                insert_event(conn, self.owner, at, dict({"object_id": str(new_id)}, **event))
        return self.get_deployment(new_id)

    def active_deployment(self) -> dict | None:
        query = (sa.select(deployments).join(node_state, node_state.c.active_deployment_id ==
                                             deployments.c.id)
                 .where(node_state.c.owner == self.owner))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _deployment_dict(row) if row else None

    def get_deployment(self, deployment_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(deployments.select().where(
                deployments.c.owner == self.owner, deployments.c.id == deployment_id)).mappings().first()
        return _deployment_dict(row) if row else None

    def list_deployments(self, limit: int, offset: int = 0) -> tuple[list[dict], int]:
        with self.engine.connect() as conn:
            rows = conn.execute(deployments.select().where(deployments.c.owner == self.owner)
                                .order_by(deployments.c.id.desc()).limit(limit).offset(offset)
                                ).mappings().all()
            total = conn.execute(sa.select(sa.func.count()).select_from(deployments)
                                 .where(deployments.c.owner == self.owner)).scalar_one()
        return [_deployment_dict(r) for r in rows], total

    def deployment_trees(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(deployments.c.tree).where(
                deployments.c.owner == self.owner)).scalars())

    # -- registered nodes -----------------------------------------------------------------
    def upsert_node(self, name: str, url: str, token_env: str | None, at,
                    audit: dict | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(nodes.delete().where(nodes.c.owner == self.owner, nodes.c.name == name))
            conn.execute(nodes.insert().values(owner=self.owner, name=name, url=url,
                                               token_env=token_env, created_at=at))
            if audit:
                insert_event(conn, self.owner, at, audit)

    def get_node(self, name: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(nodes.select().where(nodes.c.owner == self.owner,
                                                    nodes.c.name == name)).mappings().first()
        return dict(row, created_at=as_utc(row["created_at"])) if row else None

    def list_nodes(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(nodes.select().where(nodes.c.owner == self.owner)
                                .order_by(nodes.c.name)).mappings().all()
        return [dict(r, created_at=as_utc(r["created_at"])) for r in rows]

    def delete_node(self, name: str, audit: dict | None = None) -> bool:
        with self.engine.begin() as conn:
            deleted = conn.execute(nodes.delete().where(nodes.c.owner == self.owner,
                                                        nodes.c.name == name)).rowcount > 0
            if deleted and audit:
                insert_event(conn, self.owner, None, audit)
            return deleted


def _bundle_dict(row) -> dict:
    data = dict(row)
    data.pop("pk", None)
    for key in ("created_at", "registered_at"):
        data[key] = as_utc(data[key])
    return data


def _deployment_dict(row) -> dict:
    data = dict(row)
    for key in ("created_at", "superseded_at"):
        data[key] = as_utc(data[key])
    return data
