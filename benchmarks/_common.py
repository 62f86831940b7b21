"""Small helpers shared by the benchmarks: medians, machine context, a plain-text table."""
from __future__ import annotations

import os
import platform
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def quiet_threads() -> None:
    """One BLAS/OpenMP thread per process, so ratios do not depend on thread oversubscription.
    Call before numpy is imported anywhere (kernels inherit the environment)."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def median(values) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"cpus": os.cpu_count(), "cpu": model or platform.processor(),
            "python": platform.python_version(), "platform": platform.platform(terse=True)}
    for package in ("papermill", "nbclient", "jupyter_client", "ipykernel", "distributed"):
        try:
            from importlib.metadata import version

            info[package] = version(package)
        except Exception:
            pass
    return info


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def write_step(*args, **kwargs):
    """The tests' step-notebook writer (tests/conftest.py), so benchmarks and tests agree."""
    sys.path.insert(0, str(REPO / "tests"))
    try:
        from conftest import write_step as _write_step
    finally:
        sys.path.remove(str(REPO / "tests"))
    return _write_step(*args, **kwargs)
