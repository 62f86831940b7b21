"""What serving from a bundle's own environment costs per request: one server, two endpoints
of the same notebook (benchmarks/breast_cancer_score.ipynb, one record per request), measured
in the same run, alternating (A B A B):
  in-process   the default path: the scoring cell runs in the serving worker
  environment  the version records an environment, so its cells run in a worker process started
               with that environment's Python (here the benchmark's own venv, so the libraries
               are identical and only the process hop is measured)
Sequential requests on one keep-alive connection (latency, not throughput); the server is
pinned to CPU 0 and the client to CPU 1. Anchor: in-process, same run.

    .venv/bin/python benchmarks/serving_environments.py [--requests N] [--rounds R]

Prints a table and a final JSON line."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, median, quiet_threads, table

HERE = Path(__file__).resolve().parent


def measure(session, url: str, body: bytes, count: int) -> list[float]:
    took = []
    for _ in range(count):
        started = time.perf_counter()
        reply = session.post(url, data=body, headers={"Content-Type": "application/json"})
        took.append((time.perf_counter() - started) * 1000)
        if reply.status_code != 200:
            raise SystemExit(f"{url} answered {reply.status_code}: {reply.text[:300]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per run (2000)")
    parser.add_argument("--rounds", type=int, default=3, help="A B A B rounds (3)")
    args = parser.parse_args()
    quiet_threads()
    import requests

    from jupyter_mlprod.project import Project

    work = Path(tempfile.mkdtemp(prefix="mlprod-bench-envserve-"))
    project = None
    try:
        root, bundle = work / "node", work / "bundle"
        root.mkdir()
        bundle.mkdir()
        shutil.copy(HERE / "breast_cancer_score.ipynb", bundle / "score.ipynb")
        project = Project(root)
        service = project.endpoints
        service.create("plain", description="in-process")
        service.add_version("plain", bundle_dir=bundle, notebook="score.ipynb", activate=True)
        service.create("env", description="environment worker")
        service.add_version("env", bundle_dir=bundle, notebook="score.ipynb", activate=True,
                            environment={"digest": "self", "venv": sys.prefix,
                                         "python": sys.executable})
        os.sched_setaffinity(0, {1 % os.cpu_count()})
        handle = service.serve(["plain", "env"], workers=1, cpus=[0])
        body = json.dumps(service.sample("plain")).encode()
        urls = {"in-process": f"{handle.url}/plain/predict",
                "environment": f"{handle.url}/env/predict"}
        session = requests.Session()
        for url in urls.values():
            measure(session, url, body, 200)  # warm-up
        runs: dict[str, list] = {name: [] for name in urls}
        for _ in range(args.rounds):
            for name, url in urls.items():
                runs[name].append(measure(session, url, body, args.requests))
        handle.stop()
    finally:
        if project is not None:
            project.close()
        shutil.rmtree(work, ignore_errors=True)
    summary = {}
    for name, rounds in runs.items():
        summary[name] = {"p50_ms": round(median(median(r) for r in rounds), 3),
                         "p99_ms": round(median(sorted(r)[int(len(r) * 0.99)] for r in rounds), 3)}
    ratios = [median(b) / median(a) for a, b in zip(runs["in-process"], runs["environment"])]
    summary["environment_over_in_process_p50"] = round(median(ratios), 2)
    summary["overhead_p50_ms"] = round(summary["environment"]["p50_ms"]
                                       - summary["in-process"]["p50_ms"], 3)
    print(table(["path", "p50 ms", "p99 ms"],
                [[name, summary[name]["p50_ms"], summary[name]["p99_ms"]] for name in runs]))
    print(f"environment / in-process (p50, median of rounds): "
          f"{summary['environment_over_in_process_p50']}x "
          f"(+{summary['overhead_p50_ms']} ms per request)")
    print(json.dumps({"benchmark": "serving_environments", "machine": machine(),
                      "requests": args.requests, "rounds": args.rounds, **summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
