"""Pipeline view and tagging notebooks as steps through the REST API."""
from __future__ import annotations

import json

import nbformat
import pytest


def _untagged(root, name="explore.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    cell = nbformat.v4.new_code_cell("sample = 100  # rows to look at\nverbose = False")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("print(sample)")]
    path = root / name
    nbformat.write(nb, path)
    return path


def _notebooks(root) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.glob("*.ipynb"))}


async def test_project_describes_the_settings(api, project_root):
    reply = await api.get("/project")
    assert reply.status == 200
    assert reply.body == {"name": "loan-approval", "root": str(project_root.resolve()),
                          "store": "sqlite", "executor": "local", "parallelism": 2,
                          "default_timeout": 600}


async def test_pipeline_of_the_example_project(api):
    reply = await api.get("/pipeline")
    assert reply.status == 200
    view = reply.body
    assert [s["name"] for s in view["steps"]] == ["prepare", "train", "batch_score", "evaluate"]
    assert view["problems"] == []
    assert {(e["source"], e["target"]) for e in view["edges"]} == {
        ("prepare", "train"), ("prepare", "batch_score"), ("train", "evaluate"),
        ("train", "batch_score")}
    prepare = view["steps"][0]
    assert prepare["latest"] is None
    assert prepare["parameters"] == [
        {"name": "n_rows", "type": "int", "default": 2000,
         "help": "number of applications to generate"},
        {"name": "seed", "type": "int", "default": 42,
         "help": "random seed (same seed, same data)"}]


async def test_tag_edit_untag_round_trip(api, project_root):
    path = _untagged(project_root)
    reply = await api.get("/notebooks/step", params={"path": "explore.ipynb"})
    assert reply.status == 200
    assert reply.body["step"] is None
    assert [p["name"] for p in reply.body["parameters"]] == ["sample", "verbose"]

    body = {"step": "explore", "inputs": ["data/applications.csv"], "outputs": ["reports/x.txt"]}
    reply = await api.put("/notebooks/step", params={"path": "explore.ipynb"}, json_body=body)
    assert reply.status == 200, reply.body
    assert reply.body["step"] == {"name": "explore", "inputs": ["data/applications.csv"],
                                  "outputs": ["reports/x.txt"], "after": [], "timeout": None,
                                  "retries": 0}
    on_disk = json.loads(path.read_text())
    assert on_disk["metadata"]["mlprod"] == {"step": "explore", "inputs": ["data/applications.csv"],
                                             "outputs": ["reports/x.txt"], "retries": 0}
    assert on_disk["metadata"]["kernelspec"]["name"] == "python3"  # the rest is kept

    view = (await api.get("/pipeline")).body
    assert "explore" in [s["name"] for s in view["steps"]]
    assert {"source": "prepare", "target": "explore", "via": ["data/applications.csv"]} \
        in view["edges"]

    reply = await api.put("/notebooks/step", params={"path": "explore.ipynb"},
                          json_body={"name": "explore", "after": ["evaluate"], "timeout": 60,
                                     "retries": 2})
    assert reply.status == 200, reply.body
    assert json.loads(path.read_text())["metadata"]["mlprod"] == {
        "step": "explore", "inputs": [], "outputs": [], "after": ["evaluate"], "timeout": 60,
        "retries": 2}
    assert (await api.get("/notebooks/step", params={"path": "explore.ipynb"})).body["step"][
        "after"] == ["evaluate"]

    reply = await api.delete("/notebooks/step", params={"path": "explore.ipynb"})
    assert reply.status == 204 and reply.body is None
    on_disk = json.loads(path.read_text())
    assert "mlprod" not in on_disk["metadata"]
    assert on_disk["metadata"]["kernelspec"]["name"] == "python3"
    assert "explore" not in [s["name"] for s in (await api.get("/pipeline")).body["steps"]]

    reply = await api.delete("/notebooks/step", params={"path": "explore.ipynb"})
    assert reply.status == 404
    assert reply.error["field"] == "path"


