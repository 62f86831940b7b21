"""Drift benchmark: our drift computation against Evidently's DataDriftPreset on the same data,
and the serving cost of prediction logging, measured in one run.

Part 1 - drift. 1,000,000 logged rows x 30 features (20 continuous, 5 discrete with <= 5
values, 5 categorical; 7 of them shifted) against a 200,000-row reference. Each side runs in its
own child process of the benchmark venv (same numpy / scipy), data generated before timing:
  ours       reference profile built once (timed apart), then the timed part: read the window
             of 1,000,000 rows from the prediction log's column segments (100 segments as the
             serving log thread writes them) and compare every feature (test + PSI)
  evidently  Report([DataDriftPreset()]).run(current, reference) on pandas frames, columns
             declared (DataDefinition), per-column verdicts read from the snapshot
Peak memory = the child's peak RSS during the timed part over its RSS before it (VmHWM, reset
through /proc/self/clear_refs). Verdicts compared column by column.

Part 2 - logging cost. One endpoint served twice by one server (1 worker pinned to CPU 0, wrk on
CPU 1, as benchmarks/serving.py does): prediction log off, and on at 100% sampling; `wrk -t1
-c8` for D seconds on each in turn (A B A B); the cost is the median over rounds of
1 - on/off (side-by-side pairs), req/s shown as medians.

Evidently is installed only in a separate venv, never in the product's dependencies:

    python3 -m venv /work/bench-venv
    /work/bench-venv/bin/pip install evidently "pandas<3" numpy scipy   # evidently 0.7 needs pandas 2
    .venv/bin/python benchmarks/drift.py [--rows 1000000] [--reference 200000]
        [--bench-python /work/bench-venv/bin/python] [--duration 5] [--rounds 3] [--skip-serving]

Prints tables, the ratios against the goals and a final JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from _common import machine, median, quiet_threads, table  # noqa: E402

quiet_threads()

GOALS = {"drift_speedup": 10.0, "logging_cost": 0.10}
SEED = 12
CONTINUOUS, DISCRETE, CATEGORICAL = 20, 5, 5
SHIFTED = {"num0", "num1", "num2", "disc0", "cat0", "cat1", "num3"}


# -- data (children) ---------------------------------------------------------------------------
def make_data(rows: int, reference: int):
    """(reference columns, current columns), name -> numpy array; SHIFTED columns move."""
    import numpy as np

    rng = np.random.default_rng(SEED)

    def draw(n, name, shifted):
        i = int(name[3:] if name.startswith(("num", "cat")) else name[4:])
        if name.startswith("num"):
            kind = i % 4
            if kind == 0:
                x = rng.normal(10 + i, 2 + i % 3, n)
            elif kind == 1:
                x = rng.lognormal(3, 0.5, n)
            elif kind == 2:
                x = rng.uniform(-i, i + 5, n)
            else:
                x = rng.exponential(1 + i, n)
            if shifted:
                x = {"num0": lambda v: v + 1.0, "num1": lambda v: v * 1.5,
                     "num2": lambda v: v + 0.4 * (2 * i + 5) / 3.46,
                     "num3": lambda v: v * 1.3}[name](x)
            return x
        if name.startswith("disc"):
            values = np.arange(1, 3 + i % 3 + 1)
            p = np.linspace(1, 2, values.size)
            if shifted:
                p = p[::-1] ** 3
            return rng.choice(values, n, p=p / p.sum()).astype(np.float64)
        labels = np.array([f"c{i}_{k}" for k in range(3 + 4 * i)])
        p = np.linspace(1, 3, labels.size)
        if shifted and name == "cat1":
            p = p[::-1] ** 2
        out = rng.choice(labels, n, p=p / p.sum())
        if shifted and name == "cat0":
            out = np.where(rng.random(n) < 0.3, "brand-new", out)
        return out

    names = ([f"num{i}" for i in range(CONTINUOUS)] + [f"disc{i}" for i in range(DISCRETE)]
             + [f"cat{i}" for i in range(CATEGORICAL)])
    ref = {n: draw(reference, n, False) for n in names}
    cur = {n: draw(rows, n, n in SHIFTED) for n in names}
    return ref, cur


class Peak:
    """Peak RSS during a block, above the RSS before it (Linux VmHWM, reset first)."""

    def __enter__(self):
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            pass
        self.before = _status("VmRSS")
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        self.cpu_seconds = time.process_time() - self.cpu_started
        self.peak_mb = max(0.0, (_status("VmHWM") - self.before) / 1024)


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def child_ours(rows: int, reference: int) -> dict:
    import numpy as np

    from jupyter_mlprod.monitoring.drift_profile import build_profile
    from jupyter_mlprod.monitoring.drift_stats import compare
    from jupyter_mlprod.monitoring.prediction_columns import FEATURE, ColumnLog

    ref, cur = make_data(rows, reference)
    with tempfile.TemporaryDirectory() as folder:
        log = ColumnLog(Path(folder))
        step = max(1, rows // 100)
        now = time.time()
        for start in range(0, rows, step):   # as the serving log thread writes them
            end = min(rows, start + step)
            arrays = {"__id": np.array([f"p{i}" for i in range(start, end)]),
                      "__at": now - rows + np.arange(start, end, dtype=np.float64)}
            arrays.update({FEATURE + k: v[start:end] for k, v in cur.items()})
            log.write_arrays("bench", "v1", arrays)
        del cur
        started = time.perf_counter()
        profile = build_profile(ref, source="dataset")
        profile_s = time.perf_counter() - started
        with Peak() as peak:
            window = log.window("bench", "v1", last=rows)
            results = [compare(name, profile["columns"][name], window[FEATURE + name], 100)
                       for name in profile["columns"]]
        profile_kb = len(json.dumps(profile)) / 1024
    return {"seconds": peak.seconds, "cpu_seconds": peak.cpu_seconds, "peak_mb": peak.peak_mb,
            "profile_s": profile_s,
            "profile_kb": profile_kb, "rows": int(window["__at"].size),
            "verdicts": {r["name"]: r["drift"] for r in results},
            "tests": {r["name"]: r["test"] for r in results},
            "scores": {r["name"]: r["statistic"] if r["statistic"] is not None else r["p_value"]
                       for r in results}}


def child_evidently(rows: int, reference: int) -> dict:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    ref, cur = make_data(rows, reference)
    numeric = [n for n in ref if not n.startswith("cat")]
    categorical = [n for n in ref if n.startswith("cat")]
    ref_frame, cur_frame = pd.DataFrame(ref), pd.DataFrame(cur)
    del ref, cur
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    with Peak() as peak:
        snapshot = Report([DataDriftPreset()]).run(
            Dataset.from_pandas(cur_frame, data_definition=definition),
            Dataset.from_pandas(ref_frame, data_definition=definition))
        metrics = snapshot.dict()["metrics"]
    verdicts, tests, scores = {}, {}, {}
    for metric in metrics:
        config = metric.get("config", {})
        if config.get("type", "").endswith("ValueDrift"):
            name, method, threshold = config["column"], config["method"], config["threshold"]
            value = metric["value"]
            p_value = "p_value" in method or "p-value" in method
            verdicts[name] = bool(value < threshold) if p_value else bool(value >= threshold)
            tests[name] = method
            scores[name] = value
    return {"seconds": peak.seconds, "cpu_seconds": peak.cpu_seconds, "peak_mb": peak.peak_mb,
            "verdicts": verdicts,
            "tests": tests, "scores": scores}


def run_child(python: str, side: str, rows: int, reference: int) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p))
    done = subprocess.run([python, __file__, "--child", side, "--rows", str(rows),
                           "--reference", str(reference)], env=env, capture_output=True,
                          text=True, timeout=3600)
    if done.returncode:
        raise RuntimeError(f"{side} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- part 2: logging cost ----------------------------------------------------------------------
def logging_cost(duration: float, rounds: int) -> dict:
    import shutil

    from serving import ensure_wrk, run_wrk, tree_cpu, wait_ok

    from jupyter_mlprod.project import Project

    wrk = ensure_wrk()
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()   # the notebook's sample request: the first record
    body = json.dumps(dict(zip(data.feature_names, data.data[0].tolist()))).encode()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        root = work / "ours"
        root.mkdir()
        shutil.copy(HERE / "breast_cancer_score.ipynb", root / "score.ipynb")
        project = Project(root)
        try:
            service = project.endpoints
            service.create("off", notebook="score.ipynb")
            service.create("on", notebook="score.ipynb",
                           options={"prediction_log": {"enabled": True, "sample": 1.0}})
            service.create("cols", notebook="score.ipynb", options={"prediction_log": {
                "enabled": True, "sample": 1.0, "rows": False}})
            handle = service.serve(["off", "on", "cols"], workers=1, cpus=[0])
            try:
                servers = {}
                for name in ("off", "on", "cols"):
                    url = f"{handle.url}/{name}/predict"
                    wait_ok(url, body, 30)
                    servers[name] = type("S", (), {"name": name, "url": url, "body": body})()
                for server in servers.values():   # warm-up
                    run_wrk(wrk, server, 8, 2, work)
                results = {"off": [], "on": [], "cols": []}
                for _ in range(rounds):
                    for name in ("off", "on", "cols"):
                        cpu = tree_cpu(handle.pid)
                        result = run_wrk(wrk, servers[name], 8, duration, work)
                        # the server's CPU per answer: what logging adds, steady under the
                        # other processes' load that makes req/s swing
                        result["cpu_us"] = (tree_cpu(handle.pid) - cpu) * 1e6 / max(
                            1, result["requests"])
                        results[name].append(result)
                logged = len(list((root / ".mlprod" / "predlog").glob("*/*/*.npz")))
            finally:
                handle.stop()
        finally:
            project.close()
    off = median(r["rps"] for r in results["off"])
    on = median(r["rps"] for r in results["on"])
    errors = sum(r["errors"] for rs in results.values() for r in rs)
    # side by side: each round's on/off pair ran back to back (wrk swings between runs here)
    pairs = [1 - b["rps"] / a["rps"] for a, b in zip(results["off"], results["on"])]
    cols = [1 - b["rps"] / a["rps"] for a, b in zip(results["off"], results["cols"])]
    cpu = {name: median(r["cpu_us"] for r in rs) for name, rs in results.items()}
    return {"cpu_us": cpu, "cpu_cost": cpu["on"] / cpu["off"] - 1,
            "cpu_cost_columns_only": cpu["cols"] / cpu["off"] - 1,
            "rps_off": off, "rps_on": on, "cost": median(pairs), "cost_pairs": pairs,
            "rps_columns_only": median(r["rps"] for r in results["cols"]),
            "cost_columns_only": median(cols), "cost_columns_only_pairs": cols,
            "errors": errors,
            "segments_written": logged, "rounds": rounds, "duration_s": duration}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", choices=["ours", "evidently"])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reference", type=int, default=200_000)
    parser.add_argument("--bench-python", default="/work/bench-venv/bin/python")
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-serving", action="store_true")
    parser.add_argument("--skip-drift", action="store_true")
    ns = parser.parse_args()
    if ns.child:
        result = (child_ours if ns.child == "ours" else child_evidently)(ns.rows, ns.reference)
        print(json.dumps(result))
        return 0
    figures: dict = {"machine": machine()}
    if not ns.skip_drift:
        if not Path(ns.bench_python).exists():
            print(f"{ns.bench_python} is missing: create the benchmark venv (see the docstring)")
            return 2
        ours = run_child(ns.bench_python, "ours", ns.rows, ns.reference)
        evidently = run_child(ns.bench_python, "evidently", ns.rows, ns.reference)
        names = sorted(ours["verdicts"])
        agree = sum(ours["verdicts"][n] == evidently["verdicts"].get(n) for n in names)
        rows = [[n, ours["tests"][n], f"{ours['scores'][n]:.4g}", ours["verdicts"][n],
                 evidently["tests"].get(n), f"{evidently['scores'].get(n, float('nan')):.4g}",
                 evidently["verdicts"].get(n)] for n in names]
        print(table(["feature", "ours test", "ours", "drift", "evidently test", "evidently",
                     "drift"], rows))
        speedup = evidently["seconds"] / ours["seconds"]
        cpu_speedup = evidently["cpu_seconds"] / ours["cpu_seconds"]
        print()
        print(table(["side", "wall s", "CPU s", "peak MB"],
                    [["ours (window read + 30 features)", ours["seconds"], ours["cpu_seconds"],
                      ours["peak_mb"]],
                     ["evidently DataDriftPreset", evidently["seconds"],
                      evidently["cpu_seconds"], evidently["peak_mb"]]]))
        print(f"\nours: profile of {ns.reference} rows built in {ours['profile_s']:.2f} s, "
              f"{ours['profile_kb']:.0f} KB stored")
        print(f"speed-up {speedup:.1f}x wall, {cpu_speedup:.1f}x CPU (goal >= "
              f"{GOALS['drift_speedup']:g}x; the machine is shared: CPU time is the steadier "
              f"figure); verdicts agree on "
              f"{agree}/{len(names)} features; shifted: {sorted(SHIFTED)}")
        figures["drift"] = {"rows": ns.rows, "reference": ns.reference,
                            "ours_s": ours["seconds"], "ours_peak_mb": ours["peak_mb"],
                            "evidently_s": evidently["seconds"],
                            "evidently_peak_mb": evidently["peak_mb"], "speedup": speedup,
                            "ours_cpu_s": ours["cpu_seconds"],
                            "evidently_cpu_s": evidently["cpu_seconds"],
                            "cpu_speedup": cpu_speedup,
                            "agree": agree, "features": len(names),
                            "profile_s": ours["profile_s"], "profile_kb": ours["profile_kb"]}
    if not ns.skip_serving:
        cost = logging_cost(ns.duration, ns.rounds)
        print()
        print(table(["prediction log", "req/s c=8 (median)", "server CPU us/request"],
                    [["off", cost["rps_off"], cost["cpu_us"]["off"]],
                     ["on, 100% sampling", cost["rps_on"], cost["cpu_us"]["on"]],
                     ["on, 100%, columns only (rows: false)", cost["rps_columns_only"],
                      cost["cpu_us"]["cols"]]]))
        print(f"CPU per request: logging on +{cost['cpu_cost']:.1%}, columns only "
              f"+{cost['cpu_cost_columns_only']:.1%} (goal <= {GOALS['logging_cost']:.0%})")
        print(f"logging cost {cost['cost']:.1%} of throughput, median of side-by-side pairs "
              f"{', '.join(f'{p:.1%}' for p in cost['cost_pairs'])} (goal <= "
              f"{GOALS['logging_cost']:.0%}); columns only: {cost['cost_columns_only']:.1%} "
              f"({', '.join(f'{p:.1%}' for p in cost['cost_columns_only_pairs'])}); "
              f"{cost['errors']} errors; "
              f"{cost['segments_written']} column segments written")
        figures["logging"] = cost
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
