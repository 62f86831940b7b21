"""Scheduler benchmark: 1,000 enabled cron scenarios (`* * * * *`, spread over ten time zones),
all due at the same instant every minute: the scheduler's worst case.

What is measured (see /work/shared/benchmarks.md for the method of the other benchmarks):
- fire latency: due time -> run start (the run record's start), p50 / p99 / max per store;
- scheduler CPU seconds per minute: `time.process_time()` of the process running the
  scheduler (its loop, poller and reporter threads and the database client work; not the
  PostgreSQL server's CPU): the CPU of one minute-boundary burst plus the idle rate (measured
  just before the boundary) times the rest of the minute.

The launcher is "dry-run": each fire records its claim and a run record, and no step executes
(no kernel starts), so the figures are the scheduler's, not papermill's. The scheduler runs
in-process with an injected clock that is OFFSET (never slowed) so that a minute boundary
falls a few seconds after each round starts: elapsed times are real, rounds take ~12 s
instead of a minute each.

Anchors, measured in the same run with the same rounds and clock:
- `naive-memory`: a loop holding one croniter per schedule in memory, waking every second
  and firing what is due (no persistence: the floor of any cron loop);
- `naive-sqlite`: the same loop writing one row per fire to SQLite, one commit per fire
  (what a simple database-backed scheduler does).
jupyter-scheduler itself is not installable here to compare.

Usage: .venv/bin/python benchmarks/scheduler.py [--quick] [--scenarios 1000] [--rounds 3]
       [--pg postgresql://postgres@127.0.0.1:5432/test] [--no-pg]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_mlprod.clock import Clock  # noqa: E402

UTC = dt.timezone.utc
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Asia/Kolkata",
         "Australia/Adelaide", "America/Sao_Paulo", "Africa/Nairobi", "Pacific/Auckland",
         "Asia/Kathmandu"]
LEAD = 6.0      # seconds between a round's start and its minute boundary (idle measured there)
SETTLE = 6.0    # seconds after the boundary within which the burst must be done


class ShiftedClock(Clock):
    def __init__(self):
        self.offset = 0.0

    def now(self):
        return dt.datetime.now(UTC) + dt.timedelta(seconds=self.offset)

    def aim(self, lead: float) -> dt.datetime:
        """Shift forward (never past a boundary) so the next minute boundary is at most `lead`
        seconds away; return it."""
        now = self.now()
        boundary = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        self.offset += max(0.0, (boundary - now).total_seconds() - lead)
        return boundary

    def sleep_until(self, when: dt.datetime) -> None:
        delay = (when - self.now()).total_seconds()
        if delay > 0:
            time.sleep(delay)


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def rounds_of(clock: ShiftedClock, rounds: int, on_boundary):
    """Run rounds: idle before each boundary, burst after it; returns per-round CPU figures."""
    out = []
    for _ in range(rounds):
        boundary = clock.aim(LEAD)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        clock.sleep_until(boundary - dt.timedelta(seconds=0.5))
        cpu1, wall1 = time.process_time(), time.perf_counter()
        clock.sleep_until(boundary + dt.timedelta(seconds=SETTLE))
        cpu2 = time.process_time()
        idle_rate = (cpu1 - cpu0) / (wall1 - wall0)
        burst = cpu2 - cpu1
        out.append({"boundary": boundary, "idle_rate": idle_rate, "burst": burst,
                    "cpu_per_min": burst + idle_rate * (60 - SETTLE - 0.5)})
        on_boundary(boundary)
    return out


# -- ours -----------------------------------------------------------------------------------
def bench_ours(label: str, store_url: str, n: int, rounds: int) -> dict:
    from jupyter_mlprod.project import Project
    from jupyter_mlprod.scheduling import Scheduler

    root = Path(tempfile.mkdtemp(prefix="mlprod-bench-"))
    try:
        _write_step(root)
        clock = ShiftedClock()
        project = Project(root, store_url=store_url or None, parallelism=1, clock=clock)
        t0 = time.perf_counter()
        for i in range(n):
            project.scenarios.create({"name": f"s{i:04d}", "run": {}, "triggers": [
                {"type": "cron", "cron": "* * * * *", "timezone": ZONES[i % len(ZONES)]}]})
        create_s = time.perf_counter() - t0
        scheduler = Scheduler(project, clock=clock, launcher="dry-run", poll_interval=1.0,
                              name=f"bench-{label}")
        scheduler.start()
        time.sleep(1.0)
        latencies, missing = [], 0

        def collect(boundary):
            nonlocal missing
            fires = project.scenarios.timeline(since=boundary, until=boundary, limit=5000)
            done = [f for f in fires if f["latency"] is not None]
            missing += n - len(done)
            latencies.extend(f["latency"] for f in done)

        cpu = rounds_of(clock, rounds, collect)
        scheduler.stop(timeout=5)
        project.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return _summary(label, cpu, latencies, missing, n * rounds, create_s=create_s)


def _write_step(root: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["mlprod"] = {"step": "noop", "inputs": [], "outputs": []}
    nb.cells.append(nbformat.v4.new_code_cell("pass"))
    nbformat.write(nb, root / "noop.ipynb")


# -- anchors --------------------------------------------------------------------------------
def bench_naive(label: str, n: int, rounds: int, persist: bool) -> dict:
    from zoneinfo import ZoneInfo

    from croniter import croniter

    clock = ShiftedClock()
    now = clock.now()
    schedules = []
    for i in range(n):
        it = croniter("* * * * *", now.astimezone(ZoneInfo(ZONES[i % len(ZONES)])))
        schedules.append([it, it.get_next(dt.datetime).astimezone(UTC)])
    latencies: list[float] = []
    stop = threading.Event()
    tmp = Path(tempfile.mkdtemp(prefix="mlprod-naive-"))
    db = sqlite3.connect(tmp / "naive.db", check_same_thread=False) if persist else None
    if db:
        db.execute("CREATE TABLE fires (schedule INTEGER, due TEXT, fired TEXT)")

    def loop():
        while not stop.is_set():
            current = clock.now()
            for i, entry in enumerate(schedules):
                while entry[1] <= current:
                    if db:
                        db.execute("INSERT INTO fires VALUES (?, ?, ?)",
                                   (i, entry[1].isoformat(), clock.now().isoformat()))
                        db.commit()
                    latencies.append((clock.now() - entry[1]).total_seconds())
                    entry[1] = entry[0].get_next(dt.datetime).astimezone(UTC)
            stop.wait(1.0)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    time.sleep(1.0)
    cpu = rounds_of(clock, rounds, lambda boundary: None)
    stop.set()
    thread.join()
    if db:
        db.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return _summary(label, cpu, latencies, n * rounds - len(latencies), n * rounds)


def _summary(label, cpu, latencies, missing, expected, create_s=None) -> dict:
    return {"label": label, "fires": len(latencies), "expected": expected, "missing": missing,
            "p50": percentile(latencies, 0.50), "p99": percentile(latencies, 0.99),
            "max": max(latencies) if latencies else float("nan"),
            "cpu_per_min": statistics.median(c["cpu_per_min"] for c in cpu),
            "burst": statistics.median(c["burst"] for c in cpu),
            "idle_pct": 100 * statistics.median(c["idle_rate"] for c in cpu),
            "create_s": create_s}


def pg_schema(base: str):
    import sqlalchemy as sa

    schema = f"mlprod_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop():
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{base}?options=-csearch_path%3D{schema}", drop


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one round per configuration")
    parser.add_argument("--pg", default=os.environ.get("MLPROD_TEST_PG",
                                                      "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    n = args.scenarios
    import logging

    logging.basicConfig(level=logging.ERROR)
    print(f"{n} cron scenarios, {rounds} round(s) each; {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}", flush=True)
    results = [bench_naive("naive-memory", n, rounds, persist=False)]
    results.append(bench_naive("naive-sqlite", n, rounds, persist=True))
    tmp = Path(tempfile.mkdtemp(prefix="mlprod-bench-store-"))
    results.append(bench_ours("mlprod-sqlite", f"sqlite:///{tmp / 'store.db'}", n, rounds))
    shutil.rmtree(tmp, ignore_errors=True)
    if not args.no_pg:
        url, drop = pg_schema(args.pg)
        try:
            results.append(bench_ours("mlprod-postgresql", url, n, rounds))
        finally:
            drop()
    anchor = results[0]
    print(f"\n{'configuration':<20}{'fires':>12}{'p50 s':>9}{'p99 s':>9}{'max s':>9}"
          f"{'CPU s/min':>11}{'burst s':>9}{'idle %':>8}{'x CPU':>8}{'x p99':>8}")
    for r in results:
        print(f"{r['label']:<20}{r['fires']:>6}/{r['expected']:<5}{r['p50']:>9.3f}{r['p99']:>9.3f}"
              f"{r['max']:>9.3f}{r['cpu_per_min']:>11.2f}{r['burst']:>9.2f}{r['idle_pct']:>8.2f}"
              f"{r['cpu_per_min'] / anchor['cpu_per_min']:>8.1f}{r['p99'] / anchor['p99']:>8.2f}")
    for r in results:
        if r["create_s"] is not None:
            print(f"{r['label']}: creating {n} scenarios took {r['create_s']:.1f} s "
                  f"({1000 * r['create_s'] / n:.1f} ms each)")
    ours = [r for r in results if r["label"].startswith("mlprod")]
    ok = all(r["p99"] < 1.0 and r["missing"] == 0 for r in ours)
    print(f"\nratios are against {anchor['label']}; goal p99 < 1 s with no fire missing: "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
