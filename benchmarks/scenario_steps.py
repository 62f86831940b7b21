"""Scenario steps benchmark (issue 11).

1. The example's `retrain` loop, end to end on real parts: a copy of example_notebooks/, one
   production node process on loopback (its authenticated API), the endpoint `score`; the
   scenario is triggered and carried out by an in-process Scheduler running its threads (real
   clock, poll interval 0.2 s, woken by its runs); the approval is given as soon as it is asked for and its wait is subtracted. Figure:
   trigger -> canary deployed (the endpoint step has put the new version at 10 %), and each
   step's own duration, against the anchor measured in the same run: the same pipeline
   selection run by hand (`start_run(force=True, wait=True)`), after a warm-up run by hand
   (the scenario's run step is forced too).
2. The scheduler's overhead per step: a scenario of N `notify` steps without reporters (each
   step does nothing but be recorded: status changes, audit events, values), carried out by
   `Scheduler.tick()`. Figure: wall time / N, against the anchor measured in the same run: an
   in-process `papermill.execute_notebook` of a trivial 2-cell notebook (the cost of the
   cheapest real step; 0.66 s in /work/shared/benchmarks.md).

Usage: .venv/bin/python benchmarks/scenario_steps.py [--steps 50] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from bundles import start_node  # noqa: E402 - the node process of the bundles benchmark


def example_loop(tmp: Path) -> dict:
    from jupyter_mlprod.project import Project
    from jupyter_mlprod.scheduling import Scheduler

    root = tmp / "loan"
    shutil.copytree(REPO / "example_notebooks", root, ignore=shutil.ignore_patterns(
        ".mlprod", "data", "models", "reports", ".ipynb_checkpoints"))
    token = secrets.token_urlsafe(24)
    node, url = start_node(tmp / "production", token)
    os.environ["PROD_NODE_TOKEN"] = token
    project = Project(root)
    try:
        project.bundles.register_node("production", url, "PROD_NODE_TOKEN")
        project.endpoints.create("score", notebook="score.ipynb")
        spec = yaml.safe_load((root / "scenarios" / "retrain.yaml").read_text())
        spec["steps"][0]["force"] = True   # the steps execute, though their inputs are unchanged
        project.scenarios.create(spec)
        selection = dict(steps=["prepare", "train", "evaluate"], force=True, wait=True)
        project.start_run(**selection)     # warm-up: the process pool, imports, disk caches
        scheduler = Scheduler(project, poll_interval=0.2).start()   # its own threads, as deployed
        start = time.perf_counter()
        fire_id = project.scenarios.trigger("retrain")["id"]
        waited = 0.0
        while True:
            view = project.scenario_runs.get(fire_id)
            if view["status"] == "waiting_approval":
                asked = time.perf_counter()
                project.scenario_runs.decide(fire_id, "approve")
                waited += time.perf_counter() - asked
            canary = len(view["steps"]) > 6 and view["steps"][6]["values"].get("version")
            if canary or view["status"] not in (
                    "pending", "running", "waiting_approval"):
                break
            time.sleep(0.1)
        total = time.perf_counter() - start - waited
        scheduler.stop(5)
        steps = {s["name"]: _seconds(s) for s in view["steps"]}
        # anchor: the same pipeline selection run by hand, every step executed again
        t = time.perf_counter()
        project.start_run(**selection)
        by_hand = time.perf_counter() - t
        return {"status": view["status"], "trigger_to_canary_s": round(total, 2),
                "same_run_by_hand_s": round(by_hand, 2),
                "ratio_to_run_by_hand": round(total / by_hand, 3),
                "steps_s": steps, "roc_auc": view["steps"][0]["values"]["metrics"].get("roc_auc")}
    finally:
        project.close()
        node.terminate()
        node.wait(15)


def _seconds(step: dict):
    import datetime as dt

    if not step["started_at"] or not step["finished_at"]:
        return None
    a, b = (dt.datetime.fromisoformat(step[k].replace("Z", "+00:00"))
            for k in ("started_at", "finished_at"))
    return round((b - a).total_seconds(), 3)


def overhead(tmp: Path, n: int, rounds: int) -> dict:
    import nbformat
    import papermill

    from jupyter_mlprod.project import Project
    from jupyter_mlprod.scheduling import Scheduler

    root = tmp / "overhead"
    root.mkdir()
    project = Project.create(root, name="overhead")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("y = x + 1")]
    nbformat.write(nb, tmp / "trivial.ipynb")
    project.scenarios.create({"name": "many", "triggers": [{"type": "manual"}],
                              "steps": [{"kind": "notify", "message": f"step {i}"}
                                        for i in range(n)]})
    scheduler = Scheduler(project, poll_interval=0.05)
    per_step, anchor = [], []
    try:
        for _ in range(rounds):
            t = time.perf_counter()
            papermill.execute_notebook(str(tmp / "trivial.ipynb"), str(tmp / "out.ipynb"),
                                       kernel_name="python3", progress_bar=False)
            anchor.append(time.perf_counter() - t)
            t = time.perf_counter()
            fire_id = project.scenarios.trigger("many")["id"]
            while project.scenario_runs.get(fire_id)["status"] != "succeeded":
                scheduler.tick()
            per_step.append((time.perf_counter() - t) / n)
    finally:
        project.close()
    step, papermill_s = statistics.median(per_step), statistics.median(anchor)
    return {"steps": n, "overhead_per_step_ms": round(step * 1000, 2),
            "papermill_trivial_s": round(papermill_s, 3),
            "ratio_to_papermill": round(step / papermill_s, 4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    tmp = Path(tempfile.mkdtemp(prefix="mlprod-steps-bench-"))
    try:
        loop = example_loop(tmp)
        over = overhead(tmp, args.steps, args.rounds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"example retrain loop: {loop['status']}, trigger -> canary "
          f"{loop['trigger_to_canary_s']} s (approval wait excluded); ROC AUC {loop['roc_auc']}; "
          f"anchor: the same run by hand {loop['same_run_by_hand_s']} s, ratio "
          f"{loop['ratio_to_run_by_hand']}")
    for name, seconds in loop["steps_s"].items():
        print(f"  {name:<10} {seconds if seconds is not None else '-'} s")
    print(f"scheduler overhead per step: {over['overhead_per_step_ms']} ms "
          f"({over['steps']} steps, median of {args.rounds}); anchor papermill trivial "
          f"notebook {over['papermill_trivial_s']} s: ratio {over['ratio_to_papermill']}")
    print(json.dumps({"example": loop, "overhead": over}))


if __name__ == "__main__":
    main()
