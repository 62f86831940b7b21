"""Drift over REST (what the panel's Monitoring view reads): a real Jupyter server on a project
whose endpoint logged 300 predictions (column segments as the serving log thread writes them);
every reply is validated against openapi.yaml."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "monitoring"))
from serving_helpers_path import write_echo_project  # noqa: E402


@pytest.fixture(scope="module")
def logged_root(tmp_path_factory) -> Path:
    root = write_echo_project(tmp_path_factory.mktemp("drift-api"))
    from jupyter_mlprod.project import Project

    project = Project(root)
    try:   # two recorded evaluations: the history the panel plots
        for window in ("200", "300"):
            project.drift.evaluate("echo", window=window)
    finally:
        project.close()
    return root


@pytest.fixture
def project_root(logged_root) -> Path:
    return logged_root


async def test_drift_report_history_and_bad_input(api):
    report = (await api.get("/endpoints/{name}/drift", name="echo",
                            params={"window": "300"})).body
    assert report["window"] == {"kind": "requests", "size": 300}
    assert report["n_live"] == 300 and report["n_reference"] == 200
    assert {f["name"] for f in report["features"]} == {"x", "kind"}
    assert report["prediction"]["name"] == "score"
    hours = (await api.get("/endpoints/{name}/drift", name="echo", params={"window": "1h"})).body
    assert hours["window"] == {"kind": "hours", "size": 1} and hours["n_live"] == 300
    history = (await api.get("/endpoints/{name}/drift/history", name="echo",
                             params={"feature": "x"})).body
    assert [p["feature"] for p in history["points"]] == ["x", "x"]
    assert all(p["psi"] is not None for p in history["points"])
    bad = await api.get("/endpoints/{name}/drift", name="echo", params={"window": "soon"})
    assert bad.status == 400 and bad.body["error"]["field"] == "window"
    unknown = await api.get("/endpoints/{name}/drift", name="nope")
    assert unknown.status == 404
    version = await api.get("/endpoints/{name}/drift", name="echo", params={"version": "v9"})
    assert version.status == 404 and version.body["error"]["field"] == "version"
