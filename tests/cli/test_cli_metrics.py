"""`mlprod metrics`, `mlprod checks` and the checks in `mlprod show`, as a user runs them."""
from __future__ import annotations

import pytest

from cli_helpers import mlprod, mlprod_json, one_error_line
from monitoring_helpers import project_with_history


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-metrics")
    return root, project_with_history(root)


def test_metrics_of_a_step_across_runs_and_of_the_latest_run(history):
    root, runs = history
    data = mlprod_json("metrics", "evaluate", "--metric", "roc_auc", cwd=root)
    [series] = data["series"]
    assert [(p["run_id"], p["value"], p["step_status"]) for p in series["points"]] == [
        (runs[0], 0.9, "succeeded"), (runs[1], 0.91, "succeeded"), (runs[2], 0.7, "failed")]
    assert len(mlprod_json("metrics", "evaluate", "--last", "2", cwd=root)["series"][0]["points"]) == 2
    text = mlprod("metrics", "evaluate", cwd=root).stdout
    assert text.splitlines()[0].split() == ["RUN", "METRIC", "VALUE", "STEP", "STATUS", "AT"]
    assert f"{runs[2]}    roc_auc  0.7" in text and "failed" in text
    latest = mlprod("metrics", cwd=root).stdout
    assert latest.startswith(f"run {runs[2]}\n") and "roc_auc" in latest and "f1" in latest
    assert "no metric nope" in mlprod("metrics", "evaluate", "--metric", "nope", cwd=root).stdout
    assert "last" in one_error_line(mlprod("metrics", "evaluate", "--last", "0", cwd=root))


def test_checks_of_a_run_and_in_show(history):
    root, runs = history
    checks = mlprod_json("checks", str(runs[0]), cwd=root)
    assert [(c["metric"], c["outcome"], c["value"]) for c in checks["checks"]] == [
        ("roc_auc", "OK", 0.9)]
    text = mlprod("checks", str(runs[2]), cwd=root).stdout
    assert text.startswith("checks: ERROR") and "roc_auc = 0.7 is below the minimum (min 0.8)" in text
    shown = mlprod("show", str(runs[2]), cwd=root).stdout
    assert "CheckFailed" in shown or "check failed" in shown
    assert "checks: ERROR" in shown
    record = mlprod_json("show", str(runs[2]), cwd=root)
    assert record["checks"][0]["outcome"] == "ERROR"
    assert "does not exist" in one_error_line(mlprod("checks", "999", cwd=root))
