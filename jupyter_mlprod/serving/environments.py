"""Endpoint versions served from a bundle's own environment (`deploy --env recreate`).

A version registered by `deploy_bundle` for a deployment with its own environment records it
(`{"digest", "venv", "python"}`). The serving process then runs that version's cells - setup,
sample, scoring - in a child process started with the environment's Python, so the scoring
cell sees the bundle's libraries, not the server's. Versions without an environment keep the
in-process path (engine.LoadedVersion) untouched.

The child imports only our engine's modules, straight from this package's folder (the venv
does not hold jupyter_mlprod, and putting the folder above it on the path would bring the
node's own libraries along): see BOOTSTRAP. Parent and child speak one JSON line per message
over the child's stdin/stdout (envworker.py). The child dies with the process that started it
(PR_SET_PDEATHSIG) and ends when its stdin closes.
"""
from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import threading
import time
from pathlib import Path

from .. import lifetime
from ..errors import InvalidInput, MlprodError, Unavailable
from .deadline import ScoringTimeout
from .engine import LoadedVersion, MissingResponse

log = logging.getLogger("jupyter_mlprod.serving")

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # .../jupyter_mlprod
# Registers jupyter_mlprod and the two subpackages the engine needs as bare packages over their
# folders (their __init__ pulls the store and the server, which the venv lacks), then runs the
# worker. -I keeps PYTHONPATH, the user's site-packages and the current folder off the path.
BOOTSTRAP = (
    "import sys, types\n"
    "pkg = sys.argv[1]\n"
    "for name, sub in (('jupyter_mlprod', ''), ('jupyter_mlprod.serving', '/serving'),"
    " ('jupyter_mlprod.notebooks', '/notebooks')):\n"
    "    module = types.ModuleType(name); module.__path__ = [pkg + sub]\n"
    "    sys.modules[name] = module\n"
    "from jupyter_mlprod.serving.envworker import main\n"
    "main(sys.argv[2:])\n")
_GRACE = 5.0  # seconds beyond the scoring timeout before a silent child is killed


def version_environment(deployment_environment: dict | None) -> dict | None:
    """What a version records of its deployment's environment (None: the node's Python)."""
    venv = (deployment_environment or {}).get("venv")
    if not venv:
        return None
    kernel = deployment_environment.get("kernel") or ""
    return {"digest": kernel.removeprefix("mlprod-env-") or Path(venv).parent.name,
            "venv": venv, "python": str(Path(venv) / "bin" / "python")}


def environment_view(environment: dict | None) -> dict | None:
    if not environment:
        return None
    return {"digest": environment["digest"], "python": environment["python"]}


def environment_audit(environment: dict | None) -> dict:
    return {"environment": environment["digest"]} if environment else {}


def worker_command(python: str, *args: str) -> list[str]:
    return [python, "-I", "-c", BOOTSTRAP, str(PACKAGE_DIR), *args]


def check_environment(environment: dict, timeout: float = 60) -> None:
    """Refuse (InvalidInput naming the module) an environment our scoring worker cannot run
    in, before anything is activated rather than at the first request."""
    python = environment["python"]
    if not Path(python).exists():
        raise InvalidInput(f"the bundle's environment has no Python at {python}",
                           field="environment", code="environment_unusable")
    try:
        done = subprocess.run(worker_command(python, "--check"), capture_output=True, text=True,
                              timeout=timeout, preexec_fn=lifetime.child_dies_with_us(
                                  forking_thread_lives=True))
    except subprocess.TimeoutExpired:
        raise InvalidInput(f"the bundle's environment ({python}) did not answer a check within "
                           f"{timeout:g} s", field="environment",
                           code="environment_unusable") from None
    if done.returncode == 0:
        return
    lines = [line for line in done.stdout.splitlines() + done.stderr.splitlines() if line]
    try:
        missing = json.loads(lines[0]).get("missing") if lines else None
    except (ValueError, AttributeError):
        missing = None
    if missing:
        raise InvalidInput(f"the bundle's environment lacks the library {missing}, which serving "
                           f"its endpoints needs: add {missing} to the bundle's environment; "
                           "nothing was activated", field="environment",
                           code="environment_unusable", details={"package": missing})
    raise InvalidInput(f"the bundle's environment cannot run the scoring worker: "
                       f"{lines[-1] if lines else f'exit status {done.returncode}'}",
                       field="environment", code="environment_unusable")


