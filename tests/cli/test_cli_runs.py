"""`mlprod run|runs|show|resume` end to end on the example project: real kernels, real store.
One full run of the example is shared by the module; later tests build on its state."""
from __future__ import annotations

import csv
import json

import pytest
from cli_helpers import copy_example, mlprod, mlprod_json, statuses

EXAMPLE_STEPS = ["prepare", "train", "batch_score", "evaluate"]


@pytest.fixture(scope="module")
def loan(tmp_path_factory):
    """The example project after `mlprod run -p n_rows=300`, with that command's result."""
    root = copy_example(tmp_path_factory.mktemp("cli-runs") / "loan")
    result = mlprod("run", "-p", "n_rows=300", cwd=root)
    return root, result


def test_run_executes_every_step_and_reports_success(loan):
    root, result = loan
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "run 1: " + ", ".join(EXAMPLE_STEPS)
    for step in EXAMPLE_STEPS:  # one line per state change, without a TTY no live status line
        assert sum(1 for line in lines if line.split()[1:3] == [step, "running"]) == 1
        assert sum(1 for line in lines if line.split()[1:3] == [step, "succeeded"]) == 1
    assert "\r" not in result.stdout and "\x1b[" not in result.stdout
    assert lines[-1].startswith("run 1 succeeded in ")

    run = mlprod_json("show", "1", cwd=root)
    assert run["status"] == "succeeded" and run["trigger"] == "cli"
    assert statuses(run) == dict.fromkeys(EXAMPLE_STEPS, "succeeded")
    assert run["parameters"] == {"n_rows": 300}
    assert all(s["has_output"] for s in run["steps"])
    assert (root / ".mlprod" / "runs" / "1" / "train.ipynb").exists()


def test_a_parameter_from_the_command_line_reaches_the_notebook(loan):
    root, _ = loan
    with open(root / "data" / "applications.csv", newline="") as handle:
        assert sum(1 for _ in csv.reader(handle)) == 300 + 1  # the header
    prepare = next(s for s in mlprod_json("show", "1", cwd=root)["steps"] if s["step"] == "prepare")
    assert prepare["parameters"] == {"n_rows": 300, "seed": 42}
    executed = json.loads((root / ".mlprod" / "runs" / "1" / "prepare.ipynb").read_text())
    injected = [c for c in executed["cells"]
                if "injected-parameters" in c["metadata"].get("tags", [])]
    assert "n_rows = 300" in "".join(injected[0]["source"])


def test_show_and_runs_print_tables_and_json(loan):
    root, _ = loan
    text = mlprod("show", "1", cwd=root)
    assert text.returncode == 0, text.stderr
    assert "run 1  succeeded" in text.stdout and "parameters  n_rows=300" in text.stdout
    assert ".mlprod/runs/1/evaluate.ipynb" in text.stdout
    runs = mlprod("runs", cwd=root)
    assert runs.returncode == 0
    header, first = runs.stdout.splitlines()[:2]
    assert header.split() == ["ID", "STATUS", "TRIGGER", "STARTED", "DURATION", "PARAMETERS"]
    assert first.split()[:3] == ["1", "succeeded", "cli"] and first.endswith("n_rows=300")
    listed = mlprod_json("runs", "--limit", "5", cwd=root)
    assert listed["total"] >= 1 and listed["runs"][-1]["id"] == 1
    steps = mlprod_json("steps", cwd=root)
    assert {s["name"]: s["latest"]["status"] for s in steps["steps"]} == \
        dict.fromkeys(EXAMPLE_STEPS, "succeeded")


def test_a_second_run_with_the_same_parameters_is_up_to_date(loan):
    root, _ = loan
    result = mlprod("--json", "run", "-p", "n_rows=300", cwd=root)
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)  # with --json: only the run on stdout, progress on stderr
    assert statuses(run) == dict.fromkeys(EXAMPLE_STEPS, "up_to_date")
    assert "up_to_date" in result.stderr


def test_force_from_a_step_reruns_it_and_its_downstream(loan):
    root, _ = loan
    result = mlprod("run", "--from", "train", "--force", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    run = mlprod_json("runs", "--limit", "1", cwd=root)["runs"][0]
    run = mlprod_json("show", str(run["id"]), cwd=root)
    assert run["force"] is True and run["selection"] == {"steps": None, "from": "train"}
    # unchanged since the first run, yet executed again: forced
    assert statuses(run) == {"train": "succeeded", "batch_score": "succeeded",
                             "evaluate": "succeeded"}
    assert mlprod_json("show", "1", cwd=root)["parameters"] == {"n_rows": 300}


def test_a_step_parameter_applies_to_that_step_only(loan):
    root, _ = loan
    result = mlprod("--json", "run", "--steps", "evaluate,batch_score", "-p",
                    "evaluate.threshold=0.6", cwd=root)
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)
    assert run["parameters"] == {"evaluate.threshold": 0.6}
    by_step = {s["step"]: s for s in run["steps"]}
    assert by_step["evaluate"]["status"] == "succeeded"
    assert by_step["evaluate"]["parameters"]["threshold"] == 0.6
    assert by_step["batch_score"]["status"] == "up_to_date"
    assert by_step["batch_score"]["parameters"]["threshold"] == 0.5
