"""Bad input: exit 2, ONE line on stderr saying what to fix, no traceback, and nothing created."""
from __future__ import annotations

import json

import nbformat
import pytest
from cli_helpers import copy_example, mlprod, mlprod_json, one_error_line


@pytest.fixture
def loan(tmp_path):
    return copy_example(tmp_path / "loan")


def add_cycle(root, make_step):
    make_step(root, "clean", "pass", after=["enrich"])
    make_step(root, "enrich", "pass", after=["clean"])


def add_duplicate(root, make_step):
    make_step(root, "prepare", "pass", path="copy_of_prepare.ipynb")


def add_malformed(root, make_step):
    (root / "broken.ipynb").write_text('{"cells": [oops')


def add_missing_input(root, make_step):
    make_step(root, "report", "pass", inputs=["data/nowhere.csv"])


def add_missing_kernel(root, make_step):
    make_step(root, "odd", "pass", kernel="nope")


CASES = {
    # name: (project change, command, words the one line must contain)
    "unknown step": (None, ["run", "--steps", "prepare,nope"], ["unknown step 'nope'"]),
    "unknown --from": (None, ["run", "--from", "nope"], ["unknown step 'nope'"]),
    "bad value": (None, ["run", "-p", "n_rows=many"], ["n_rows", "an int", "'many'"]),
    "unknown parameter": (None, ["run", "-p", "nope=1"], ["parameter 'nope'"]),
    "unknown step parameter": (None, ["run", "-p", "train.nope=1"], ["train", "'nope'"]),
    "parameter without =": (None, ["run", "-p", "n_rows"], ["'n_rows'", "name=value"]),
    "cycle": (add_cycle, ["run"], ["cycle", "clean", "enrich"]),
    "duplicate step names": (add_duplicate, ["run"],
                             ["'prepare'", "copy_of_prepare.ipynb", "prepare.ipynb", "unique"]),
    "malformed notebook": (add_malformed, ["run"], ["broken.ipynb", "not valid JSON"]),
    "missing input": (add_missing_input, ["run"], ["report", "data/nowhere.csv"]),
    "missing kernel": (add_missing_kernel, ["run"], ["odd", "kernel 'nope'"]),
    "input not produced by the selection": (None, ["run", "--steps", "evaluate"],
                                            ["evaluate", "models/model.joblib", "train"]),
    "unknown run": (None, ["show", "42"], ["run 42"]),
    "run id not a number": (None, ["resume", "latest"], ["run id", "'latest'"]),
    "cancel a missing run": (None, ["cancel", "7"], ["run 7"]),
    "bad --limit": (None, ["runs", "--limit", "0"], ["limit"]),
    "unknown executor": (None, ["--executor", "warp", "run"], ["executor 'warp'"]),
    "bad store url": (None, ["--store", "nonsense", "runs"], ["store url", "nonsense"]),
    "missing project": (None, ["--project", "no/such/folder", "steps"], ["does not exist"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_2_with_one_line_and_creates_nothing(case, loan, make_step):
    change, command, words = CASES[case]
    if change:
        change(loan, make_step)
    before = sorted(p.relative_to(loan) for p in loan.rglob("*") if ".mlprod" not in p.parts)
    result = mlprod(*command, cwd=loan)
    line = one_error_line(result)
    for word in words:
        assert word in line, line
    assert result.stdout == ""
    after = sorted(p.relative_to(loan) for p in loan.rglob("*") if ".mlprod" not in p.parts)
    assert after == before
    if "store" not in case and "project" not in case:
        assert mlprod_json("runs", cwd=loan) == {"runs": [], "total": 0}


def test_a_path_outside_the_project_is_refused_and_nothing_is_written(tmp_path, loan):
    outside = tmp_path / "x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), outside)
    before = outside.read_bytes()
    line = one_error_line(mlprod("step", "tag", "../x.ipynb", "--name", "x", cwd=loan))
    assert "'../x.ipynb'" in line and "outside the project" in line
    line = one_error_line(mlprod("step", "tag", str(outside), "--name", "x", cwd=loan))
    assert "outside the project" in line
    assert outside.read_bytes() == before


def test_tagging_that_would_break_the_pipeline_is_refused(loan):
    before = (loan / "evaluate.ipynb").read_bytes()
    line = one_error_line(mlprod("step", "tag", "evaluate.ipynb", "--name", "train", cwd=loan))
    assert "'train'" in line and "train.ipynb" in line
    line = one_error_line(mlprod("step", "tag", "prepare.ipynb", "--after", "evaluate", cwd=loan))
    assert "cycle" in line and "prepare" in line and "evaluate" in line
    line = one_error_line(mlprod("step", "tag", "train.ipynb", "--retries", "11", cwd=loan))
    assert "retries" in line
    assert (loan / "evaluate.ipynb").read_bytes() == before


def test_init_refuses_to_overwrite_a_project(loan):
    config = (loan / "mlprod.toml").read_text()
    line = one_error_line(mlprod("init", str(loan), cwd=loan))
    assert "mlprod.toml already exists" in line
    assert (loan / "mlprod.toml").read_text() == config


def test_usage_errors_exit_2_the_argparse_way(loan):
    for command in (["run", "--steps", "a", "--from", "b"], ["frobnicate"], ["run", "--nope"],
                    ["step", "tag", "train.ipynb", "--retries", "many"]):
        result = mlprod(*command, cwd=loan)
        assert result.returncode == 2, command
        assert result.stderr.startswith("usage: mlprod"), result.stderr
        assert "Traceback" not in result.stderr
    assert mlprod_json("runs", cwd=loan)["total"] == 0


def test_json_output_of_errors_stays_on_stderr(loan):
    result = mlprod("--json", "run", "--steps", "nope", cwd=loan)
    one_error_line(result)
    assert result.stdout == ""
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)


def test_an_unreachable_store_exits_3_with_one_line(loan):
    result = mlprod("--store", "postgresql://mlprod@127.0.0.1:1/nowhere", "runs", cwd=loan)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 3, result.stderr
    assert len(lines) == 1 and lines[0].startswith("mlprod: error: cannot reach the store")
    assert result.stdout == ""