class _Channel:
    """One worker process of one version, owned by the process that started it (a forked
    serving worker starts its own: pipes are never shared across processes)."""

    def __init__(self, python: str, cwd: str):
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            worker_command(python), stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=cwd,
            env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")},
            preexec_fn=lifetime.child_dies_with_us(forking_thread_lives=True))
        self.buffer = b""

    def call(self, message: dict, timeout: float | None) -> dict:
        with self.lock:
            try:
                self.proc.stdin.write(json.dumps(message).encode() + b"\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                raise self._died() from None
            return self._read(timeout)

    def _read(self, timeout: float | None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        out = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                self.close()  # stuck in C code past its own deadline: only a kill stops it
                raise ScoringTimeout()
            ready, _, _ = select.select([out], [], [], left)
            if ready:
                chunk = os.read(out, 1 << 20)
                if not chunk:
                    raise self._died()
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def _died(self) -> Unavailable:
        code = self.proc.poll()
        return Unavailable(f"the scoring process in the bundle's environment exited "
                           f"(status {code})", code="environment_worker_exited")

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None and self.pid == os.getpid()

    def __del__(self):  # no version holds it any more (the server forgot them)
        self.close()

    def close(self) -> None:
        if self.pid != os.getpid():
            return  # the parent's child: not ours to stop
        try:
            self.proc.kill()
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass


def _remote_exception(error: dict) -> BaseException:
    """The child's exception, as one of the same name (the HTTP answer names it)."""
    kind = error.get("type") or "Exception"
    if kind == "ScoringTimeout":
        return ScoringTimeout()
    if kind == "MissingResponse":
        return MissingResponse(error.get("message", ""))
    if error.get("mlprod"):
        return InvalidInput(error["message"], field=error.get("field"), code=error.get("code"),
                            details=error.get("details"))
    return type(kind, (Exception,), {"__module__": "builtins"})(error.get("message", ""))


class EnvVersion(LoadedVersion):
    """A LoadedVersion whose cells run in the bundle's environment, in a child process."""

    def __init__(self, *args, environment: dict, cwd: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.environment = environment
        self.cwd = cwd
        self._channel: _Channel | None = None
        self._channel_lock = threading.Lock()

    def load(self) -> "EnvVersion":
        if self.spec.mode != "mlprod":
            raise InvalidInput(f"{self.label}: a Kernel Gateway notebook cannot be served from "
                               "a bundle's environment yet; deploy it without --env recreate",
                               field="notebook", code="setup_failed")
        reply = self._channel_for_this_process(fresh=True)
        self.sample, self.takes_params = reply["sample"], reply["takes_params"]
        self._finish()
        return self

    def rebind(self, options: dict) -> "EnvVersion":
        from .engine import options_key

        if options_key(options) == options_key(self.options):
            return self
        clone = EnvVersion(self.endpoint, self.version, self.spec, self.workdir, options,
                           self.deadline, environment=self.environment, cwd=self.cwd)
        clone._channel, clone._channel_lock = self._channel, self._channel_lock
        clone.sample, clone.takes_params = self.sample, self.takes_params
        clone._finish()
        return clone

    def start_here(self) -> None:
        """A forked serving worker starts its own scoring process before it listens (the one
        inherited from the supervisor is the supervisor's)."""
        self._channel_for_this_process()

    def _channel_for_this_process(self, fresh: bool = False) -> dict | None:
        """Start (or restart) the child and run the setup there; returns its reply."""
        from .notebook_cells import MISSING

        with self._channel_lock:
            if not fresh and self._channel is not None and self._channel.alive:
                return None
            if self._channel is not None:
                self._channel.close()
            channel = self._channel = _Channel(self.environment["python"], self.cwd)
        reply = channel.call({"op": "setup", "endpoint": self.endpoint, "version": self.version,
                              "spec": self.spec.to_dict(), "workdir": str(self.workdir),
                              "options": self.options}, None)
        if "error" in reply:
            channel.close()
            error = _remote_exception(reply["error"])
            if isinstance(error, MlprodError):
                raise error
            raise InvalidInput(f"{self.label}: setting it up in the bundle's environment "
                               f"failed: {type(error).__name__}: {error}", field="notebook",
                               code="setup_failed", details={"exception": type(error).__name__})
        reply["sample"] = MISSING if reply.get("no_sample") else reply.get("sample")
        log.info("%s runs in the bundle's environment %s (pid %d)", self.label,
                 self.environment["digest"], channel.proc.pid)
        return reply

    def predict(self, request):
        return self._score(request, None)

    def predict_with_params(self, request, params: dict):
        return self._score(request, params)

    def _score(self, request, params):
        self._channel_for_this_process()
        message = {"op": "score", "request": request, "timeout": self.timeout}
        if params is not None:
            message["params"] = params
        try:
            reply = self._channel.call(message, self.timeout + _GRACE if self.timeout else None)
        except MlprodError:
            self._channel.close()
            raise
        if "error" in reply:
            raise _remote_exception(reply["error"])
        return reply["result"]
