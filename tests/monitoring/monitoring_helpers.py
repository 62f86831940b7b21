"""Helpers of the monitoring tests."""
from __future__ import annotations

import nbformat


def set_step_meta(path, **fields) -> None:
    """Add keys (checks, probes) to a step notebook's `metadata.mlprod`."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata["mlprod"].update(fields)
    nbformat.write(nb, path)


EVALUATE = ["import jupyter_mlprod as mlprod",
            "mlprod.log_metrics({'roc_auc': auc, 'f1': 0.5})"]


def project_with_history(root, aucs=(0.9, 0.91, 0.7)) -> list[int]:
    """A one-step project whose runs logged roc_auc = each of `aucs` (checks: min 0.8);
    returns the run ids."""
    from jupyter_mlprod.project import Project

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["mlprod"] = {"step": "evaluate", "inputs": [], "outputs": [], "checks": [
        {"metric": "roc_auc", "min": 0.8, "warn_below": 0.85}]}
    parameters = nbformat.v4.new_code_cell("auc = 0.9")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters] + [nbformat.v4.new_code_cell(c) for c in EVALUATE]
    nbformat.write(nb, root / "evaluate.ipynb")
    project = Project.create(root) if not (root / "mlprod.toml").exists() else Project(root)
    try:
        return [project.start_run(wait=True, parameters={"auc": auc}, force=True)["id"]
                for auc in aucs]
    finally:
        project.close()
