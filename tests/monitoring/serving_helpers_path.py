"""A project with an `echo` endpoint whose prediction log holds 300 rows, written through the
same ColumnLog the serving worker's log thread uses (no server needed to read drift)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "serving"))


def write_echo_project(root: Path) -> Path:
    from serving_helpers import write_scoring_notebook

    from jupyter_mlprod.monitoring.prediction_columns import ColumnLog
    from jupyter_mlprod.project import Project

    (root / "mlprod.toml").write_text('[project]\nname = "doors"\n')
    write_scoring_notebook(root / "echo.ipynb", setup=[],
                           sample='request = {"x": 1.0, "kind": "a"}',
                           score="response = {'score': min(1.0, abs(request['x']) / 3)}")
    nb = json.loads((root / "echo.ipynb").read_text())
    nb["metadata"]["mlprod-monitoring"] = {"reference_requests": 200}
    (root / "echo.ipynb").write_text(json.dumps(nb))
    project = Project(root)
    try:
        project.endpoints.create("echo", notebook="echo.ipynb",
                                 options={"prediction_log": {"enabled": True}})
        rng = np.random.default_rng(3)
        x = rng.normal(0, 1, 300)
        kinds = rng.choice(["a", "b", "c"], 300)
        log = ColumnLog(project.settings.state_dir / "predlog")
        now = time.time()
        for start in range(0, 300, 100):   # three flushes of the log thread
            rows = range(start, start + 100)
            log.write("echo", "v1", [f"p{i}" for i in rows], [now - 300 + i for i in rows],
                      [{"x": float(x[i]), "kind": str(kinds[i])} for i in rows],
                      [{"score": min(1.0, abs(float(x[i])) / 3)} for i in rows])
        project.drift  # noqa: B018 - opens the store's drift tables
    finally:
        project.close()
    return root
