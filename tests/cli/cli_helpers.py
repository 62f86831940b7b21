"""Running `mlprod` as a user does: a subprocess (`python -m jupyter_mlprod.cli`), real files."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jupyter_mlprod

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "example_notebooks"
# The folder holding the jupyter_mlprod the tests import: this checkout when run from source,
# site-packages when installed. Subprocesses (and the kernels they start) import the same one.
PACKAGE_HOME = str(Path(jupyter_mlprod.__file__).resolve().parents[1])


def cli_env(extra: dict | None = None) -> dict:
    """The test's environment, with PYTHONPATH leading to the jupyter_mlprod under test, so the
    command and the kernels it starts use it whether or not the package is installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_HOME, env.get("PYTHONPATH")) if p)
    for key in ("MLPROD_PROJECT", "MLPROD_STORE_URL", "MLPROD_EXECUTOR", "MLPROD_STEP_RUN"):
        env.pop(key, None)
    env.update(extra or {})
    return env


def mlprod(*args: str, cwd: Path | str, timeout: float = 300, env: dict | None = None
           ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jupyter_mlprod.cli", *args], cwd=cwd,
                          env=cli_env(env), capture_output=True, text=True, timeout=timeout)


def mlprod_json(*args: str, cwd: Path | str, **kwargs):
    result = mlprod("--json", *args, cwd=cwd, **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def copy_example(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(
        ".mlprod", "data", "models", "reports", ".ipynb_checkpoints"))
    return dest


def statuses(run: dict) -> dict:
    return {s["step"]: s["status"] for s in run["steps"]}


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """Assert the command refused its input the way users should see it: exit 2, one line."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mlprod: error: "), lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]
