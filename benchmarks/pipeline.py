"""Pipeline execution benchmark: what running notebooks as mlprod steps costs over papermill.

Measures, in one run on this machine, against anchors measured in the same run:
  1. per-step overhead: a chain of trivial 2-cell steps through `Project.start_run(wait=True,
     force=True)` (local executor, parallelism 1) vs the same notebooks through raw in-process
     `papermill.execute_notebook(kernel_name="python3")`, alternating A B A B, medians;
  2. no-op rerun of a 50-step DAG (file inputs/outputs) after a full run: time of
     `start_run(wait=True)` (goal < 1 s), every step up_to_date, no kernel started, the
     executor's process pool never created;
  3. two independent `time.sleep(3)` steps with parallelism 2 vs one alone (goal < 1.5x);
  4. Dask: the same chain on a fresh LocalCluster(2 workers), first step on cold workers vs
     later ones, vs raw papermill submitted to a fresh LocalCluster (docs anchor: 2.4 s / 0.8 s).
Prints a table and a final JSON line.

    .venv/bin/python benchmarks/pipeline.py [--quick] [--rounds N] [--profile]
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, median, quiet_threads, table, write_step  # noqa: E402

quiet_threads()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

TRIVIAL = ["x = 1", "y = x + 1"]
ANCHOR_DASK = {"cold": 2.4, "warm": 0.8}   # benchmarks.md: Dask LocalCluster first / later notebook


# -- projects ---------------------------------------------------------------------------------
def chain_project(root: Path, n: int) -> list[str]:
    names = [f"c{i:02d}" for i in range(n)]
    for i, name in enumerate(names):
        write_step(root, name, TRIVIAL, after=[names[i - 1]] if i else [])
    return names


def dag_project(root: Path, layers: int, width: int) -> int:
    """`layers` x `width` steps; each reads two outputs of the layer above and writes one file."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "raw.txt").write_text("raw\n")
    for layer in range(layers):
        for i in range(width):
            name = f"l{layer}_{i:02d}"
            if layer == 0:
                inputs = ["data/raw.txt"]
            else:
                above = f"out/l{layer - 1}_"
                inputs = sorted({f"{above}{i:02d}.txt", f"{above}{(i + 1) % width:02d}.txt"})
            code = ("import os\nos.makedirs('out', exist_ok=True)\n"
                    f"text = ''.join(open(p).read() for p in {inputs!r})\n"
                    f"open('out/{name}.txt', 'w').write(text[:64] + '{name}\\n')")
            write_step(root, name, code, inputs=inputs, outputs=[f"out/{name}.txt"])
    return layers * width


def open_project(root: Path, **overrides):
    from jupyter_mlprod.project import Project

    return Project(root, **overrides)


def statuses(run: dict) -> set[str]:
    return {s["status"] for s in run["steps"]}


# -- executor wrapper: counts submits, keeps the worker-side duration of each step --------------
class CountingExecutor:
    def __init__(self, inner):
        self.inner, self.name, self.submitted, self.worker_seconds = inner, inner.name, 0, []

    def submit(self, job):
        self.submitted += 1
        future = self.inner.submit(job)
        future.add_done_callback(self._record)
        return future

    def _record(self, future) -> None:
        try:
            result = future.result()
            self.worker_seconds.append(result.finished_at - result.started_at)
        except Exception:
            pass

    def shutdown(self):
        self.inner.shutdown()


def counted(project) -> CountingExecutor:
    counting = CountingExecutor(project.runs.executor)
    project.runs._executor = counting
    return counting


