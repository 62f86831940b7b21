"""Endpoints created on the way to something else ("serve this notebook", serving a deployed
bundle's scoring notebooks) are changes too: each leaves an `endpoint.create` event, written
with the endpoint, so the trail never shows a version of an endpoint it never saw created."""
from __future__ import annotations

import shutil
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "example_notebooks"


def _actions(project, name: str) -> list[str]:
    events = project.audit_trail.list(object=f"endpoint:{name}")["events"]
    return sorted(e["action"] for e in events)


def test_serve_this_notebook_records_the_endpoint_it_creates(tmp_path, open_project):
    shutil.copy(EXAMPLES / "score.ipynb", tmp_path / "score.ipynb")
    (tmp_path / "mlprod.toml").write_text('[project]\nname = "implicit"\n')
    project = open_project(tmp_path)

    project.endpoints.ensure_notebook_endpoint("score.ipynb")

    actions = _actions(project, "score")
    assert actions.count("endpoint.create") == 1, actions
    assert "endpoint.version" in actions, actions


def test_a_deployed_bundle_records_the_endpoints_it_creates(tmp_path, open_project):
    project_dir, bundle_dir = tmp_path / "project", tmp_path / "bundle-abc"
    project_dir.mkdir()
    bundle_dir.mkdir()
    shutil.copy(EXAMPLES / "score.ipynb", bundle_dir / "score.ipynb")
    (project_dir / "mlprod.toml").write_text('[project]\nname = "node"\n')
    project = open_project(project_dir)

    project.endpoints.deploy_bundle(bundle_dir, "abc")

    create = [e for e in project.audit_trail.list(object="endpoint:score")["events"]
              if e["action"] == "endpoint.create"]
    assert len(create) == 1 and "bundle abc" in create[0]["after"]["description"], create


def test_starting_and_stopping_a_server_is_recorded(tmp_path, open_project):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    score = nbformat.v4.new_code_cell("response = {'double': request['x'] * 2}")
    score.metadata["tags"] = ["mlprod-score"]
    nb.cells = [score]
    nbformat.write(nb, tmp_path / "double.ipynb")
    (tmp_path / "mlprod.toml").write_text('[project]\nname = "servers"\n')
    project = open_project(tmp_path)

    handle = project.endpoints.serve("double.ipynb", workers=1)
    answer = handle.request("double", {"x": 2})
    assert answer["status"] == 200 and answer["body"]["double"] == 4, answer
    project.endpoints.stop_server(handle.server_id)

    events = project.audit_trail.list(object=f"server:{handle.server_id}")["events"]
    assert sorted(e["action"] for e in events) == ["server.start", "server.stop"], events
    start = next(e for e in events if e["action"] == "server.start")
    assert start["after"]["endpoints"] == ["double"] and start["after"]["url"] == handle.url
