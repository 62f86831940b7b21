"""Monitoring benchmark: data probes against pandas, and the cost of logging metrics.

Part 1 — probes of a generated CSV (default 1 GB; `--size MB` for quick runs): time and peak
memory of `monitoring.probes.probe_file` (streaming, pyarrow) against
`pandas.read_csv(path).describe()` on the same file, each in its own subprocess (peak memory =
`resource.getrusage(RUSAGE_SELF).ru_maxrss`), alternating A B A B. Goals: >= 2x faster,
peak memory <= 1/4.

Part 2 — metric logging overhead of a step logging 1,000 metrics, through a real run
(papermill, real kernel): time inside the cell for 1,000 `mlprod.log_metric` calls and for one
`mlprod.log_metrics` of 1,000, plus the run service's side (reading them back from the executed
notebook and recording them: `MetricService.after_step`). Goal: < 50 ms.

    .venv/bin/python benchmarks/monitoring.py              # 1 GB CSV
    .venv/bin/python benchmarks/monitoring.py --size 100   # 100 MB, quick

Prints a table and one JSON line of figures.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, machine, median, quiet_threads, table, write_step

PROBE = """
import json, resource, sys, time
from pathlib import Path
started = time.perf_counter()
from jupyter_mlprod.monitoring.probes import probe_file
rows = probe_file(Path(sys.argv[1]), "data.csv")
seconds = time.perf_counter() - started
values = {r["name"]: r["value"] for r in rows}
print(json.dumps({"seconds": seconds, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "rows": values.get("data.csv:rows"), "metrics": len(rows)}))
"""
PANDAS = """
import json, resource, sys, time
started = time.perf_counter()
import pandas as pd
frame = pd.read_csv(sys.argv[1])
summary = frame.describe()
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "rows": len(frame), "metrics": int(summary.size)}))
"""


def generate_csv(path: Path, megabytes: int) -> int:
    """A CSV of about `megabytes` MB: one ~4 MB block of realistic rows, repeated."""
    import random

    rng = random.Random(7)
    cities = [f"city_{i}" for i in range(50)]
    lines = []
    for i in range(60_000):
        income = "" if i % 97 == 0 else f"{rng.lognormvariate(10.9, 0.45):.2f}"
        lines.append(f"{i},{rng.randint(21, 70)},{income},{rng.choice(cities)},"
                     f"{rng.random():.6f},{rng.randint(0, 1)}")
    block = ("\n".join(lines) + "\n").encode()
    target = megabytes * 1024 * 1024
    written = 0
    with open(path, "wb") as handle:
        handle.write(b"id,age,income,city,score,approved\n")
        while written < target:
            handle.write(block)
            written += len(block)
    return path.stat().st_size


def measure(script: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def part_probes(work: Path, megabytes: int, rounds: int) -> dict:
    path = work / "data.csv"
    size = generate_csv(path, megabytes)
    pandas_runs, probe_runs = [], []
    for _ in range(rounds):
        pandas_runs.append(measure(PANDAS, path))
        probe_runs.append(measure(PROBE, path))
    assert probe_runs[0]["rows"] == pandas_runs[0]["rows"], (probe_runs[0], pandas_runs[0])
    result = {"bytes": size, "rows": pandas_runs[0]["rows"],
              "pandas_s": median(r["seconds"] for r in pandas_runs),
              "probe_s": median(r["seconds"] for r in probe_runs),
              "pandas_peak_mb": median(r["maxrss_kb"] for r in pandas_runs) / 1024,
              "probe_peak_mb": median(r["maxrss_kb"] for r in probe_runs) / 1024,
              "probe_metrics": probe_runs[0]["metrics"]}
    result["speedup"] = result["pandas_s"] / result["probe_s"]
    result["memory_ratio"] = result["probe_peak_mb"] / result["pandas_peak_mb"]
    path.unlink()
    return result


LOGGING_CELLS = [
    "import time\nimport jupyter_mlprod as mlprod",
    "started = time.perf_counter()\nfor i in range(1000):\n    mlprod.log_metric(f'm{i}', i / 7)\n"
    "one_by_one = time.perf_counter() - started",
    "started = time.perf_counter()\nmlprod.log_metrics({f'd{i}': i / 7 for i in range(1000)})\n"
    "as_dict = time.perf_counter() - started",
    "import json\nopen('timing.json', 'w').write(json.dumps({'one_by_one': one_by_one, "
    "'as_dict': as_dict}))",
]


def part_logging(work: Path, rounds: int) -> dict:
    from jupyter_mlprod.project import Project

    root = work / "logging"
    root.mkdir()
    write_step(root, "evaluate", LOGGING_CELLS, outputs=["timing.json"])
    project = Project(root)
    service_times: list[float] = []
    original = project.metrics.after_step

    def timed(*args):
        started = time.perf_counter()
        try:
            return original(*args)
        finally:
            service_times.append(time.perf_counter() - started)

    project.metrics.after_step = timed
    kernel = []
    try:
        for _ in range(rounds):
            run = project.start_run(wait=True, force=True)
            assert run["status"] == "succeeded", run
            recorded = project.metrics.run_metrics(run["id"])["metrics"]
            assert sum(m["source"] == "logged" for m in recorded) == 2000, len(recorded)
            kernel.append(json.loads((root / "timing.json").read_text()))
    finally:
        project.close()
    # The service time covers 2,000 metrics (both cells) plus probing timing.json: half of it
    # is the share of one step that logs 1,000.
    service = median(service_times) / 2
    return {"kernel_one_by_one_ms": median(k["one_by_one"] for k in kernel) * 1000,
            "kernel_as_dict_ms": median(k["as_dict"] for k in kernel) * 1000,
            "service_per_1000_ms": service * 1000,
            "total_one_by_one_ms": (median(k["one_by_one"] for k in kernel) + service) * 1000,
            "total_as_dict_ms": (median(k["as_dict"] for k in kernel) + service) * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="CSV size in MB (default 1024)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="A/B rounds of the probe part (default 2; 3 below 200 MB)")
    args = parser.parse_args()
    quiet_threads()
    # kernels and probe subprocesses import this checkout's jupyter_mlprod
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    rounds = args.rounds or (3 if args.size < 200 else 2)
    info = machine()
    print(f"machine: {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="mlprod-bench-monitoring-"))
    started = time.perf_counter()
    try:
        print(f"[1/2] probes vs pandas on a {args.size} MB CSV, {rounds} rounds ...", flush=True)
        p = part_probes(work, args.size, rounds)
        print("[2/2] logging 1,000 metrics in a step (3 runs) ...", flush=True)
        m = part_logging(work, 3)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [
        ["probe time (s)", p["pandas_s"], p["probe_s"], f"{p['speedup']:.2f}x faster", ">= 2x"],
        ["probe peak memory (MB)", p["pandas_peak_mb"], p["probe_peak_mb"],
         f"{p['memory_ratio']:.3f} of pandas", "<= 0.25"],
        ["log_metric x1000, in the cell (ms)", "", m["kernel_one_by_one_ms"], "", ""],
        ["log_metrics({1000}), in the cell (ms)", "", m["kernel_as_dict_ms"], "", ""],
        ["read back + record 1000 (ms)", "", m["service_per_1000_ms"], "run service", ""],
        ["logging 1000, total (ms)", "", m["total_one_by_one_ms"],
         f"as a dict: {m['total_as_dict_ms']:.1f}", "< 50"],
    ]
    print()
    print(f"CSV: {p['bytes'] / 2**20:.0f} MB, {p['rows']:,} rows x 6 columns; "
          f"probes recorded {p['probe_metrics']} metrics")
    print(table(["what", "pandas read_csv+describe", "mlprod", "ratio / note", "goal"], rows))
    print(f"\ntotal {time.perf_counter() - started:.0f} s; load {os.getloadavg()[0]:.1f}")
    print(json.dumps({
        "csv_mb": round(p["bytes"] / 2**20), "rows": p["rows"], "rounds": rounds,
        "pandas_s": round(p["pandas_s"], 3), "probe_s": round(p["probe_s"], 3),
        "speedup": round(p["speedup"], 2), "pandas_peak_mb": round(p["pandas_peak_mb"], 1),
        "probe_peak_mb": round(p["probe_peak_mb"], 1),
        "memory_ratio": round(p["memory_ratio"], 3),
        "log_1000_one_by_one_ms": round(m["total_one_by_one_ms"], 1),
        "log_1000_as_dict_ms": round(m["total_as_dict_ms"], 1),
        "kernel_one_by_one_ms": round(m["kernel_one_by_one_ms"], 1),
        "kernel_as_dict_ms": round(m["kernel_as_dict_ms"], 1),
        "service_per_1000_ms": round(m["service_per_1000_ms"], 1),
        "cpus": info["cpus"], "load_1min": round(os.getloadavg()[0], 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