# -- 1. per-step overhead -----------------------------------------------------------------------
def bench_overhead(work: Path, n: int, rounds: int) -> dict:
    import papermill

    root = work / "chain"
    names = chain_project(root, n)
    out = work / "raw-out"
    out.mkdir()

    def raw() -> float:
        started = time.perf_counter()
        for name in names:
            papermill.execute_notebook(str(root / f"{name}.ipynb"), str(out / f"{name}.ipynb"),
                                       kernel_name="python3", cwd=str(root), progress_bar=False)
        return (time.perf_counter() - started) / n

    project = open_project(root, parallelism=1)
    counting = counted(project)

    def ours() -> float:
        started = time.perf_counter()
        run = project.start_run(wait=True, force=True)
        elapsed = time.perf_counter() - started
        assert run["status"] == "succeeded" and statuses(run) == {"succeeded"}, run
        return elapsed / n

    try:
        raw()                       # warm-up: imports, first kernel spec lookup
        first = ours()              # includes creating the warm process pool (forkserver)
        a, b, inside = [], [], []
        for _ in range(rounds):     # A B A B
            a.append(raw())
            counting.worker_seconds.clear()
            b.append(ours())
            inside.append(median(counting.worker_seconds))
    finally:
        project.close()
    result = {"steps": n, "rounds": rounds, "raw_per_step_s": median(a),
              "mlprod_per_step_s": median(b), "mlprod_first_run_per_step_s": first,
              "worker_execute_step_s": median(inside), "raw_rounds": a, "mlprod_rounds": b}
    result["ratio"] = result["mlprod_per_step_s"] / result["raw_per_step_s"]
    result["overhead_ms"] = 1000 * (result["mlprod_per_step_s"] - result["raw_per_step_s"])
    # what the run service adds around execute_step: planning, fingerprints, store writes,
    # pool hand-off, collecting (a load-independent view of the overhead)
    result["orchestration_ms"] = 1000 * (median(b[i] - inside[i] for i in range(rounds)))
    return result


# -- 1b. pre-started kernels --------------------------------------------------------------------
def _pool_full(project, timeout: float = 30.0) -> None:
    """Let the pool finish refilling before a timed run (it does so while other work runs)."""
    pool = project.runs.executor.kernels
    deadline = time.monotonic() + timeout
    while len(pool.idle_pids()) < pool.size and time.monotonic() < deadline:
        time.sleep(0.05)


def bench_pool(work: Path, n: int, rounds: int) -> dict:
    """Raw papermill vs the chain with the pool off, with the default pool (parallelism 2 ->
    2 kernels) and with as many pre-started kernels as steps, alternating."""
    import papermill

    root = work / "pool-chain"
    names = chain_project(root, n)
    out = work / "pool-raw-out"
    out.mkdir()

    def raw() -> float:
        started = time.perf_counter()
        for name in names:
            papermill.execute_notebook(str(root / f"{name}.ipynb"), str(out / f"{name}.ipynb"),
                                       kernel_name="python3", cwd=str(root), progress_bar=False)
        return (time.perf_counter() - started) / n

    variants = {"off": open_project(root, parallelism=2, prestart_kernels=0),
                "default": open_project(root, parallelism=2),
                "per_step": open_project(root, parallelism=2, prestart_kernels=n)}

    def ours(project) -> float:
        if project.settings.prestart_kernels:
            _pool_full(project)
        started = time.perf_counter()
        run = project.start_run(wait=True, force=True)
        elapsed = time.perf_counter() - started
        assert run["status"] == "succeeded" and statuses(run) == {"succeeded"}, run
        return elapsed / n

    times: dict[str, list] = {"raw": [], **{key: [] for key in variants}}
    try:
        raw()
        for project in variants.values():
            ours(project)           # warm-up: process pool, first fill of the kernel pool
        for _ in range(rounds):
            times["raw"].append(raw())
            for key, project in variants.items():
                times[key].append(ours(project))
    finally:
        for project in variants.values():
            project.close()
    result = {"steps": n, "rounds": rounds,
              "default_prestart": variants["default"].settings.prestart_kernels,
              **{f"{key}_per_step_s": median(values) for key, values in times.items()},
              "rounds_s": times}
    for key in variants:
        result[f"{key}_speedup_vs_raw"] = result["raw_per_step_s"] / result[f"{key}_per_step_s"]
    return result


