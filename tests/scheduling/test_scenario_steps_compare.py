"""`compare` with MLflow-style thresholds against the champion deployed to a production folder:
a lower-is-better metric that must improve by 10 % of the champion's value. The champion's
metrics are the ones its bundle kept."""
from __future__ import annotations

import nbformat

from jupyter_mlprod.project import Project

from .steps_helpers import carry_out


def test_a_lower_is_better_metric_must_beat_the_champion_by_the_relative_change(tmp_path,
                                                                               make_step):
    root, prod = tmp_path / "design", tmp_path / "prod"
    prod.mkdir()
    (root / "data").mkdir(parents=True)
    path = make_step(root, "fit", "import jupyter_mlprod as mlprod\n"
                     "mlprod.log_metric('rmse', float(open('data/rmse.txt').read()))",
                     inputs=["data/rmse.txt"])
    nb = nbformat.read(path, 4)
    nb.metadata["mlprod"]["checks"] = [{"metric": "rmse", "max": 10}]
    nbformat.write(nb, path)
    project = Project.create(root, name="compare")
    try:
        project.scenarios.create({"name": "refit", "triggers": [{"type": "manual"}], "steps": [
            {"kind": "run", "force": True},
            {"kind": "compare", "target": {"folder": str(prod)}, "metrics": {"rmse": {
                "greater_is_better": False, "min_relative_change": 0.1}}},
            {"kind": "bundle", "message": "rmse {rmse}"},
            {"kind": "deploy", "target": {"folder": str(prod)}}]})

        def refit(rmse: float, outcome: str) -> dict:
            (root / "data" / "rmse.txt").write_text(str(rmse))
            fire_id = project.scenarios.trigger("refit")["id"]
            view = carry_out(project, fire_id, (outcome,))
            return view["steps"][1]

        first = refit(1.0, "succeeded")               # no champion: the candidate wins
        assert first["values"]["note"] == "no champion yet: the candidate wins"
        close = refit(0.95, "failed")                 # better, but by 5 % only
        assert close["comparison"] == [{
            "metric": "rmse", "candidate": 0.95, "champion": 1.0, "passed": False,
            "rule": "rmse: candidate <= champion - 0 and by 0.1 of the champion"}]
        better = refit(0.85, "succeeded")
        assert better["comparison"][0]["passed"] and better["comparison"][0]["champion"] == 1.0
        assert refit(0.8, "failed")["comparison"][0]["champion"] == 0.85   # the new champion
    finally:
        project.close()
