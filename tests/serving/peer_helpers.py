"""Peer suites (Kernel Gateway, MLflow) run against `mlprod serve` as a user starts it: the CLI in
a subprocess, real HTTP on loopback, stopped with SIGTERM."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

PACKAGE_HOME = str(Path(__file__).resolve().parents[2])
PEERS = Path(__file__).resolve().parent / "peers"


class MlprodServe:
    def __init__(self, root: Path, *args: str, ready_path: str):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_HOME, env.get("PYTHONPATH")) if p)
        env.pop("KERNEL_GATEWAY", None)
        (root / "mlprod.toml").write_text('[project]\nname = "peers"\n')
        self.log = open(root / "serve.log", "w+")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_mlprod.cli", "serve", *args, "--port", str(self.port)],
            cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if requests.get(self.url + ready_path, timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"mlprod serve did not answer {ready_path}: {self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)
        self.log.close()