SKLEARN_STEP = ("import pandas as pd\nfrom sklearn.datasets import make_classification\n"
                "from sklearn.linear_model import LogisticRegression\n"
                "X, y = make_classification(n_samples=500, n_features=20, random_state=0)\n"
                "model = LogisticRegression(max_iter=500).fit(pd.DataFrame(X), y)\n"
                "score = model.score(pd.DataFrame(X), y)")
PRELOAD = ["pandas", "sklearn.datasets", "sklearn.linear_model"]


def bench_preload(work: Path, rounds: int) -> dict:
    """A step importing pandas + scikit-learn and fitting a small model: raw papermill vs a
    pooled kernel without and with `preload`; then the memory an idle pooled kernel holds."""
    import papermill

    root = work / "preload"
    write_step(root, "fit", SKLEARN_STEP)
    out = work / "preload-raw-out"
    out.mkdir()

    def raw() -> float:
        started = time.perf_counter()
        papermill.execute_notebook(str(root / "fit.ipynb"), str(out / "fit.ipynb"),
                                   kernel_name="python3", cwd=str(root), progress_bar=False)
        return time.perf_counter() - started

    variants = {"pool": open_project(root, parallelism=1, prestart_kernels=1),
                "preload": open_project(root, parallelism=1, prestart_kernels=1, preload=PRELOAD)}

    def ours(project) -> float:
        _pool_full(project)
        started = time.perf_counter()
        run = project.start_run(wait=True, force=True)
        elapsed = time.perf_counter() - started
        assert run["status"] == "succeeded", run
        return elapsed

    times: dict[str, list] = {"raw": [], "pool": [], "preload": []}
    memory = {}
    try:
        raw()
        for project in variants.values():
            ours(project)
        for _ in range(rounds):
            times["raw"].append(raw())
            for key, project in variants.items():
                times[key].append(ours(project))
        for key, project in variants.items():
            _pool_full(project)
            memory[key] = _kernel_memory(project.runs.executor.kernels.idle_pids())
    finally:
        for project in variants.values():
            project.close()
    result = {"rounds": rounds, "preload": PRELOAD,
              **{f"{key}_s": median(values) for key, values in times.items()},
              "rounds_s": times, "memory": memory}
    result["pool_speedup_vs_raw"] = result["raw_s"] / result["pool_s"]
    result["preload_speedup_vs_raw"] = result["raw_s"] / result["preload_s"]
    return result


def _kernel_memory(pids) -> dict:
    """RSS and USS (memory only this process holds) per idle kernel, MB."""
    import psutil

    rss, uss = [], []
    for pid in pids:
        info = psutil.Process(pid).memory_full_info()
        rss.append(info.rss / 2**20)
        uss.append(info.uss / 2**20)
    return {"kernels": len(rss), "rss_mb": median(rss), "uss_mb": median(uss)}


# -- 2. no-op rerun ---------------------------------------------------------------------------


def bench_noop(work: Path, layers: int, width: int, repeats: int, profile: bool) -> dict:
    root = work / "dag"
    steps = dag_project(root, layers, width)
    project = open_project(root, parallelism=2)
    started = time.perf_counter()
    full = project.start_run(wait=True)
    full_s = time.perf_counter() - started
    project.close()
    assert full["status"] == "succeeded" and statuses(full) == {"succeeded"}, full

    times, opens = [], []
    checks = {"all_up_to_date": True, "submitted": 0, "pool_created": False, "output_notebooks": 0}
    for _ in range(repeats):
        started = time.perf_counter()
        fresh = open_project(root, parallelism=2)   # as a new CLI process would
        opens.append(time.perf_counter() - started)
        counting = counted(fresh)
        started = time.perf_counter()
        run = fresh.start_run(wait=True)
        times.append(time.perf_counter() - started)
        checks["all_up_to_date"] &= statuses(run) == {"up_to_date"} and run["status"] == "succeeded"
        checks["submitted"] += counting.submitted
        checks["pool_created"] |= getattr(counting.inner, "_pool", None) is not None
        checks["output_notebooks"] += len(list((root / ".mlprod" / "runs" / str(run["id"])).glob("*.ipynb")))
        fresh.close()
    assert checks["all_up_to_date"], "a no-op rerun ran a step"
    assert checks["submitted"] == 0 and not checks["pool_created"], checks
    assert checks["output_notebooks"] == 0, checks
    if profile:
        _profile(lambda: _noop_once(root), "no-op rerun")
    return {"steps": steps, "first_full_run_s": full_s, "noop_rerun_s": median(times),
            "noop_rerun_runs_s": times, "project_open_s": median(opens),
            "kernels_started": checks["submitted"], **checks}


