"""`%mlprod metrics` draws a trend chart (Vega-Lite) and `mlprod.log_metric` used by hand shows
the value and records nothing: a real kernel runs the cells (papermill)."""
from __future__ import annotations

from magic_notebook import execute_cells
from monitoring_helpers import project_with_history
from jupyter_mlprod.project import Project

VEGALITE = "application/vnd.vegalite.v5+json"
METRIC = "application/vnd.mlprod.metric+json"


def test_metrics_magic_plots_the_trend_and_interactive_logging_records_nothing(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    runs = project_with_history(root, aucs=(0.9, 0.86))
    nb = execute_cells([
        "%load_ext jupyter_mlprod",
        "%mlprod metrics evaluate --metric roc_auc",
        "%mlprod metrics evaluate --metric nope",
        "%mlprod checks " + str(runs[1]),
        "import jupyter_mlprod as mlprod\nmlprod.log_metric('roc_auc', 0.5)",
    ], cwd=root, workdir=tmp_path, name="metrics")
    for cell in nb.cells:
        assert all(o.output_type != "error" for o in cell.outputs), cell.source
    [chart] = [o for o in nb.cells[1].outputs if VEGALITE in o.get("data", {})]
    spec = chart["data"][VEGALITE]
    assert [(v["run"], v["value"]) for v in spec["data"]["values"]] == [(runs[0], 0.9),
                                                                         (runs[1], 0.86)]
    assert spec["data"]["values"][1]["parameters"] == "auc=0.86"
    assert {t["field"] for t in spec["spec"]["layer"][0]["encoding"]["tooltip"]} >= {
        "run", "value", "parameters"}
    assert "0.86" in chart["data"]["text/plain"]
    assert "has recorded no metric nope" in nb.cells[2].outputs[0]["data"]["text/plain"]
    assert "roc_auc = 0.86 passes" in nb.cells[3].outputs[0]["data"]["text/plain"]
    [shown] = nb.cells[4].outputs
    assert shown["data"][METRIC] == {"metrics": {"roc_auc": 0.5}}
    assert shown["data"]["text/plain"] == "metric roc_auc = 0.5"
    project = Project(root)
    try:   # nothing was recorded by the interactive call
        points = project.metrics.history("evaluate", "roc_auc")["series"][0]["points"]
        assert [p["value"] for p in points] == [0.9, 0.86]
    finally:
        project.close()
