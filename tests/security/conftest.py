"""Fixtures of the security suite: a real Jupyter server (token auth, the extension on), a real
production node and a real serving process, each on loopback on a throw-away project."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "serving"))
from served import REPO, ServedLab  # noqa: E402


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with ServedLab(tmp_path_factory.mktemp("lab")) as served:
        yield served


class NodeServer:
    """`python -m jupyter_mlprod.node` on a free port, with a small body cap from mlprod.toml."""

    def __init__(self, root: Path):
        self.root = root
        self.token = secrets.token_urlsafe(24)
        root.mkdir(parents=True, exist_ok=True)
        (root / "mlprod.toml").write_text('[project]\nname = "prod"\n\n[node]\n'
                                          "max_body_bytes = 4096\nmax_json_depth = 32\n")
        ready = root.parent / "node.ready"
        self.log = open(root.parent / "node.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_mlprod.node", "--root", str(root), "--port", "0",
             "--ready-file", str(ready), "--no-services"],
            env=dict(os.environ, PYTHONPATH=str(REPO), MLPROD_NODE_TOKEN=self.token),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert self.proc.poll() is None, (root.parent / "node.log").read_text()
            assert time.monotonic() < deadline, "the node did not start"
            time.sleep(0.05)
        self.url = json.loads(ready.read_text())["url"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    server = NodeServer(tmp_path_factory.mktemp("node") / "prod")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def serving(tmp_path_factory):
    """One echo endpoint (answers with what it got) served by a real serving process."""
    from serving_helpers import write_scoring_notebook

    from jupyter_mlprod.project import Project

    root = tmp_path_factory.mktemp("serving")
    (root / "mlprod.toml").write_text('[project]\nname = "serving"\n')
    write_scoring_notebook(root / "echo.ipynb", setup=[], sample='request = {"age": 30}',
                           score="response = {'age': request['age'], 'double': request['age'] * 2}")
    project = Project(root)
    project.endpoints.create("echo", notebook="echo.ipynb")
    server = project.endpoints.serve(workers=1, poll_interval=0.2)
    yield server
    server.stop()
    project.close()