def _noop_once(root: Path) -> None:
    project = open_project(root, parallelism=2)
    try:
        project.start_run(wait=True)
    finally:
        project.close()


def _profile(fn, label: str) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    print(f"\n--- cProfile of {label} (top 25 by cumulative time) ---")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


# -- 3. parallel sleeps ---------------------------------------------------------------------------
def bench_parallel(work: Path, seconds: float, rounds: int) -> dict:
    root = work / "parallel"
    for name in ("p0", "p1"):
        write_step(root, name, f"import time\ntime.sleep({seconds})")
    write_step(root, "warm", "pass")
    project = open_project(root, parallelism=2)

    def timed(**kwargs) -> float:
        started = time.perf_counter()
        run = project.start_run(wait=True, force=True, **kwargs)
        assert run["status"] == "succeeded", run
        return time.perf_counter() - started

    try:
        timed(steps=["warm"])        # warm-up: pool start
        one, two = [], []
        for _ in range(rounds):
            one.append(timed(steps=["p0"]))
            two.append(timed(steps=["p0", "p1"]))
    finally:
        project.close()
    result = {"sleep_s": seconds, "rounds": rounds, "one_step_s": median(one),
              "two_steps_parallel_s": median(two), "one_rounds": one, "two_rounds": two}
    result["ratio"] = result["two_steps_parallel_s"] / result["one_step_s"]
    return result


# -- 4. Dask ------------------------------------------------------------------------------------
def _cluster():
    from distributed import LocalCluster

    return LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                        dashboard_address=None, host="127.0.0.1",
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})  # not 8787


def bench_dask(work: Path, n: int, rounds: int, passes: int) -> dict:
    """Cold = the first notebook on a fresh cluster; warm = once both workers have run one."""
    import papermill
    from distributed import Client

    root = work / "dask-chain"
    names = chain_project(root, n)
    for name in ("w0", "w1"):        # two independent steps: one lands on each worker
        write_step(root, name, TRIVIAL)
    out = work / "dask-raw-out"
    out.mkdir()
    raw_cold, raw_warm, our_cold, our_warm = [], [], [], []
    for _ in range(rounds):
        # A: raw papermill submitted to a fresh cluster
        with _cluster() as cluster, Client(cluster.scheduler_address, set_as_default=False) as client:
            def submit(name):
                return client.submit(papermill.execute_notebook, str(root / f"{name}.ipynb"),
                                     str(out / f"{name}.ipynb"), kernel_name="python3",
                                     cwd=str(root), progress_bar=False, pure=False)

            started = time.perf_counter()
            submit(names[0]).result()
            raw_cold.append(time.perf_counter() - started)
            client.gather([submit("w0"), submit("w1")])  # the other worker gets warm too
            per = []
            for _pass in range(passes):
                for name in names:
                    started = time.perf_counter()
                    submit(name).result()
                    per.append(time.perf_counter() - started)
            raw_warm.append(median(per))
        # B: the same through mlprod on a fresh cluster
        with _cluster() as cluster:
            project = open_project(root, executor="dask", dask_address=cluster.scheduler_address,
                                   parallelism=2)
            try:
                run = project.start_run(wait=True, force=True, steps=[names[0]])
                assert run["status"] == "succeeded", run
                our_cold.append(run["steps"][0]["duration"])
                assert project.start_run(wait=True, force=True, steps=["w0", "w1"])["status"] == \
                    "succeeded"
                warm = []
                for _pass in range(passes):
                    started = time.perf_counter()
                    run = project.start_run(wait=True, force=True, steps=names)
                    assert run["status"] == "succeeded", run
                    warm.append((time.perf_counter() - started) / n)
                our_warm.append(median(warm))
            finally:
                project.close()
    return {"steps": n, "rounds": rounds,
            "raw_cold_s": median(raw_cold), "raw_warm_s": median(raw_warm),
            "mlprod_cold_first_step_s": median(our_cold),
            "mlprod_warm_per_step_s": median(our_warm),
            "warm_ratio_vs_raw": median(our_warm) / median(raw_warm),
            "cold_ratio_vs_raw": median(our_cold) / median(raw_cold),
            "warm_ratio_vs_docs_anchor": median(our_warm) / ANCHOR_DASK["warm"],
            "cold_ratio_vs_docs_anchor": median(our_cold) / ANCHOR_DASK["cold"]}


