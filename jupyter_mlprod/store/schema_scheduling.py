"""Tables of scenarios (issue: scenarios). Changing them means a new Alembic revision.

- scenarios: the saved spec (triggers, what to run, reporters, policies) and its version;
- scenario triggers: one row per trigger with its persisted state (next due time for cron and
  interval, next poll and last fingerprint for files and SQL);
- scenario fires: one row per due fire, unique on (scenario, due_key), so a fire is created
  exactly once whatever number of schedulers share the store; it links to the run it started;
- report deliveries: one row per (fire, reporter) to send, retried with backoff.
"""
from __future__ import annotations

import sqlalchemy as sa

from .schema import metadata

_TS = sa.DateTime(timezone=True)

scenarios = sa.Table(
    "mlprod_scenarios", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("updated_at", _TS, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=True),
    sa.Column("updated_by", sa.String(200), nullable=True),
    sa.UniqueConstraint("project", "name", name="uq_mlprod_scenarios_project_name"),
)

scenario_triggers = sa.Table(
    "mlprod_scenario_triggers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scenario_id", sa.Integer, sa.ForeignKey("mlprod_scenarios.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("next_at", _TS, nullable=True),        # next due (cron, interval) or next poll
    sa.Column("anchor_at", _TS, nullable=True),      # interval anchor
    sa.Column("fingerprint", sa.String(64), nullable=True),
    sa.Column("state", sa.JSON, nullable=True),      # e.g. per-file digests for "what changed"
    sa.Column("last_fired_at", _TS, nullable=True),
    sa.Column("last_checked_at", _TS, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("error_since", _TS, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.UniqueConstraint("scenario_id", "key", name="uq_mlprod_scenario_triggers_key"),
)
sa.Index("ix_mlprod_scenario_triggers_next_at", scenario_triggers.c.next_at)
sa.Index("ix_mlprod_scenario_triggers_scenario_id", scenario_triggers.c.scenario_id)

scenario_fires = sa.Table(
    "mlprod_scenario_fires", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("scenario_id", sa.Integer, sa.ForeignKey("mlprod_scenarios.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("trigger_position", sa.Integer, nullable=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("due_at", _TS, nullable=False),
    sa.Column("due_key", sa.String(160), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("parent_id", sa.Integer, nullable=True),
    sa.Column("details", sa.JSON, nullable=True),
    sa.Column("created_by", sa.String(200), nullable=True),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("claimed_by", sa.String(200), nullable=True),
    sa.Column("claimed_at", _TS, nullable=True),
    sa.Column("started_at", _TS, nullable=True),
    sa.Column("finished_at", _TS, nullable=True),
    sa.UniqueConstraint("scenario_id", "due_key", name="uq_mlprod_scenario_fires_due"),
)
sa.Index("ix_mlprod_scenario_fires_project_status", scenario_fires.c.project, scenario_fires.c.status)
sa.Index("ix_mlprod_scenario_fires_scenario_due", scenario_fires.c.scenario_id, scenario_fires.c.due_at)
sa.Index("ix_mlprod_scenario_fires_due_at", scenario_fires.c.due_at)
sa.Index("ix_mlprod_scenario_fires_run_id", scenario_fires.c.run_id)

report_deliveries = sa.Table(
    "mlprod_report_deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("fire_id", sa.Integer, sa.ForeignKey("mlprod_scenario_fires.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("scenario_id", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("reporter", sa.JSON, nullable=False),   # the reporter's spec when the fire ended
    sa.Column("report", sa.JSON, nullable=False),     # the message's facts (no secrets)
    sa.Column("status", sa.String(20), nullable=False),  # pending | sending | sent | failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", _TS, nullable=True),
    sa.Column("lease_until", _TS, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("sent_at", _TS, nullable=True),
    sa.UniqueConstraint("fire_id", "position", name="uq_mlprod_report_deliveries_fire_pos"),
)
sa.Index("ix_mlprod_report_deliveries_due", report_deliveries.c.project, report_deliveries.c.status,
         report_deliveries.c.next_attempt_at)

# -- scenario steps (issue 11): one row per step of a scenario run (a fire with steps), and the
# decision on its approve steps. A step's `values` carry what resuming needs (the run it
# started, the deploy's idempotency key), so a replaced scheduler continues where it stopped.
scenario_step_runs = sa.Table(
    "mlprod_scenario_step_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("fire_id", sa.Integer, sa.ForeignKey("mlprod_scenario_fires.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("started_at", _TS, nullable=True),
    sa.Column("finished_at", _TS, nullable=True),
    sa.Column("values", sa.JSON, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.UniqueConstraint("fire_id", "position", name="uq_mlprod_scenario_step_runs_pos"),
)

scenario_approvals = sa.Table(
    "mlprod_scenario_approvals", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("fire_id", sa.Integer, sa.ForeignKey("mlprod_scenario_fires.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("decision", sa.String(10), nullable=False),
    sa.Column("decided_by", sa.String(200), nullable=True),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("decided_at", _TS, nullable=False),
    sa.UniqueConstraint("fire_id", "position", name="uq_mlprod_scenario_approvals_pos"),
)