BAD_TAGS = [
    # (path, body (or raw text), status, field, code, words the message must contain)
    ("explore.ipynb", {"step": "bad name!"}, 400, "step.name", "invalid", ["name"]),
    ("explore.ipynb", {"step": "explore", "timeout": -1}, 400, "step.timeout", "invalid",
     ["timeout"]),
    ("explore.ipynb", {"step": "explore", "timeout": True}, 400, "step.timeout", "invalid",
     ["timeout"]),
    ("explore.ipynb", {"step": "explore", "retries": 11}, 400, "step.retries", "invalid",
     ["retries"]),
    ("explore.ipynb", {"step": "explore", "colour": "red"}, 400, "step.colour", "invalid",
     ["colour"]),
    ("explore.ipynb", {"step": "explore", "inputs": ["../secret.csv"]}, 400, "step.inputs",
     "path_outside_project", ["outside"]),
    ("explore.ipynb", {"step": "explore", "outputs": "/etc/passwd"}, 400, "step.outputs",
     "path_outside_project", ["absolute"]),
    ("explore.ipynb", {"step": "explore", "after": ["nope"]}, 400, "after", "unknown_step",
     ["nope"]),
    ("explore.ipynb", {"step": "explore", "outputs": ["data/applications.csv"]}, 400, "pipeline",
     "duplicate_output", ["data/applications.csv"]),
    ("explore.ipynb", {"step": "train"}, 400, "step.name", "duplicate_step", ["train"]),
    ("explore.ipynb", ["explore"], 400, "body", "invalid", ["object"]),
    ("explore.ipynb", "{not json", 400, "body", "invalid", ["JSON"]),
    ("explore.ipynb", "", 400, "body", "invalid", ["JSON"]),
    ("../x.ipynb", {"step": "x"}, 400, "path", "path_outside_project", ["outside"]),
    ("/tmp/x.ipynb", {"step": "x"}, 400, "path", "path_outside_project", ["absolute"]),
    ("README.md", {"step": "x"}, 400, "path", "invalid", ["not a notebook"]),
    ("nope.ipynb", {"step": "x"}, 404, "path", "not_found", ["does not exist"]),
    # a cycle: prepare -> train -> evaluate, and now prepare after evaluate
    ("prepare.ipynb", {"step": "prepare", "outputs": ["data/applications.csv"],
                       "after": ["evaluate"]}, 400, "pipeline", "cycle", ["cycle"]),
]


async def test_bad_tag_requests_change_nothing(api, project_root):
    _untagged(project_root)
    before = _notebooks(project_root)
    for path, body, status, field, code, words in BAD_TAGS:
        kwargs = {"raw": body} if isinstance(body, str) else {"json_body": body}
        reply = await api.put("/notebooks/step", params={"path": path}, **kwargs)
        case = f"PUT {path} {body!r} -> {reply.status} {reply.body}"
        assert reply.status == status, case
        assert reply.error["field"] == field, case
        assert reply.error["code"] == code, case
        for word in words:
            assert word in reply.error["message"], case
        assert _notebooks(project_root) == before, f"{case}: a notebook changed"
    cycle = [c for c in BAD_TAGS if c[4] == "cycle"][0]
    reply = await api.put("/notebooks/step", params={"path": cycle[0]}, json_body=cycle[1])
    assert set(reply.error["details"]["steps"]) == {"prepare", "train", "evaluate"}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_step_routes_need_a_path(api, method):
    kwargs = {"json_body": {"step": "x"}} if method == "PUT" else {}
    reply = await api.request(method, "/notebooks/step", **kwargs)
    assert reply.status == 400
    assert reply.error["field"] == "path"
    assert "path" in reply.error["message"]


async def test_reading_steps_of_bad_paths(api, project_root):
    (project_root / "broken.ipynb").write_text("{not json")
    for path, field, code in [("../x.ipynb", "path", "path_outside_project"),
                              ("README.md", "path", "invalid"),
                              ("broken.ipynb", "path", "malformed_notebook")]:
        reply = await api.get("/notebooks/step", params={"path": path})
        assert (reply.status, reply.error["field"], reply.error["code"]) == (400, field, code)
    reply = await api.delete("/notebooks/step", params={"path": "README.md"})
    assert reply.status in (400, 404)
