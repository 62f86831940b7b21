"""The drift doors on a project whose endpoint logged predictions: `mlprod drift` (JSON checked
against the REST contract's DriftReport, text, bad input), `%mlprod drift` in a real kernel
(Vega-Lite charts), the drift statistics on small references (KS, chi-square)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
for extra in (HERE, HERE.parent / "cli", HERE.parent / "server", HERE.parent / "magics"):
    sys.path.insert(0, str(extra))
from cli_helpers import mlprod, mlprod_json  # noqa: E402
from drift_helpers import applications, requests_of  # noqa: E402

from jupyter_mlprod.monitoring.drift_profile import build_profile  # noqa: E402
from jupyter_mlprod.monitoring.drift_stats import compare  # noqa: E402
from jupyter_mlprod.monitoring.prediction_columns import ColumnLog  # noqa: E402
from jupyter_mlprod.project import Project  # noqa: E402


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """An endpoint whose log holds 300 requests (written as its server's log thread writes
    them), with a reference made from its first 200 (no dataset declared)."""
    from serving_helpers_path import write_echo_project
    return write_echo_project(tmp_path_factory.mktemp("doors"))


def test_cli_prints_the_report_as_json_matching_the_contract_and_as_text(logged):
    from mlprod_api import Contract

    report = mlprod_json("drift", "echo", "--window", "300", cwd=logged)
    Contract().schema_validator("DriftReport").validate(report)
    assert report["n_reference"] == 200 and report["n_live"] == 300
    assert {f["name"]: f["test"] for f in report["features"]} == {"x": "ks", "kind": "chi2"}
    text = mlprod("drift", "echo", "--window", "300", cwd=logged)
    assert text.returncode == 0, text.stderr
    assert "dataset drift: no" in text.stdout and "ks" in text.stdout
    bad = mlprod("drift", "echo", "--window", "soon", cwd=logged)
    assert bad.returncode == 2 and "window must be a number" in bad.stderr
    few = mlprod_json("drift", "echo", "--window", "50", cwd=logged)
    assert few["message"] == "not enough data (n < 100)"


def test_magic_draws_psi_bars_and_the_prediction_distribution(logged, tmp_path):
    from magic_notebook import execute_cells

    nb = execute_cells(["%load_ext jupyter_mlprod", "%mlprod drift echo --window 300"],
                       cwd=logged, workdir=tmp_path, name="drift")
    [chart] = [o for o in nb.cells[1].outputs if "application/vnd.vegalite.v5+json" in
               o.get("data", {})]
    spec = chart["data"]["application/vnd.vegalite.v5+json"]
    bars, prediction = spec["vconcat"]
    assert {v["feature"] for v in bars["layer"][0]["data"]["values"]} == {"x", "kind"}
    assert {v["side"] for v in prediction["data"]["values"]} == {"reference", "live"}
    assert "dataset drift" in chart["data"]["text/plain"]


def test_small_references_use_ks_and_chi_square_and_flag_a_shift():
    rng = np.random.default_rng(7)
    profile = build_profile({"x": rng.normal(0, 1, 500),
                             "kind": rng.choice(["a", "b", "c"], 500)}, source="dataset")
    same = compare("x", profile["columns"]["x"], rng.normal(0, 1, 400), 100)
    moved = compare("x", profile["columns"]["x"], rng.normal(0.5, 1, 400), 100)
    assert (same["test"], same["drift"], moved["drift"]) == ("ks", False, True)
    new = compare("kind", profile["columns"]["kind"], np.array(["a", "d"] * 200), 100)
    assert (new["test"], new["drift"], new["p_value"], new["statistic"]) == ("chi2", True, 0.0, None)
    few = compare("x", profile["columns"]["x"], rng.normal(0, 1, 20), 100)
    assert few["status"] == "not_enough_data"


def test_the_column_log_keeps_the_fields_asked_for_and_prunes_by_age_then_rows(tmp_path):
    log = ColumnLog(tmp_path)
    now = 1_000_000.0
    for k, age_hours in enumerate((50, 3, 2, 1)):   # four flushes, 10 rows each
        at = now - age_hours * 3600
        log.write("e", "v1", [f"p{k}-{i}" for i in range(10)], [at + i for i in range(10)],
                  [{"x": float(i), "ssn": "[redacted]", "nested": {"a": 1}} for i in range(10)],
                  [{"p": 0.5}] * 10, columns=["x", "nested"])
    table = log.window("e", "v1", last=1000)
    assert sorted(table) == ["__at", "__id", "f:x", "p:p"]   # ssn not kept, nested never
    assert log.prune("e", "v1", max_age_hours=24, max_rows=25, now=now) == 2
    kept = log.window("e", "v1", last=1000)
    assert kept["__id"].size == 20 and kept["__id"][0] == "p2-0"
    assert log.find("e", "p3-4")[0] == "v1" and log.find("e", "p0-1") is None
    assert log.window("e", "v1", hours=1.5, now=now)["__id"].size == 10
