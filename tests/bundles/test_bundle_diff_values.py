"""A bundle diff shows what a person compares: parameter defaults and the values inside
metrics files side by side, beside the notebook cells that changed."""
from __future__ import annotations

import json

from .conftest import write_step


def _train(root, C: str, auc: float, extra: dict | None = None) -> None:
    write_step(root, "train", "print('trained')", parameters=f"C = {C}\nmax_iter = 100",
               outputs=["reports/metrics.json"])
    (root / "reports").mkdir(exist_ok=True)
    (root / "reports" / "metrics.json").write_text(json.dumps(
        {"scores": {"auc": auc, "accuracy": 0.8}, "rows": 400, **(extra or {})}))


def test_diff_lists_changed_parameters_and_metrics_values_side_by_side(design):
    root = design.root
    _train(root, "1.0", 0.81)
    one = design.bundles.create("one")
    _train(root, "0.5", 0.84, {"threshold": 0.5})
    write_step(root, "train", "print('trained')", parameters="C = 0.5\nseed = 7",
               outputs=["reports/metrics.json"])
    two = design.bundles.create("two")

    d = design.bundles.diff(one["id"], two["id"])
    params = {(p["notebook"], p["name"]): (p["change"], p["before"], p["after"])
              for p in d["parameters"]}
    assert params == {("train.ipynb", "C"): ("changed", 1.0, 0.5),
                      ("train.ipynb", "max_iter"): ("removed", 100, None),
                      ("train.ipynb", "seed"): ("added", None, 7)}
    assert d["summary"].endswith("; 3 parameter changes")

    metrics = next(f for f in d["json_files"] if f["path"] == "reports/metrics.json")
    assert metrics["change"] == "changed" and not metrics["truncated"]
    values = {v["key"]: (v["change"], v["before"], v["after"]) for v in metrics["values"]}
    assert values == {"scores.auc": ("changed", 0.81, 0.84),
                      "threshold": ("added", None, 0.5)}  # unchanged keys are left out
    train = next(nb for nb in d["notebooks"] if nb["path"] == "train.ipynb")
    assert any(c["change"] == "changed" for c in train["cells"])


def test_a_first_metrics_file_lists_all_its_values_as_added(design):
    one = design.bundles.create("one")
    _train(design.root, "1.0", 0.81)
    two = design.bundles.create("two")
    d = design.bundles.diff(one["id"], two["id"])
    metrics = next(f for f in d["json_files"] if f["path"] == "reports/metrics.json")
    assert metrics["change"] == "added"
    assert {v["key"] for v in metrics["values"]} == {"scores.auc", "scores.accuracy", "rows"}
