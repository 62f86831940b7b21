"""Fixtures for bundles: design projects on disk and real production node processes on
loopback, each with its own folder and store."""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_mlprod.bundles import NodeClient
from jupyter_mlprod.project import Project

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
from conftest import write_step  # noqa: E402


def score_step(root: Path, version: str, data: str) -> None:
    """A one-step pipeline whose output names its bundle's version and data."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "input.csv").write_text(data)
    write_step(root, "score", [f"VERSION = {version!r}",
                               "import os\nos.makedirs('out', exist_ok=True)\n"
                               "open('out/version.txt', 'w').write(VERSION + ':' + "
                               "open('data/input.csv').read())"],
               inputs=["data/input.csv"], outputs=["out/version.txt"])


@pytest.fixture
def opened():
    projects = []

    def open_project(root, **overrides):
        Path(root).mkdir(parents=True, exist_ok=True)
        project = Project(root, parallelism=1, **overrides)
        projects.append(project)
        return project

    yield open_project
    for project in projects:
        project.close()


@pytest.fixture
def design(tmp_path, opened):
    root = tmp_path / "design"
    score_step(root, "1", "v1\n")
    return opened(root)


class NodeProcess:
    def __init__(self, root: Path, token: str, store_url: str | None, env: dict | None,
                 args: list[str] | None = None):
        self.root, self.token, self.store_url, self.extra_env = root, token, store_url, env or {}
        self.args = args or []
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, env: dict | None = None) -> "NodeProcess":
        ready = self.root.parent / f".{self.root.name}.ready"
        ready.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "jupyter_mlprod.node", "--root", str(self.root), "--port", "0",
               "--ready-file", str(ready), "--sync-interval", "0.5"]
        if self.store_url:
            cmd += ["--store-url", self.store_url]
        cmd += self.args
        full_env = dict(os.environ, PYTHONPATH=str(REPO), MLPROD_NODE_TOKEN=self.token,
                        **self.extra_env, **(env or {}))
        self.log = open(self.root.parent / f"{self.root.name}.log", "ab")
        self.proc = subprocess.Popen(cmd, env=full_env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not ready.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited: {self.read_log()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"node did not start: {self.read_log()[-2000:]}")
            time.sleep(0.05)
        self.url = json.loads(ready.read_text())["url"]
        return self

    def read_log(self) -> str:
        return (self.root.parent / f"{self.root.name}.log").read_text(errors="replace")

    def client(self, token: str | None = None) -> NodeClient:
        return NodeClient(self.url, token or self.token, timeout=120)

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()


@pytest.fixture
def start_node(tmp_path):
    nodes: list[NodeProcess] = []

    def start(name: str = "prod", *, root: Path | None = None, store_url: str | None = None,
              env: dict | None = None, args: list[str] | None = None) -> NodeProcess:
        folder = root or tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        node = NodeProcess(folder, secrets.token_urlsafe(24), store_url, env, args)
        nodes.append(node)
        return node.start()

    yield start
    for node in nodes:
        node.stop()


def wait_run(client: NodeClient, run: dict, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while run["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, run
        time.sleep(0.3)
        run = client.get_run(run["id"])
    return run
