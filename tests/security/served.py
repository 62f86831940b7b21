"""A real Jupyter server with the mlprod extension and token auth, in a process of its own, on
a throw-away project of one trivial step: what the security tests and the fuzz talk to.

The server runs with its working directory and HOME in the temporary folder, the scheduler
off and one step at a time, so whatever a fuzzer sends cannot touch the repository or start
long work."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat

# the code under test; MLPROD_CODE_ROOT points the servers at another checkout (e.g. to
# measure the unmodified code with the same tests)
REPO = Path(os.environ.get("MLPROD_CODE_ROOT") or Path(__file__).resolve().parents[2])
API = "mlprod/api/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tiny_project(root: Path) -> Path:
    """A project with one step that only assigns a number (a run takes a kernel start)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "mlprod.toml").write_text('[project]\nname = "fuzz"\n\n[runs]\nexecutor = "local"\n'
                                      "parallelism = 1\ndefault_timeout = 60\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["mlprod"] = {"step": "hello", "inputs": [], "outputs": []}
    params = nbformat.v4.new_code_cell("n = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells += [params, nbformat.v4.new_code_cell("x = n + 1")]
    nbformat.write(nb, root / "hello.ipynb")
    return root


class ServedLab:
    """`with ServedLab(tmp) as lab:` a Jupyter server on loopback; `lab.url(path)`,
    `lab.headers`, `lab.request(...)`."""

    def __init__(self, workdir: Path, *, code_root: Path = REPO, extra_args: tuple = ()):
        self.workdir = Path(workdir)
        self.project = tiny_project(self.workdir / "project")
        self.code_root = Path(code_root)
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.extra_args = tuple(extra_args)
        self.process: subprocess.Popen | None = None
        self.log_path = self.workdir / "server.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def headers(self) -> dict:
        return {"Authorization": f"token {self.token}"}

    def url(self, path: str) -> str:
        return f"{self.base}{API}/{path.lstrip('/')}"

    def __enter__(self) -> "ServedLab":
        home = self.workdir / "home"
        config = self.workdir / "jupyter_config"
        for folder in (home, config):
            folder.mkdir(parents=True, exist_ok=True)
        (config / "jupyter_server_config.json").write_text(json.dumps(
            {"ServerApp": {"jpserver_extensions": {"jupyter_mlprod": True}}}))
        env = dict(os.environ, HOME=str(home), JUPYTER_CONFIG_DIR=str(config),
                   PYTHONPATH=str(self.code_root), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
                   MLPROD_SCHEDULER_BASE_URL="")
        env.pop("MLPROD_STORE_URL", None)
        args = [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
                f"--port={self.port}", "--ip=127.0.0.1", f"--ServerApp.root_dir={self.project}",
                f"--IdentityProvider.token={self.token}", "--ServerApp.port_retries=0",
                "--MlprodApp.scheduler_enabled=False", *self.extra_args]
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(args, cwd=self.workdir, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Jupyter server exited: {self.log_path.read_text()}")
            try:
                status, _ = self.request("GET", "project")
                if status == 200:
                    return self
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.3)
        self.__exit__(None, None, None)
        raise RuntimeError("the Jupyter server did not answer within 60 s")

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict | None = None, timeout: float = 30) -> tuple[int, dict | str]:
        """(status, parsed JSON or text) of one request to the API."""
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.url(path), data=data, method=method,
                                     headers={**self.headers, **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def _stop_serving(self) -> None:
        """Stop the serving servers a test (or the fuzz) started: their own processes."""
        try:
            status, body = self.request("GET", "servers", timeout=10)
            for server in body.get("servers", []) if status == 200 else []:
                self.request("DELETE", f"servers/{server['server_id']}", timeout=20)
        except (OSError, ValueError, AttributeError):
            pass

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self._stop_serving()
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(10)
        self._log.close()
