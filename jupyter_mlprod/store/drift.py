"""Reference profiles, endpoint-version metrics (drift, live performance) and feedback labels."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..clock import as_utc
from .schema_drift import drift_profiles, endpoint_metrics, feedback


class DriftRepository:
    def __init__(self, engine: Engine, project: str):
        self.engine = engine
        self.project = project

    # -- profiles -------------------------------------------------------------------------
    def save_profile(self, endpoint_id: int, version: str, profile: dict, at: dt.datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(drift_profiles.delete().where(drift_profiles.c.endpoint_id == endpoint_id,
                                                       drift_profiles.c.version == version))
            conn.execute(drift_profiles.insert().values(
                endpoint_id=endpoint_id, version=version, source=profile["source"],
                profile=profile, created_at=at))

    def profile(self, endpoint_id: int, version: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(drift_profiles.c.profile).where(
                drift_profiles.c.endpoint_id == endpoint_id,
                drift_profiles.c.version == version)).first()
        return None if row is None else row.profile

    # -- metrics --------------------------------------------------------------------------
    def record_metrics(self, endpoint_id: int, version: str, values: dict[str, float | None],
                       at: dt.datetime) -> None:
        if values:
            with self.engine.begin() as conn:
                conn.execute(endpoint_metrics.insert(), [
                    {"endpoint_id": endpoint_id, "version": version, "name": name,
                     "value": value, "at": at} for name, value in values.items()])

    def metrics(self, endpoint_id: int, version: str, prefix: str | None = None,
                limit: int = 20_000) -> list[dict]:
        query = sa.select(endpoint_metrics.c.name, endpoint_metrics.c.value,
                          endpoint_metrics.c.at).where(
            endpoint_metrics.c.endpoint_id == endpoint_id, endpoint_metrics.c.version == version)
        if prefix:
            query = query.where(endpoint_metrics.c.name.startswith(prefix, autoescape=True))
        query = query.order_by(endpoint_metrics.c.at, endpoint_metrics.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [{"name": r.name, "value": r.value, "at": as_utc(r.at)}
                    for r in conn.execute(query)]

    # -- feedback -------------------------------------------------------------------------
    def append_labels(self, rows: list[dict]) -> None:
        if rows:
            with self.engine.begin() as conn:
                conn.execute(feedback.insert(), rows)

    def labels(self, endpoint_id: int, version: str) -> dict[str, float]:
        """prediction id -> label (the latest one sent)."""
        query = (sa.select(feedback.c.prediction_id, feedback.c.label)
                 .where(feedback.c.endpoint_id == endpoint_id, feedback.c.version == version)
                 .order_by(feedback.c.id))
        with self.engine.connect() as conn:
            return {r.prediction_id: r.label for r in conn.execute(query)}