# -- main -----------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short version (< 1 minute)")
    parser.add_argument("--rounds", type=int, help="A B rounds for the overhead part")
    parser.add_argument("--profile", action="store_true", help="cProfile the no-op rerun")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--only-kernels", action="store_true",
                        help="only the pre-started kernel parts (1b, 1c)")
    args = parser.parse_args()
    for noisy in ("distributed", "tornado", "papermill", "traitlets", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.ERROR)

    quick = args.quick
    plan = dict(chain=2 if quick else 5, rounds=args.rounds or (3 if quick else 5),
                layers=3 if quick else 5, width=4 if quick else 10, noop_repeats=3,
                sleep=3.0, parallel_rounds=1 if quick else 3, dask_rounds=1 if quick else 2,
                dask_passes=1 if quick else 2)
    info = machine()
    print(f"machine: {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, "
          f"papermill {info.get('papermill')}, distributed {info.get('distributed')}; "
          f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}; {'quick' if quick else 'full'} mode")
    started = time.perf_counter()
    results: dict = {"machine": info, "mode": "quick" if quick else "full",
                     "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="mlprod-bench-") as tmp, _kernel_noise_to(Path(tmp)):
        work = Path(tmp) / "work"
        work.mkdir()
        parts = [
            (f"per-step overhead: chain of {plan['chain']}, {plan['rounds']} rounds A B",
             "overhead", lambda: bench_overhead(work, plan["chain"], plan["rounds"])),
            (f"pre-started kernels: chain of 5, {plan['rounds']} rounds A B C D", "pool",
             lambda: bench_pool(work, 5, plan["rounds"])),
            (f"preload pandas + scikit-learn, {plan['rounds']} rounds A B C", "preload",
             lambda: bench_preload(work, plan["rounds"])),
            (f"no-op rerun of {plan['layers'] * plan['width']} steps", "noop",
             lambda: bench_noop(work, plan["layers"], plan["width"], plan["noop_repeats"],
                                args.profile)),
            (f"two {plan['sleep']:g} s steps in parallel, {plan['parallel_rounds']} round(s)",
             "parallel", lambda: bench_parallel(work, plan["sleep"], plan["parallel_rounds"])),
        ]
        if args.only_kernels:
            parts = parts[1:3]
        if not args.skip_dask and not args.only_kernels:
            parts.append((f"Dask LocalCluster(2 workers), chain of {plan['chain']}, "
                          f"{plan['dask_rounds']} fresh-cluster round(s)", "dask",
                          lambda: bench_dask(work, plan["chain"], plan["dask_rounds"],
                                             plan["dask_passes"])))
        for i, (label, key, fn) in enumerate(parts, 1):
            print(f"[{i}/{len(parts)}] {label} ...", end=" ", flush=True)
            part_started = time.perf_counter()
            results[key] = fn()
            print(f"{time.perf_counter() - part_started:.0f} s", flush=True)
        shutil.rmtree(work, ignore_errors=True)
    results["total_s"] = time.perf_counter() - started
    results["load_after"] = os.getloadavg()
    report(results)
    return 0


@contextlib.contextmanager
def _kernel_noise_to(folder: Path):
    """Kernels and Dask workers inherit fd 2; send their chatter to a file, keep ours on a copy.
    On failure the tail of that file is printed."""
    log_path = folder / "stderr.log"
    saved = os.dup(2)
    sys.stderr.flush()
    with open(log_path, "wb") as log:
        os.dup2(log.fileno(), 2)
    sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1)
    try:
        yield
    except BaseException:
        sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
        raise
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        sys.stderr = sys.__stderr__


