"""Serving benchmark: one model served four ways, measured in one run.

Model: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)) fitted on scikit-learn's
load_breast_cancer (30 named features), one record per request. Servers:
  ours          jupyter_mlprod serving benchmarks/breast_cancer_score.ipynb (1 worker)
  ours+batch    the same notebook with adaptive micro-batching on (max_batch 32)
  kernel-gw     Jupyter Kernel Gateway notebook-http, benchmarks/breast_cancer_kg.ipynb
  mlflow        `mlflow models serve --env-manager local -w 1`
  floor         a plain in-process tornado RequestHandler calling predict_proba
Method (shared/benchmarks.md): every server pinned to CPU 0 and wrk to CPU 1 (taskset),
OMP/OPENBLAS threads 1, a warm-up run per server, then for each level `wrk -t1 -c{1,8,32}
-d{D}s --latency -s post.lua` on every server in turn, round after round (A B A B); medians over
rounds; non-2xx and socket errors counted; each server's CPU time per request (its process tree,
from /proc) recorded too. Goal ratios are medians of side-by-side req/s ratios (same level, same
round). Kernel Gateway gets a fresh IPYTHONDIR. Kernel Gateway and MLflow are installed only in
benchmarks/.venv-anchors (created here when missing), never in the product's environment.

    .venv/bin/python benchmarks/serving.py [--quick] [--duration S] [--rounds N] [--skip kg,mlflow]

Prints a table, the ratios against the goals (with an explanation in figures for a missed one),
and a final JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from _common import machine, median, quiet_threads, table  # noqa: E402

quiet_threads()

ANCHORS = HERE / ".venv-anchors"
SERVER_CPU, LOAD_CPU = "0", "1"
CONCURRENCY = (1, 8, 32)
GOALS = {"ours_vs_floor": 0.9, "ours_vs_kernel_gateway": 20.0, "ours_vs_mlflow": 3.0,
         "batched_vs_floor_c32": 2.0}

FLOOR_SERVER = '''
import json, sys
import numpy as np
import tornado.ioloop, tornado.web
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

data = load_breast_cancer()
FEATURES = list(data.feature_names)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(data.data, data.target)


class Score(tornado.web.RequestHandler):
    def post(self):
        body = json.loads(self.request.body)
        X = np.array([[body[name] for name in FEATURES]])
        probability = float(model.predict_proba(X)[0, 1])
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({"probability": probability, "label": int(probability >= 0.5)}))


tornado.web.Application([(r"/score", Score)]).listen(int(sys.argv[1]), "127.0.0.1")
tornado.ioloop.IOLoop.current().start()
'''

MLFLOW_SAVE = '''
import sys
import pandas as pd
import mlflow.sklearn
from mlflow.models import infer_signature
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

data = load_breast_cancer()
frame = pd.DataFrame(data.data, columns=data.feature_names)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(frame, data.target)
signature = infer_signature(frame, model.predict_proba(frame))
mlflow.sklearn.save_model(model, sys.argv[1], signature=signature,
                          pyfunc_predict_fn="predict_proba")
'''

LUA = '''wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
'''


# -- environment -----------------------------------------------------------------------------
def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (Debian package)...", flush=True)
    if subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True).returncode:
        subprocess.run(["apt-get", "update"], capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def ensure_anchors() -> Path:
    python = ANCHORS / "bin" / "python"
    probe = [str(python), "-c", "import kernel_gateway, ipykernel, mlflow, sklearn"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating {ANCHORS} (jupyter-kernel-gateway, ipykernel, mlflow, scikit-learn)...",
          flush=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(ANCHORS)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "jupyter-kernel-gateway", "ipykernel", "mlflow",
                    "scikit-learn"], check=True)
    subprocess.run(probe, check=True)
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(command: list[str], cpu: str) -> list[str]:
    return ["taskset", "-c", cpu] + command


def wait_ok(url: str, body: bytes | None, timeout: float, process=None) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            request = urllib.request.Request(url, data=body, headers={
                "Content-Type": "application/json"}, method="POST" if body else "GET")
            with urllib.request.urlopen(request, timeout=5) as reply:  # noqa: S310
                if reply.status == 200:
                    return
        except Exception as exc:  # noqa: BLE001
            last = exc
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready after {timeout:g} s: {last}")


# -- servers ---------------------------------------------------------------------------------
class Server:
    def __init__(self, name, url, body: bytes, stop, pid):
        self.name, self.url, self.body, self._stop, self.pid = name, url, body, stop, pid

    def stop(self):
        try:
            self._stop()
        except Exception:  # noqa: BLE001
            pass


def _process_stopper(process: subprocess.Popen):
    def stop():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
    return stop


def start_floor(work: Path, record: bytes, log) -> Server:
    script = work / "floor_server.py"
    script.write_text(FLOOR_SERVER)
    port = free_port()
    process = subprocess.Popen(pinned([sys.executable, str(script), str(port)], SERVER_CPU),
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/score"
    wait_ok(url, record, 120, process)
    return Server("floor", url, record, _process_stopper(process), process.pid)


def start_ours(work: Path, record: bytes) -> tuple[Server, Server]:
    from jupyter_mlprod.project import Project

    root = work / "ours"
    root.mkdir()
    shutil.copy(HERE / "breast_cancer_score.ipynb", root / "score.ipynb")
    project = Project(root)
    service = project.endpoints
    service.create("bc", notebook="score.ipynb")
    service.create("bcb", notebook="score.ipynb",
                   options={"batching": {"enabled": True, "max_batch": 32, "max_wait_ms": 2}})
    handle = service.serve(["bc", "bcb"], workers=1, cpus=[int(SERVER_CPU)])
    single = Server("ours", f"{handle.url}/bc/predict", record, handle.stop, handle.pid)
    batched = Server("ours+batch", f"{handle.url}/bcb/predict", record, lambda: None, handle.pid)
    wait_ok(single.url, record, 30)
    wait_ok(batched.url, record, 30)
    return single, batched


def start_kernel_gateway(work: Path, record: bytes, log) -> Server:
    home = work / "kg"
    for sub in ("ipython", "data", "runtime", "config"):
        (home / sub).mkdir(parents=True)
    shutil.copy(HERE / "breast_cancer_kg.ipynb", home / "score.ipynb")
    port = free_port()
    env = dict(os.environ, IPYTHONDIR=str(home / "ipython"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_CONFIG_DIR=str(home / "config"),
               PATH=f"{ANCHORS / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    command = [str(ANCHORS / "bin" / "jupyter"), "kernelgateway",
               "--KernelGatewayApp.api=kernel_gateway.notebook_http",
               f"--KernelGatewayApp.seed_uri={home / 'score.ipynb'}",
               "--KernelGatewayApp.ip=127.0.0.1", f"--KernelGatewayApp.port={port}"]
    process = subprocess.Popen(pinned(command, SERVER_CPU), cwd=home, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/score"
    wait_ok(url, record, 180, process)
    return Server("kernel-gw", url, record, _process_stopper(process), process.pid)


def start_mlflow(work: Path, record: bytes, log) -> Server:
    model_dir = work / "mlflow-model"
    env = dict(os.environ, PATH=f"{ANCHORS / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
               MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1",
               MLFLOW_TRACKING_URI=f"file://{work / 'mlruns'}")
    subprocess.run([str(ANCHORS / "bin" / "python"), "-c", MLFLOW_SAVE, str(model_dir)], env=env,
                   check=True, stdout=log, stderr=subprocess.STDOUT)
    port = free_port()
    command = [str(ANCHORS / "bin" / "mlflow"), "models", "serve", "-m", str(model_dir),
               "--env-manager", "local", "-w", "1", "-h", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(pinned(command, SERVER_CPU), env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True, cwd=work)
    body = json.dumps({"dataframe_records": [json.loads(record)]}).encode()
    url = f"http://127.0.0.1:{port}/invocations"
    wait_ok(url, body, 180, process)
    return Server("mlflow", url, body, _process_stopper(process), process.pid)


# -- load ------------------------------------------------------------------------------------
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text.strip())
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def run_wrk(wrk: str, server: Server, connections: int, seconds: float, work: Path) -> dict:
    script = work / f"post-{server.name}.lua"
    script.write_text(LUA.format(body=json.dumps(server.body.decode())))
    command = pinned([wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout",
                      "10s", "-s", str(script), server.url], LOAD_CPU)
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    result = {"rps": float("nan"), "p50_ms": float("nan"), "p99_ms": float("nan"),
              "requests": 0, "errors": 0}
    if match := re.search(r"Requests/sec:\s+([\d.]+)", out):
        result["rps"] = float(match.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        if match := re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M):
            result[key] = _ms(match.group(1))
    if match := re.search(r"(\d+) requests in", out):
        result["requests"] = int(match.group(1))
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        result["errors"] += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        result["errors"] += sum(int(g) for g in match.groups())
    return result


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and all its descendants (a kernel, uvicorn...)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents, used = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            used[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += used.get(current, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == current)
    return total


def explain(key: str, summary: dict, load_before, load_after) -> str:
    """Why a goal was missed, in figures: server CPU per request separates what the server costs
    from what other processes on the machine took from it."""
    ours, floor = summary["ours"], summary["floor"]
    if key == "ours_vs_floor":
        cpu = floor["c8"]["cpu_us_per_req"] / ours["c8"]["cpu_us_per_req"]
        verdict = ("the server itself is not slower: the throughput gap is load from other "
                   "processes on the machine" if cpu >= 0.9 else
                   "the server costs more CPU per request than the floor")
        return (f"server CPU per request at c=8: ours {ours['c8']['cpu_us_per_req']:.0f} us, "
                f"floor {floor['c8']['cpu_us_per_req']:.0f} us ({cpu:.2f}x); load average "
                f"{load_before[0]:.1f} -> {load_after[0]:.1f} on {os.cpu_count()} CPUs: {verdict}")
    if key == "batched_vs_floor_c32":
        batched = summary["ours+batch"]["c32"]
        return (f"server CPU per request at c=32: batched {batched['cpu_us_per_req']:.0f} us, floor "
                f"{floor['c32']['cpu_us_per_req']:.0f} us; batches form only when requests "
                f"overlap, so a loaded machine (load {load_after[0]:.1f}) shrinks them")
    other = "kernel-gw" if "kernel" in key else "mlflow"
    return (f"server CPU per request at c=8: ours {ours['c8']['cpu_us_per_req']:.0f} us, {other} "
            f"{summary[other]['c8']['cpu_us_per_req']:.0f} us")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs, one round")
    parser.add_argument("--duration", type=float, default=None, help="seconds per wrk run (15)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of warm-up (5)")
    parser.add_argument("--rounds", type=int, default=None, help="A B A B rounds (3)")
    parser.add_argument("--skip", default="", help="comma list: kg, mlflow")
    args = parser.parse_args()
    duration = args.duration or (4.0 if args.quick else 15.0)
    warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 5.0)
    rounds = args.rounds or (1 if args.quick else 3)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    wrk = ensure_wrk()
    if not {"kg", "mlflow"} <= skip:
        ensure_anchors()

    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    record = json.dumps(dict(zip(data.feature_names, data.data[0].tolist()))).encode()
    work = Path(tempfile.mkdtemp(prefix="mlprod-serving-bench-"))
    log = open(work / "servers.log", "ab")  # noqa: SIM115
    servers: list[Server] = []
    try:
        servers.append(start_floor(work, record, log))
        servers.extend(start_ours(work, record))
        if "mlflow" not in skip:
            servers.append(start_mlflow(work, record, log))
        if "kg" not in skip:
            servers.append(start_kernel_gateway(work, record, log))
        results: dict = {s.name: {c: [] for c in CONCURRENCY} for s in servers}
        load_before = os.getloadavg()
        for server in servers:
            if warmup:
                run_wrk(wrk, server, 8, warmup, work)
        for connections in CONCURRENCY:
            for round_no in range(rounds):
                for server in servers:  # A B A B: the same order every round
                    before = tree_cpu(server.pid)
                    result = run_wrk(wrk, server, connections, duration, work)
                    used = tree_cpu(server.pid) - before
                    result["cpu_us"] = used / result["requests"] * 1e6 if result["requests"] \
                        else float("nan")
                    results[server.name][connections].append(result)
                    print(f"c={connections:<3d} round {round_no + 1}  {server.name:11s}"
                          f"{result['rps']:9.1f} req/s  p50 {result['p50_ms']:8.3f} ms  "
                          f"p99 {result['p99_ms']:8.3f} ms  server CPU {result['cpu_us']:8.1f} "
                          f"us/req  errors {result['errors']}", flush=True)
        load_after = os.getloadavg()
    finally:
        for server in servers:
            server.stop()
        log.close()
    summary = {}
    for name, by_c in results.items():
        row = {}
        for c, runs in by_c.items():
            row[f"c{c}"] = {"rps": median(r["rps"] for r in runs),
                            "p50_ms": median(r["p50_ms"] for r in runs),
                            "p99_ms": median(r["p99_ms"] for r in runs),
                            "cpu_us_per_req": median(r["cpu_us"] for r in runs),
                            "errors": sum(r["errors"] for r in runs)}
        row["peak_rps"] = max(v["rps"] for v in row.values())
        summary[name] = row
    print()
    print(table(["server", "p50 c=1 ms", "p99 c=1 ms", "p50 c=8 ms", "p99 c=8 ms", "req/s c=1",
                 "req/s c=8", "req/s c=32", "peak req/s", "CPU us/req c=8", "errors"],
                [[n, r["c1"]["p50_ms"], r["c1"]["p99_ms"], r["c8"]["p50_ms"], r["c8"]["p99_ms"],
                  r["c1"]["rps"], r["c8"]["rps"], r["c32"]["rps"], r["peak_rps"],
                  r["c8"]["cpu_us_per_req"],
                  sum(v["errors"] for k, v in r.items() if k.startswith("c"))]
                 for n, r in summary.items()]))
    print(f"load average (1 min) before/after: {load_before[0]:.2f} / {load_after[0]:.2f} "
          f"on {os.cpu_count()} CPUs")
    ours, floor = summary["ours"], summary["floor"]

    def paired(a: str, b: str, levels=CONCURRENCY) -> float:
        """Median of a/b throughput over runs taken side by side (same level, same round):
        robust to load that other processes put on the machine now and then."""
        return median(ra["rps"] / rb["rps"] for c in levels
                      for ra, rb in zip(results[a][c], results[b][c]))

    ratios = {"ours_vs_floor": paired("ours", "floor"),
              "ours_vs_floor_peak": ours["peak_rps"] / floor["peak_rps"],
              "ours_vs_floor_c1_latency": floor["c1"]["p50_ms"] / ours["c1"]["p50_ms"],
              "batched_vs_floor_c32": paired("ours+batch", "floor", (32,)),
              "ours_vs_floor_cpu_per_req_c8": floor["c8"]["cpu_us_per_req"]
              / ours["c8"]["cpu_us_per_req"],
              "batched_vs_floor_cpu_per_req_c32": floor["c32"]["cpu_us_per_req"]
              / summary["ours+batch"]["c32"]["cpu_us_per_req"]}
    if "kernel-gw" in summary:
        ratios["ours_vs_kernel_gateway"] = paired("ours", "kernel-gw")
        ratios["ours_vs_kernel_gateway_peak"] = ours["peak_rps"] / summary["kernel-gw"]["peak_rps"]
    if "mlflow" in summary:
        ratios["ours_vs_mlflow"] = paired("ours", "mlflow")
        ratios["ours_vs_mlflow_peak"] = ours["peak_rps"] / summary["mlflow"]["peak_rps"]
    goals = {k: {"ratio": round(ratios[k], 3), "goal": g, "met": ratios[k] >= g}
             for k, g in GOALS.items() if k in ratios}
    print("\nratios (> 1 means ours is better; without suffix: median of the side-by-side "
          "req/s ratios over every level and round; _peak: best level each):")
    for key, value in ratios.items():
        goal = GOALS.get(key)
        mark = "" if goal is None else (f"  goal >= {goal:g}: " + ("met" if value >= goal else "MISSED"))
        print(f"  {key:28s} {value:8.2f}x{mark}")
    for key, goal in goals.items():
        if not goal["met"]:
            print(f"\nMISSED {key}: {explain(key, summary, load_before, load_after)}")
    print(json.dumps({"benchmark": "serving", "quick": args.quick, "rounds": rounds,
                      "load_average": [round(load_before[0], 2), round(load_after[0], 2)],
                      "duration_s": duration, "machine": machine(), "servers": summary,
                      "ratios": {k: round(v, 3) for k, v in ratios.items()}, "goals": goals}))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
