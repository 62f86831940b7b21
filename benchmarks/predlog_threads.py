"""Where prediction logging's CPU goes, thread by thread: one server (1 worker pinned to CPU 0,
wrk on CPU 1, as serving.py) serving the breast-cancer notebook twice, prediction log off and on
at 100% sampling; `wrk -t1 -c8` for D seconds on each in turn (A B A B), then a pause so the
log thread's tail flush is charged to its own run. Each thread's CPU time comes from
/proc/<pid>/task/<tid>/stat: the event loop (request path) apart from the log thread, which
is the steadier figure on a shared machine (the whole server's CPU per request swings by
about +-20 us between identical A/A runs here).

    .venv/bin/python benchmarks/predlog_threads.py [--rounds 3] [--duration 4]

Prints one line per run and a final JSON line (medians, us per request).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _common import median, quiet_threads  # noqa: E402

quiet_threads()


def _tree(pid: int) -> list[int]:
    out = [pid]
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
        except OSError:
            children = []
        for child in children:
            out += _tree(int(child))
    return out


def thread_cpu(root: int) -> dict[tuple[int, str], float]:
    """CPU seconds per (process, thread) of a process tree."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in _tree(root):
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                fields = Path(f"/proc/{pid}/task/{task}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used[(pid, task)] = (int(fields[11]) + int(fields[12])) / tick
    return used


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4)
    ns = parser.parse_args()
    from serving import ensure_wrk, run_wrk, wait_ok
    from sklearn.datasets import load_breast_cancer

    from jupyter_mlprod.project import Project

    data = load_breast_cancer()
    body = json.dumps(dict(zip(data.feature_names, data.data[0].tolist()))).encode()
    wrk = ensure_wrk()
    results: dict = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        root = work / "ours"
        root.mkdir()
        shutil.copy(HERE / "breast_cancer_score.ipynb", root / "score.ipynb")
        project = Project(root)
        try:
            project.endpoints.create("off", notebook="score.ipynb")
            project.endpoints.create("on", notebook="score.ipynb",
                                     options={"prediction_log": {"enabled": True}})
            handle = project.endpoints.serve(["off", "on"], workers=1, cpus=[0])
            try:
                servers = {}
                for name in ("off", "on"):
                    url = f"{handle.url}/{name}/predict"
                    wait_ok(url, body, 30)
                    servers[name] = type("S", (), {"name": name, "url": url, "body": body})()
                    run_wrk(wrk, servers[name], 8, 2, work)   # warm-up
                for _ in range(ns.rounds):
                    for name in ("off", "on"):
                        before = thread_cpu(handle.pid)
                        done = run_wrk(wrk, servers[name], 8, ns.duration, work)
                        time.sleep(1.5)   # the log thread's last flush belongs to this run
                        after = thread_cpu(handle.pid)
                        per = {k: (v - before.get(k, 0.0)) * 1e6 / max(1, done["requests"])
                               for k, v in after.items()}
                        ranked = sorted(per.values(), reverse=True)   # loop, then log thread
                        run = {"total": sum(ranked), "loop": ranked[0],
                               "others": sum(ranked[1:]), "requests": done["requests"]}
                        results[name].append(run)
                        print(f"{name:3}  {done['requests']:6d} requests  total "
                              f"{run['total']:.0f} us/req  event loop {run['loop']:.0f}  other "
                              f"threads {run['others']:.0f}", flush=True)
            finally:
                handle.stop()
        finally:
            project.close()
    figures = {name: {k: median(r[k] for r in runs) for k in ("total", "loop", "others")}
               for name, runs in results.items()}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
