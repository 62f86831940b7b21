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


async def test_a_drift_trigger_is_saved_over_rest_and_refused_naming_its_field(api):
    trigger = {"type": "drift", "endpoint": "echo", "window": "300", "poll": 60,
               "checks": [{"metric": "drift:x:psi", "warn_above": 0.1, "max": 0.25}]}
    spec = {"name": "retrain-on-drift", "triggers": [trigger],
            "steps": [{"kind": "notify", "message": "drift on {scenario}"}]}
    saved = await api.post("/scenarios", json_body=spec)
    assert saved.status == 201, saved.body
    assert saved.body["triggers"][0]["type"] == "drift"
    assert saved.body["triggers"][0]["checks"][0]["metric"] == "drift:x:psi"
    no_checks = dict(spec, name="no-checks", triggers=[dict(trigger, checks=[])])
    refused = await api.post("/scenarios", json_body=no_checks)
    assert refused.status == 400 and refused.body["error"]["field"] == "triggers[0].checks", \
        refused.body
