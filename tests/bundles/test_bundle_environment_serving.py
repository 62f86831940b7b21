"""A bundle deployed with its own environment (`deploy --env recreate`) serves its endpoints
from it: the scoring cell runs with the environment's Python and libraries, the version view
says which environment, a deploy without one serves from the node's Python again, and a
rollback switches back. An environment our scoring worker cannot run in is refused up front,
naming the library it lacks."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import requests

from jupyter_mlprod.errors import InvalidInput
from jupyter_mlprod.project import Project
from jupyter_mlprod.serving.environments import check_environment

from .conftest import wait_run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serving"))
from serving_helpers import wait_for  # noqa: E402

pytest.importorskip("uv")

SETUP = "import sys\nimport packaging"
SCORE = ("response = {'prefix': sys.prefix, 'packaging': packaging.__file__,\n"
         "            'doubled': request['x'] * 2}")


def _write_scoring_notebook(root: Path) -> None:
    nb = nbformat.v4.new_notebook()
    score = nbformat.v4.new_code_cell(SCORE)
    score.metadata["tags"] = ["mlprod-score"]
    sample = nbformat.v4.new_code_cell("request = {'x': 1}")
    sample.metadata["tags"] = ["mlprod-sample"]
    nb.cells = [nbformat.v4.new_code_cell(SETUP), sample, score]
    nbformat.write(nb, root / "where.ipynb")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _served_from(url: str, expected_prefix: str) -> dict:
    """The answer once the server has switched to the version served from `expected_prefix`."""
    def answer():
        try:
            reply = requests.post(url, json={"x": 21}, timeout=10)
        except requests.ConnectionError:
            return None
        body = reply.json() if reply.status_code == 200 else None
        return body if body and body["prefix"] == expected_prefix else None
    return wait_for(answer, timeout=30, interval=0.2, message=f"serving from {expected_prefix}")


def _version_of(node_root: Path, bundle_id: str) -> tuple[dict, dict]:
    """The live version's view, and what the test console (scoring in this process) answers."""
    node_project = Project(node_root)
    try:
        view = node_project.endpoints.get("where")
        console = node_project.endpoints.score("where", {"x": 21})
    finally:
        node_project.close()
    return next(v for v in view["versions"] if v["live"] and v["bundle_id"] == bundle_id), \
        console["body"]


def test_endpoints_are_served_from_the_bundles_environment_and_roll_back(design, start_node):
    node_root = design.root.parent / "prod"
    node_root.mkdir()
    (node_root / "mlprod.toml").write_text('[node]\nenvironment_only = ["packaging"]\n')
    port = _free_port()
    node = start_node("prod", root=node_root,
                      args=["--serve-port", str(port), "--serve-workers", "2"])
    url = f"http://127.0.0.1:{port}/where/predict"
    _write_scoring_notebook(design.root)
    one = design.bundles.create("served from its own environment")

    first = design.bundles.deploy(one["id"], node.url, token=node.token, env="recreate")
    venv = first["deployment"]["environment"]["venv"]
    body = _served_from(url, venv)
    assert body["doubled"] == 42
    assert Path(body["packaging"]).is_relative_to(venv)   # the venv's library, not the node's
    version, console = _version_of(node_root, one["id"])
    assert console["prefix"] == venv                      # the test console scores there too
    assert version["environment"]["python"] == f"{venv}/bin/python"
    assert version["environment"]["digest"] in venv
    shown = subprocess.run([sys.executable, "-m", "jupyter_mlprod.cli", "endpoint", "versions",
                            "where"], cwd=node_root, capture_output=True, text=True, timeout=60)
    assert f"bundle {version['environment']['digest']}" in shown.stdout, shown

    (design.root / "data" / "input.csv").write_text("v2\n")
    two = design.bundles.create("served from the node")
    design.bundles.deploy(two["id"], node.url, token=node.token)   # env=compare
    body = _served_from(url, sys.prefix)
    assert not Path(body["packaging"]).is_relative_to(venv)
    version, console = _version_of(node_root, two["id"])
    assert version["environment"] is None and console["prefix"] == sys.prefix

    back = design.bundles.rollback(node.url, token=node.token)
    assert back["bundle_id"] == one["id"]
    assert _served_from(url, venv)["doubled"] == 42
    assert wait_run(node.client(), node.client().start_run())["status"] == "succeeded"


def test_an_environment_without_what_serving_needs_is_refused_naming_it(tmp_path):
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True,
                   timeout=60)
    with pytest.raises(InvalidInput) as caught:
        check_environment({"digest": "bare", "venv": str(bare),
                           "python": str(bare / "bin" / "python")})
    assert "lacks the library tornado" in caught.value.message
    assert caught.value.details == {"package": "tornado"}
