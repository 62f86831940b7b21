"""Scenario steps end to end (issue 11), real parts only: a design project whose `retrain`
scenario runs train -> check -> compare with the champion on node `prod` -> bundle -> approve
-> deploy to nodes `staging` and `prod` (two node processes on loopback, their authenticated
API) -> canary on the served `score` endpoint -> promote. Scheduler processes are killed with
SIGKILL during a deploy and during an approval wait; their replacements resume without
deploying twice. The tests of this module run in order on one shared world."""
from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import sqlalchemy as sa

from jupyter_mlprod.audit import acting_as
from jupyter_mlprod.errors import Conflict, Forbidden
from jupyter_mlprod.project import Project
from jupyter_mlprod.store.schema_scheduling import scenario_approvals, scenario_step_runs

from .conftest import wait_for

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
from conftest import write_step  # noqa: E402
from serving.serving_helpers import write_scoring_notebook  # noqa: E402


def _node_process_class():
    spec = importlib.util.spec_from_file_location("bundles_fixtures",
                                                  REPO / "tests" / "bundles" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.NodeProcess


STEPS = [
    {"kind": "run"},
    {"kind": "check", "checks": [{"metric": "auc", "min": 0.85}]},
    {"kind": "compare", "target": {"node": "prod"},
     "metrics": {"auc": {"greater_is_better": True, "min_absolute_change": 0.0}}},
    {"kind": "bundle", "message": "retrain: run {run_id}, auc {auc}"},
    {"kind": "approve", "name": "ok", "approvers": ["alice"], "timeout": 3600},
    {"kind": "deploy", "name": "staging", "target": {"node": "staging"}},
    {"kind": "deploy", "name": "prod", "target": {"node": "prod"}},
    {"kind": "endpoint", "endpoint": "score", "mode": "canary", "weight": 10,
     "promote_after": {"requests": 3, "max_errors": 0}},
    {"kind": "notify", "if": "failure", "message": "candidate lost or failed: auc {auc}"},
]


class World:
    def __init__(self, root: Path, tmp: Path):
        self.root, self.tmp = root, tmp
        self.procs: list[subprocess.Popen] = []
        self.env = {}

    def scheduler(self, name: str) -> subprocess.Popen:
        log = open(self.tmp / f"scheduler-{name}.log", "w")
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", **self.env)
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_mlprod.scheduling", "--root", str(self.root),
             "--name", name, "--poll-interval", "0.1"], stdout=log, stderr=subprocess.STDOUT,
            env=env, cwd=str(self.root), start_new_session=True)
        self.procs.append(proc)
        return proc

    def kill9(self, proc) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def step_rows(self, fire_id: int) -> list[dict]:
        with self.project.engine.connect() as conn:
            return [dict(r) for r in conn.execute(
                sa.select(scenario_step_runs).where(scenario_step_runs.c.fire_id == fire_id)
                .order_by(scenario_step_runs.c.position)).mappings()]

    def trigger(self, auc: float) -> int:
        (self.root / "data" / "auc.txt").write_text(str(auc))
        return self.project.scenarios.trigger("retrain")["id"]

    def run(self, fire_id: int) -> dict:
        return self.project.scenario_runs.get(fire_id)

    def until(self, fire_id: int, statuses, timeout: float = 90) -> dict:
        return wait_for(lambda: (v := self.run(fire_id))["status"] in statuses and v, timeout,
                        interval=0.05, message=f"scenario run {fire_id} to be {statuses}")

    def deployments(self, node: str) -> list[dict]:
        return self.project.bundles.deployments(node)["deployments"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("steps")
    root = tmp / "design"
    (root / "data").mkdir(parents=True)
    (root / "data" / "auc.txt").write_text("0.9")
    # a bundle large enough that uploading it takes a moment: the kill lands during the deploy
    (root / "data" / "history.bin").write_bytes(os.urandom(24 * 1024 * 1024))
    path = write_step(root, "train", [
        "import os\nimport jupyter_mlprod as mlprod",
        "auc = float(open('data/auc.txt').read())\nos.makedirs('models', exist_ok=True)\n"
        "open('models/model.txt', 'w').write(str(auc))\nmlprod.log_metric('auc', auc)"],
        inputs=["data/auc.txt", "data/history.bin"], outputs=["models/model.txt"])
    nb = nbformat.read(path, 4)
    nb.metadata["mlprod"]["checks"] = [{"metric": "auc", "min": 0.5}]
    nbformat.write(nb, path)
    write_scoring_notebook(root / "score.ipynb", setup=[
        "import os\nAUC = open('models/model.txt').read() if os.path.exists('models/model.txt') "
        "else 'working'"], sample="request = {}", score="response = {'model': AUC}")
    world = World(root, tmp)
    project = world.project = Project.create(root, name="steps")
    NodeProcess = _node_process_class()
    nodes, world.server = {}, None
    try:   # whatever was started is stopped, even when the setup fails half way
        for name in ("staging", "prod"):
            (tmp / name).mkdir()
            nodes[name] = NodeProcess(tmp / name, secrets.token_urlsafe(24), None, None)
            nodes[name].start()
            env = f"{name.upper()}_NODE_TOKEN"
            world.env[env] = os.environ[env] = nodes[name].token
            project.bundles.register_node(name, nodes[name].url, env)
        project.endpoints.create("score", notebook="score.ipynb")
        project.scenarios.create({"name": "retrain", "triggers": [{"type": "manual"}],
                                  "steps": STEPS})
        world.server = project.endpoints.serve("score", workers=1, poll_interval=0.2)
        yield world
    finally:
        for proc in world.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(10)
        if world.server is not None:
            world.server.stop()
        for node in nodes.values():
            node.stop()
        project.close()
        for name in ("staging", "prod"):
            os.environ.pop(f"{name.upper()}_NODE_TOKEN", None)


def test_better_candidate_is_approved_deployed_once_despite_kill_9_and_takes_canary_traffic(world):
    first = world.scheduler("first")
    fire_id = world.trigger(0.90)
    run = world.until(fire_id, ("waiting_approval",))
    compare = run["steps"][2]
    assert compare["comparison"][0]["champion"] is None and compare["status"] == "succeeded"
    assert compare["values"]["note"] == "no champion yet: the candidate wins"
    assert world.deployments("staging") == []
    with acting_as("mallory"), pytest.raises(Forbidden):
        world.project.scenario_runs.decide(fire_id, "approve")
    with acting_as("alice"):
        world.project.scenario_runs.decide(fire_id, "approve", "looks good")
        again = world.project.scenario_runs.decide(fire_id, "approve", "looks good")  # once
    assert again["steps"][4]["approval"]["decision"] == "approve"
    # the scheduler is killed while the staging deploy (step 5) is in flight
    wait_for(lambda: world.step_rows(fire_id)[5]["values"].get("key"), 60, interval=0.002,
             message="the staging deploy to record its idempotency key")
    world.kill9(first)
    assert world.step_rows(fire_id)[5]["values"]["key"] == f"scenario-run {fire_id} step 5"
    world.scheduler("second")
    run = world.until(fire_id, ("running", "succeeded", "failed"), 60)
    run = wait_for(lambda: (v := world.run(fire_id))["steps"][7]["status"] != "pending" and v, 60,
                   message="the endpoint step")
    bundle_id = run["steps"][3]["values"]["bundle_id"]
    for node in ("staging", "prod"):   # deployed exactly once on each node, through its API
        mine = [d for d in world.deployments(node) if f"scenario-run {fire_id}" in d["message"]]
        assert [d["bundle_id"] for d in mine] == [bundle_id], node
    manifest = world.project.bundles.manifest(bundle_id)
    assert manifest["metrics"]["values"]["auc"] == 0.90   # the champion's metrics, kept
    # the new version takes 10 % of the traffic, then is promoted after 3 clean requests
    version = wait_for(lambda: world.run(fire_id)["steps"][7]["values"].get("version"), 30,
                       message="the canary version")
    traffic = world.project.endpoints.get("score")["traffic"]["weights"]
    assert traffic[version] == 10
    seen = set()

    def served():
        for _ in range(10):
            seen.add(world.server.request("score", {})["body"]["model"])
        return world.run(fire_id)["status"] == "succeeded"

    wait_for(served, 90, interval=0.05, message="the canary to be promoted")
    assert "0.9" in seen
    assert world.project.endpoints.get("score")["traffic"]["weights"] == {version: 100}
    run = world.run(fire_id)
    assert [s["status"] for s in run["steps"]] == ["succeeded"] * 8 + ["skipped"]
    with acting_as("alice"), pytest.raises(Conflict):   # the run is over
        world.project.scenario_runs.decide(fire_id, "approve")
    events = world.project.audit_trail.list(limit=500)["events"]
    grant = [e for e in events if e["action"] == "approval.grant" and e["outcome"] == "ok"]
    assert [(e["actor"], e["object_id"]) for e in grant] == [("alice", str(fire_id))]
    assert [e for e in events if e["action"] == "approval.grant" and e["outcome"] == "refused"
            and e["actor"] == "mallory"]
    steps_audited = {(e["details"].get("step"), (e["after"] or {}).get("status"))
                     for e in events if e["action"] == "scenario.step"}
    assert ("staging", "succeeded") in steps_audited and ("ok", "waiting") in steps_audited


def test_worse_candidate_stops_at_compare_and_nothing_is_deployed(world):
    before = {n: len(world.deployments(n)) for n in ("staging", "prod")}
    fire_id = world.trigger(0.88)
    run = world.until(fire_id, ("failed",), 90)
    statuses = [s["status"] for s in run["steps"]]
    assert statuses == ["succeeded", "succeeded", "failed"] + ["skipped"] * 5 + ["succeeded"]
    row = run["steps"][2]["comparison"][0]
    assert (row["metric"], row["candidate"], row["champion"], row["passed"]) == \
        ("auc", 0.88, 0.90, False)
    assert run["error"].startswith("candidate lost: auc 0.88 vs champion 0.9")
    assert run["steps"][8]["values"]["message"] == "candidate lost or failed: auc 0.88"
    assert {n: len(world.deployments(n)) for n in ("staging", "prod")} == before


def test_approval_survives_kill_9_counts_once_and_rejection_stops_before_deploy(world):
    before = {n: len(world.deployments(n)) for n in ("staging", "prod")}
    fire_id = world.trigger(0.95)
    world.until(fire_id, ("waiting_approval",), 90)
    for proc in world.procs:
        if proc.poll() is None:
            world.kill9(proc)
    world.scheduler("third")
    with acting_as("alice"):
        world.project.scenario_runs.decide(fire_id, "reject", "not on a Friday")
        world.project.scenario_runs.decide(fire_id, "reject", "not on a Friday")  # counted once
    run = world.until(fire_id, ("rejected",), 60)
    assert run["steps"][4]["approval"]["decision"] == "reject"
    assert run["steps"][4]["approval"]["decided_by"] == "alice"
    assert [s["status"] for s in run["steps"][5:]] == ["skipped"] * 4
    assert run["error"] == "rejected by alice: not on a Friday"
    with world.project.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(scenario_approvals).where(
            scenario_approvals.c.fire_id == fire_id)).scalar() == 1
    assert {n: len(world.deployments(n)) for n in ("staging", "prod")} == before
