"""The store on a SQLite file and on the real PostgreSQL: migrations, runs, isolation by project."""
import datetime as dt

import pytest
import sqlalchemy as sa

from jupyter_mlprod.errors import InvalidInput, Unavailable
from jupyter_mlprod.store import RunRepository, create_store_engine, migrate
from jupyter_mlprod.store.db import HEAD

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)


def _run(**extra):
    return dict(dict(status="queued", trigger="test", created_at=NOW, parameters={"C": 0.5},
                     selection={"steps": None, "from": None}, force=False), **extra)


def _step(name, position, **extra):
    return dict(dict(step=name, path=f"{name}.ipynb", position=position, status="pending", attempt=0,
                     parameters={}), **extra)


def test_migrations_create_the_schema_once(store_url):
    engine = create_store_engine(store_url)
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        version = conn.execute(sa.text("SELECT version_num FROM mlprod_alembic_version")).scalar()
    assert {"mlprod_runs", "mlprod_step_runs"} <= tables
    assert version == HEAD


def test_runs_round_trip_and_are_scoped_by_project(store_url):
    engine = create_store_engine(store_url)
    migrate(engine)
    repo, other = RunRepository(engine, "loan"), RunRepository(engine, "other")
    run_id = repo.create_run(_run(), [_step("prep", 0), _step("train", 1)])
    other.create_run(_run(), [_step("prep", 0)])
    repo.update_step(run_id, "prep", status="succeeded", fingerprint="f1", started_at=NOW,
                     finished_at=NOW + dt.timedelta(seconds=2), outputs_digest="o1")
    repo.finish_run(run_id, "failed", NOW + dt.timedelta(seconds=5), "step train failed",
                    "skipped", "upstream failed")
    run = repo.get_run(run_id)
    assert run["status"] == "failed" and run["parameters"] == {"C": 0.5}
    assert [(s["step"], s["status"]) for s in run["steps"]] == [("prep", "succeeded"), ("train", "skipped")]
    assert run["steps"][0]["finished_at"] == NOW + dt.timedelta(seconds=2)  # timezone kept as UTC
    assert repo.list_runs(10, 0)[1] == 1 and other.list_runs(10, 0)[1] == 1
    assert repo.last_successes(["prep", "train"]) == {
        "prep": {"fingerprint": "f1", "run_id": run_id, "outputs_digest": "o1"}}
    assert other.last_successes(["prep"]) == {}
    assert other.get_run(run_id) is None
    assert repo.latest_statuses()["train"]["status"] == "skipped"


def test_a_failed_transaction_leaves_no_half_written_run(store_url):
    engine = create_store_engine(store_url)
    migrate(engine)
    repo = RunRepository(engine, "loan")
    with pytest.raises(sa.exc.IntegrityError):
        repo.create_run(_run(), [_step("prep", 0), _step("prep", 1)])  # duplicate step
    assert repo.list_runs(10, 0) == ([], 0)


def test_bad_and_unreachable_store_urls_get_clear_errors():
    with pytest.raises(InvalidInput) as info:
        create_store_engine("not a url")
    assert info.value.field == "store_url"
    with pytest.raises(Unavailable) as info:
        migrate(create_store_engine("postgresql://postgres@127.0.0.1:1/nope?connect_timeout=2"))
    assert "127.0.0.1:1" in info.value.message