def report(r: dict) -> None:
    rows: list = []
    summary: dict = {"mode": r["mode"], "cpus": r["machine"]["cpus"]}
    if "overhead" in r:
        o, n, p = r["overhead"], r["noop"], r["parallel"]
        rows += [
            ["per-step, trivial 2-cell notebook", "raw papermill in-process", o["raw_per_step_s"],
             o["mlprod_per_step_s"], f"{o['ratio']:.2f}x (+{o['overhead_ms']:.0f} ms/step)", "< +0.2 s"],
            ["  of which execute_step in the worker", "", "", o["worker_execute_step_s"],
             f"orchestration {o['orchestration_ms']:.0f} ms/step", ""],
            ["  first run (pool start)", "", "", o["mlprod_first_run_per_step_s"], "", ""],
            [f"no-op rerun, {n['steps']} steps", "goal", 1.0, n["noop_rerun_s"],
             f"{n['noop_rerun_s']:.2f} s; kernels started {n['kernels_started']}, "
             f"pool {'created' if n['pool_created'] else 'never created'}", "< 1 s, 0 kernels"],
            ["  project open (fresh process)", "", "", n["project_open_s"], "", ""],
            [f"  first full run, {n['steps']} steps, par. 2", "", "", n["first_full_run_s"], "", ""],
            [f"2 x sleep({p['sleep_s']:g}), parallelism 2", "one step alone", p["one_step_s"],
             p["two_steps_parallel_s"], f"{p['ratio']:.2f}x", "< 1.5x"],
        ]
        summary.update({
            "per_step_raw_s": round(o["raw_per_step_s"], 3),
            "per_step_mlprod_s": round(o["mlprod_per_step_s"], 3),
            "per_step_ratio": round(o["ratio"], 3), "per_step_overhead_ms": round(o["overhead_ms"], 1),
            "per_step_orchestration_ms": round(o["orchestration_ms"], 1),
            "noop_rerun_steps": n["steps"], "noop_rerun_s": round(n["noop_rerun_s"], 3),
            "noop_kernels_started": n["kernels_started"], "noop_all_up_to_date": n["all_up_to_date"],
            "noop_pool_created": n["pool_created"], "noop_output_notebooks": n["output_notebooks"],
            "parallel_one_s": round(p["one_step_s"], 3),
            "parallel_two_s": round(p["two_steps_parallel_s"], 3),
            "parallel_ratio": round(p["ratio"], 3)})
    if "pool" in r:
        k, w = r["pool"], r["preload"]
        rows += [
            [f"pool: chain of {k['steps']} trivial steps, per step", "raw papermill in-process",
             k["raw_per_step_s"], "", "", ""],
            ["  prestart_kernels = 0 (pool off)", "", "", k["off_per_step_s"],
             f"{k['off_speedup_vs_raw']:.1f}x faster", ""],
            [f"  default pool ({k['default_prestart']} kernels)", "", "", k["default_per_step_s"],
             f"{k['default_speedup_vs_raw']:.1f}x faster", "<= 0.3 s, >= 4x"],
            [f"  prestart_kernels = {k['steps']}", "", "", k["per_step_per_step_s"],
             f"{k['per_step_speedup_vs_raw']:.1f}x faster", "<= 0.3 s, >= 4x"],
            ["pandas + sklearn fit step", "raw papermill in-process", w["raw_s"], w["pool_s"],
             f"pool, no preload: {w['pool_speedup_vs_raw']:.1f}x faster", ""],
            ["  with preload", "", "", w["preload_s"],
             f"{w['preload_speedup_vs_raw']:.1f}x faster", ">= 2x"],
            ["idle pooled kernel, RSS / USS MB", "", "",
             f"{w['memory']['pool']['rss_mb']:.0f} / {w['memory']['pool']['uss_mb']:.0f}",
             "with preload: " + f"{w['memory']['preload']['rss_mb']:.0f} / "
             f"{w['memory']['preload']['uss_mb']:.0f}", ""],
        ]
        summary.update({
            "pool_raw_per_step_s": round(k["raw_per_step_s"], 3),
            "pool_off_per_step_s": round(k["off_per_step_s"], 3),
            "pool_default_per_step_s": round(k["default_per_step_s"], 3),
            "pool_per_step_per_step_s": round(k["per_step_per_step_s"], 3),
            "pool_per_step_speedup": round(k["per_step_speedup_vs_raw"], 2),
            "preload_raw_s": round(w["raw_s"], 3), "preload_pool_s": round(w["pool_s"], 3),
            "preload_s": round(w["preload_s"], 3),
            "preload_speedup": round(w["preload_speedup_vs_raw"], 2),
            "idle_kernel_rss_mb": round(w["memory"]["pool"]["rss_mb"], 1),
            "idle_kernel_preload_rss_mb": round(w["memory"]["preload"]["rss_mb"], 1),
            "idle_kernel_uss_mb": round(w["memory"]["pool"]["uss_mb"], 1),
            "idle_kernel_preload_uss_mb": round(w["memory"]["preload"]["uss_mb"], 1)})
    if "dask" in r:
        d = r["dask"]
        rows += [
            ["dask, first step on cold workers", "raw papermill on dask", d["raw_cold_s"],
             d["mlprod_cold_first_step_s"],
             f"{d['cold_ratio_vs_raw']:.2f}x (docs 2.4 s: {d['cold_ratio_vs_docs_anchor']:.2f}x)", ""],
            ["dask, warm, per step", "raw papermill on dask", d["raw_warm_s"],
             d["mlprod_warm_per_step_s"],
             f"{d['warm_ratio_vs_raw']:.2f}x (docs 0.8 s: {d['warm_ratio_vs_docs_anchor']:.2f}x)", ""],
        ]
        summary.update({
            "dask_raw_cold_s": round(d["raw_cold_s"], 3), "dask_raw_warm_s": round(d["raw_warm_s"], 3),
            "dask_mlprod_cold_s": round(d["mlprod_cold_first_step_s"], 3),
            "dask_mlprod_warm_s": round(d["mlprod_warm_per_step_s"], 3),
            "dask_warm_ratio_vs_raw": round(d["warm_ratio_vs_raw"], 3)})
    print()
    print(table(["what", "anchor", "anchor s", "mlprod s", "ratio / note", "goal"], rows))
    load = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(r["load_before"], r["load_after"]))
    print(f"\ntotal benchmark time {r['total_s']:.0f} s; load average before/after (1, 5, 15 min): "
          f"{load} on {r['machine']['cpus']} CPUs")
    summary["total_s"] = round(r["total_s"], 1)
    summary["load_1min_before_after"] = [round(r["load_before"][0], 2), round(r["load_after"][0], 2)]
    print(json.dumps(summary))


if __name__ == "__main__":
    sys.exit(main())
