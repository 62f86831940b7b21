"""`mlprod node --serve-port`: a production node serves its active bundle's endpoints. A bundle
holding the example's scoring notebook and trained model is deployed to a node process; a POST
to the node's endpoint answers; a second bundle switches it; a rollback brings the first back."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from serving_helpers import post, wait_for

from jupyter_mlprod.project import Project

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def node(tmp_path):
    root = tmp_path / "prod"
    root.mkdir()
    ready = tmp_path / "node.ready"
    token = secrets.token_urlsafe(24)
    port = _free_port()
    log = open(tmp_path / "node.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_mlprod.node", "--root", str(root), "--port", "0",
         "--ready-file", str(ready), "--sync-interval", "0.3", "--serve-port", str(port),
         "--serve-workers", "1"],
        env=dict(os.environ, PYTHONPATH=str(REPO), MLPROD_NODE_TOKEN=token),
        stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: ready.exists() or proc.poll() is not None, timeout=60)
        assert proc.poll() is None, (tmp_path / "node.log").read_text()
        info = json.loads(ready.read_text())
        yield {"url": info["url"], "token": token, "serve": f"http://127.0.0.1:{port}",
               "log": tmp_path / "node.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _set_threshold(root: Path, value: float) -> None:
    nb = nbformat.read(root / "score.ipynb", as_version=4)
    for cell in nb.cells:
        if "THRESHOLD = " in cell.source:
            cell.source = cell.source.replace("THRESHOLD = 0.5", f"THRESHOLD = {value}")
    nbformat.write(nb, root / "score.ipynb")


def test_node_serves_the_active_bundles_endpoint_and_rolls_back(loan, node, tmp_path):
    design_root = tmp_path / "design"
    shutil.copytree(loan.root, design_root, ignore=shutil.ignore_patterns(".mlprod", ".*.ipynb"))
    design = Project(design_root)
    try:
        sample = design.endpoints.sample("score.ipynb")
        one = design.bundles.create("threshold 0.5")
        design.bundles.deploy(one["id"], node["url"], token=node["token"])
        url = f"{node['serve']}/score/predict"

        def answer():
            try:
                reply = post(url, sample, timeout=5)
            except OSError:
                return None
            return reply if reply.status_code == 200 else None

        first = wait_for(answer, timeout=90, interval=0.3, message="the node serves bundle one")
        label_one = first.headers["X-Mlprod-Version"]
        assert label_one == one["id"][:12]
        assert 0.0 <= first.json()["probability"] <= 1.0

        _set_threshold(design_root, 1.01)  # bundle two declines everything
        two = design.bundles.create("declines all")
        design.bundles.deploy(two["id"], node["url"], token=node["token"])
        switched = wait_for(lambda: (lambda r: r if r and r.headers["X-Mlprod-Version"]
                                     == two["id"][:12] else None)(answer()),
                            timeout=90, interval=0.3, message="bundle two live")
        assert switched.json()["decision"] == "decline"
        assert switched.json()["probability"] == first.json()["probability"]

        design.bundles.rollback(node["url"], token=node["token"])
        # a rollback activates bundle one in a fresh tree: its endpoint version is labelled
        # by bundle one's id again (suffixed, as the label is taken by the first tree's)
        back = wait_for(lambda: (lambda r: r if r and r.headers["X-Mlprod-Version"]
                                 .startswith(label_one) else None)(answer()),
                        timeout=90, interval=0.3, message="bundle one back")
        assert back.json() == first.json()
        assert post(url, sample, timeout=5).headers["X-Mlprod-Version"].startswith(label_one)
    finally:
        design.close()


def test_the_node_supervisor_requires_keys_beyond_loopback_and_restarts_a_dead_server(tmp_path):
    from serving_helpers import write_echo

    from jupyter_mlprod.serving.supervisor import EndpointSupervisor

    (tmp_path / "mlprod.toml").write_text('[project]\nname = "keyed"\n')
    project = Project(tmp_path)
    supervisor = EndpointSupervisor(project.endpoints, host="0.0.0.0", port=0, workers=1)
    try:
        assert supervisor.ensure() == {"url": None, "server_id": None, "host": "0.0.0.0",
                                       "port": 0, "problem": None}  # nothing to serve yet
        write_echo(tmp_path, "echo", "a")
        project.endpoints.create("echo", notebook="echo.ipynb")
        refused = supervisor.ensure()
        assert refused["url"] is None and "API key" in refused["problem"]
        key = project.endpoints.create_key("echo", "node")["key"]
        served = supervisor.ensure()
        assert served["problem"] is None and served["url"]
        request = {"id": 7, "text": "x", "pause": 0.0, "fail": False}
        assert post(f"{served['url']}/echo/predict", request).status_code == 401
        assert post(f"{served['url']}/echo/predict", request, key=key).json()["id"] == 7
        supervisor.handle.stop()  # the server dies: the next sync starts a new one
        again = supervisor.ensure()
        assert again["url"] and again["server_id"] != served["server_id"]
        assert post(f"{again['url']}/echo/predict", request, key=key).status_code == 200
    finally:
        supervisor.stop()
        project.close()
