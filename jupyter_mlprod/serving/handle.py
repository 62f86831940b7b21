"""Start a serving process in the background and hold on to it: `ServerHandle`.

The server runs in its own process (its own session, so a notebook's interrupt or a Jupyter
restart signal does not reach it): user code never runs inside Jupyter's server. Start-up is
synchronous: `start_server` returns once every endpoint is set up, warmed and listening, or
raises with the server's own message (a failing setup cell, a missing key...).
"""
from __future__ import annotations

import atexit
import datetime as dt
import http.client
import json
import os
import secrets
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

from ..errors import Conflict, InvalidInput, NotFound, Unavailable
from .keys import hash_key

_LIVE: "weakref.WeakSet[ServerHandle]" = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


class ServerHandle:
    def __init__(self, process: subprocess.Popen, info: dict, host: str, endpoints, log_path: Path,
                 internal_key: str):
        self.process = process
        self.url: str = info["url"]
        self.port: int = info["port"]
        self.pid: int = info["pid"]
        self.server_id: str = info["server_id"]
        self.workers: int = info["workers"]
        self.host = host
        self.endpoints = endpoints  # None: every endpoint of the project
        self.log_path = log_path
        self.started_at = dt.datetime.now(dt.timezone.utc)
        self._internal_key = internal_key
        self.lifeline: int | None = None  # our end of the pipe whose closing stops the server

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def serves(self, endpoint: str) -> bool:
        return self.alive and (self.endpoints is None or endpoint in self.endpoints)

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful: the server finishes what it is answering, flushes its prediction log."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        if self.lifeline is not None:
            os.close(self.lifeline)
            self.lifeline = None
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def request(self, endpoint: str, body=None, *, path: str = "predict", method: str = "POST",
                key: str | None = None, headers: dict | None = None, timeout: float = 60.0) -> dict:
        """Send one request as a client would (with this process's internal key unless `key`
        is given). Returns status, headers, body (parsed JSON when it is JSON), latency_ms and
        the version that answered."""
        send = {"Content-Type": "application/json",
                "Authorization": f"Bearer {key or self._internal_key}"}
        send.update(headers or {})
        payload = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
        host, port = self.url.rsplit("//", 1)[1].rsplit(":", 1)
        conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=timeout)
        try:
            started = time.perf_counter()
            conn.request(method, f"/{endpoint}/{path}".rstrip("/"), body=payload, headers=send)
            response = conn.getresponse()
            raw = response.read()
            latency = (time.perf_counter() - started) * 1000
        finally:
            conn.close()
        text = raw.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if "json" in (response.getheader("Content-Type") or "") else text
        except ValueError:
            parsed = text
        return {"status": response.status, "body": parsed, "latency_ms": round(latency, 3),
                "version": response.getheader("X-Mlprod-Version"),
                "headers": dict(response.getheaders())}

    def to_dict(self) -> dict:
        return {"server_id": self.server_id, "url": self.url, "host": self.host, "port": self.port,
                "pid": self.pid, "workers": self.workers, "endpoints": self.endpoints,
                "alive": self.alive, "log": str(self.log_path),
                "started_at": self.started_at.isoformat().replace("+00:00", "Z")}

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<ServerHandle {self.url} pid={self.pid} alive={self.alive}>"


def start_server(root: Path, *, store_url: str, endpoints: list[str] | None, host: str,
                 port: int, workers: int | None, poll_interval: float, log_path: Path,
                 startup_timeout: float = 300.0, stop_on_exit: bool = True,
                 cpus: list[int] | None = None, kg_root: bool = False) -> ServerHandle:
    internal_key = "mlp_internal_" + secrets.token_urlsafe(24)
    env = dict(os.environ)
    env["MLPROD_SERVING_INTERNAL_HASH"] = hash_key(internal_key)
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    read_fd, write_fd = os.pipe()
    # With stop_on_exit the server also stops when this process dies without a goodbye
    # (kill -9): it watches a pipe whose only write end we hold.
    lifeline_r, lifeline_w = os.pipe() if stop_on_exit else (None, None)
    command = [sys.executable, "-m", "jupyter_mlprod.serving", "--project", str(root),
               "--host", host, "--port", str(port), "--workers", str(workers or 0),
               "--poll-interval", str(poll_interval), "--status-fd", str(write_fd),
               "--server-id", "s" + secrets.token_hex(6)]
    if store_url:
        command += ["--store-url", store_url]
    for name in endpoints or []:
        command += ["--endpoint", name]
    if cpus:
        command += ["--cpus", ",".join(str(int(c)) for c in cpus)]
    if lifeline_r is not None:
        command += ["--parent-fd", str(lifeline_r)]
    if kg_root:
        command += ["--kg-root"]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, pass_fds=tuple(
            fd for fd in (write_fd, lifeline_r) if fd is not None), stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   cwd=str(root), env=env)
    os.close(write_fd)
    if lifeline_r is not None:
        os.close(lifeline_r)
    try:
        message = _read_status(read_fd, process, startup_timeout)
    finally:
        os.close(read_fd)
    if message is None or message.get("status") != "ready":
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        if lifeline_w is not None:
            os.close(lifeline_w)
        raise _start_error(message, log_path, process.returncode, startup_timeout)
    handle = ServerHandle(process, message, host, endpoints, log_path, internal_key)
    handle.lifeline = lifeline_w
    if stop_on_exit:
        with _LIVE_LOCK:
            _LIVE.add(handle)
    return handle


def _read_status(fd: int, process: subprocess.Popen, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    data = b""
    while time.monotonic() < deadline:
        readable, _, _ = select.select([fd], [], [], 0.2)
        if readable:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
            if data.endswith(b"\n"):
                break
        elif process.poll() is not None:
            break
    try:
        return json.loads(data) if data.strip() else None
    except ValueError:
        return None


def _start_error(message: dict | None, log_path: Path, returncode, timeout: float):
    if message and message.get("status") == "failed":
        kind = {"not_found": NotFound, "unavailable": Unavailable,
                "conflict": Conflict}.get(message.get("code"), InvalidInput)
        return kind(message.get("message", "the server could not start"),
                    field=message.get("field"), code=message.get("code"),
                    details=message.get("details"))
    tail = ""
    try:
        tail = log_path.read_text(errors="replace")[-2000:]
    except OSError:
        pass
    if returncode is None:
        return Unavailable(f"the server was not ready within {timeout:g} s; its log "
                           f"({log_path}) ends with:\n{tail}", code="start_timeout")
    return Unavailable(f"the server exited with status {returncode} before it was ready; its "
                       f"log ({log_path}) ends with:\n{tail}", code="start_failed")


@atexit.register
def _stop_all() -> None:
    with _LIVE_LOCK:
        handles = list(_LIVE)
    for handle in handles:
        try:
            handle.stop(5)
        except Exception:  # noqa: BLE001
            pass
