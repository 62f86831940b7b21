"""The distributed executor: each step runs as one task on a Dask cluster.

`DaskExecutor(settings)` connects a `distributed.Client` to `settings.dask_address`
(`MLPROD_DASK_ADDRESS`, or `[executors.dask] address` in mlprod.toml) on its first submit, and
submits `run_step_once(job)` (claim the attempt, then `execute_step(job)`) as a task. The run
service waits on plain `concurrent.futures.Future`s, so each Dask future is bridged to one.
An empty or unreachable address raises `Unavailable` naming dask_address within about
`CONNECT_TIMEOUT` seconds, and the run fails with that message. If the scheduler goes away
mid-run, Dask cancels the client's futures after its reconnect timeout and the running steps
fail (`FutureCancelledError`), so a run never waits forever.

What the cluster must offer:
- `jupyter_mlprod`, papermill and the step's kernel installed on every worker (a LocalCluster
  started from this Python has them);
- the project folder at the same absolute path on every worker (a LocalCluster, or a shared
  filesystem for a remote cluster): the step's notebook, its inputs and outputs, and the
  run's folder `.mlprod/runs/<id>/` (output notebook, log, progress file, cancel flag) are
  read and written there. Progress, timeouts and cancellation then work as with the local
  executor: the worker's watchdog kills the kernel.

Worker death. When a worker process dies while running a task, the scheduler does not count
that as a failure of the task: it reschedules it on another worker, up to
`distributed.scheduler.allowed-failures` times (default 3; then `KilledWorker`), whatever
`retries=` says (`retries` only covers exceptions raised by the task). A notebook with side
effects must not silently run again, so each task first claims its attempt with a file in the
run's folder; a rescheduled copy finds the claim and returns a failed result (`WorkerDied`)
without starting a kernel, and the step's own `retries` decide what happens next. Setting
`allowed-failures: 0` on the scheduler gives the same outcome sooner (`KilledWorker`).
"""
from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
import uuid
from concurrent.futures import Future
from pathlib import Path

from ...errors import Unavailable
from .base import StepJob, StepResult
from .job import execute_step, step_environment
from .kernel_pool import worker_pool

CONNECT_TIMEOUT = 5.0
_WHERE = "setting dask_address: MLPROD_DASK_ADDRESS or [executors.dask] address in mlprod.toml"


def run_step_once(job: StepJob, token: str) -> StepResult:
    """The task a worker runs: claim the attempt, then execute the step (see module doc).
    `token` is unique per submission and the same for Dask's reschedules of it."""
    claim = claim_path(job, token)
    try:
        fd = os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        now = time.time()
        error = {"cell_index": None, "ename": "WorkerDied",
                 "evalue": "the Dask worker running this step died; the step was not run again on "
                           "another worker (a notebook may have side effects): its retries decide"}
        try:
            with open(job.log, "a", encoding="utf-8") as log:
                log.write(f"--- attempt {job.attempt}: {error['ename']}: {error['evalue']} ---\n")
        except OSError:
            pass
        return StepResult("failed", now, now, None, error)
    except FileNotFoundError:
        # The run folder is not visible here: the worker does not share the project's filesystem.
        now = time.time()
        return StepResult("failed", now, now, None, {
            "cell_index": None, "ename": "Unavailable",
            "evalue": f"the Dask worker {socket.gethostname()} cannot see the run folder "
                      f"{os.path.dirname(claim)}; workers need the project on a shared filesystem "
                      "at the same path"})
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{socket.gethostname()}:{os.getpid()}\n")
    pool = worker_pool()  # this worker's pre-started kernels (KernelPoolPlugin), if any
    kernel = pool.take(job.kernel_name, env=step_environment(job), cwd=job.cwd,
                       log_path=job.log) if pool is not None else None
    return execute_step(dataclasses.replace(job, kernel=kernel) if kernel else job)


def claim_path(job: StepJob, token: str) -> str:
    return str(Path(job.progress).with_name(f".{job.step}.attempt-{job.attempt}.{token}.claim"))


class _BridgedFuture(Future):
    """A concurrent.futures.Future fed by a Dask future; cancelling it cancels the task."""

    dask_future = None

    def cancel(self) -> bool:
        dask_future = self.dask_future
        if dask_future is not None and not dask_future.done():
            try:
                dask_future.cancel()
            except Exception:
                pass
        return super().cancel()


class DaskExecutor:
    name = "dask"

    def __init__(self, settings, *, connect_timeout: float = CONNECT_TIMEOUT):
        self.address = (settings.dask_address or "").strip()
        self.connect_timeout = connect_timeout
        self.prestart_kernels = getattr(settings, "prestart_kernels", 0)
        self.preload = tuple(getattr(settings, "preload", ()))
        self.kernel_name = getattr(settings, "kernel_name", "python3")
        self._client = None
        self._lock = threading.Lock()

    # -- connection -----------------------------------------------------------------------
    def _get_client(self):
        with self._lock:
            if self._client is None or self._client.status in ("closing", "closed"):
                self._client = self._connect()
            return self._client

    def _connect(self):
        if not self.address:
            raise Unavailable("the dask executor needs the address of a Dask scheduler, e.g. "
                              f"tcp://host:8786 ({_WHERE}); it is not set", field="dask_address")
        from distributed import Client
        from distributed.comm.addressing import parse_address, parse_host_port

        def unavailable(reason: str) -> Unavailable:
            return Unavailable(f"cannot reach the Dask scheduler at dask_address={self.address!r}: "
                               f"{reason} ({_WHERE})", field="dask_address")

        try:
            scheme, location = parse_address(self.address)
            if scheme in ("tcp", "tls"):
                # Fails at once on a refused port or an unknown host (Dask would retry until
                # its timeout).
                host, port = parse_host_port(location)
                socket.create_connection((host, port), timeout=self.connect_timeout).close()
        except (OSError, ValueError, TypeError) as exc:
            raise unavailable(str(exc) or type(exc).__name__) from None
        if scheme == "tcp" and not _answers_as_scheduler(self.address, self.connect_timeout):
            # distributed.Client waits forever for a peer that accepts TCP but never answers.
            raise unavailable(f"no answer from a Dask scheduler there within "
                              f"{self.connect_timeout:g} s")
        try:
            client = Client(self.address, timeout=self.connect_timeout, set_as_default=False)
        except (OSError, ValueError, TypeError) as exc:
            raise unavailable(str(exc) or type(exc).__name__) from None
        if self.prestart_kernels > 0:
            # Each worker (also one joining later) keeps its own pre-started kernels.
            from .dask_kernels import KernelPoolPlugin

            client.register_plugin(KernelPoolPlugin(self.prestart_kernels, self.preload,
                                                    self.kernel_name))
        return client

    # -- Executor protocol ----------------------------------------------------------------
    def submit(self, job: StepJob) -> Future:
        client = self._get_client()
        bridge = _BridgedFuture()
        token = uuid.uuid4().hex[:12]
        key = f"mlprod-{job.step}-run{job.run_id}-attempt{job.attempt}-{token}"
        # pure=False: every attempt is a new task; retries=0: our retry policy decides.
        dask_future = client.submit(run_step_once, job, token, key=key, pure=False, retries=0)
        bridge.dask_future = dask_future
        dask_future.add_done_callback(lambda f: _complete(bridge, f))
        return bridge

    def shutdown(self) -> None:
        """Close the client (never the cluster: it is not ours)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close(timeout=self.connect_timeout)
            except Exception:
                pass


def _answers_as_scheduler(address: str, timeout: float) -> bool:
    """Ask for the scheduler's identity, bounded in time, on a private event loop and thread
    (the caller may be inside a running event loop, e.g. a kernel running a magic)."""
    import asyncio

    from distributed.comm import connect
    from distributed.core import send_recv

    async def identity():
        comm = await connect(address, timeout=timeout)
        try:
            return await send_recv(comm, op="identity")
        finally:
            comm.abort()

    answer: list = []

    def ask() -> None:
        try:
            answer.append(asyncio.run(asyncio.wait_for(identity(), timeout)))
        except BaseException:
            pass

    thread = threading.Thread(target=ask, name="mlprod-dask-probe", daemon=True)
    thread.start()
    thread.join(timeout + 2)
    return bool(answer) and isinstance(answer[0], dict) and answer[0].get("type") == "Scheduler"


def _complete(bridge: _BridgedFuture, dask_future) -> None:
    """Runs on Dask's callback thread once the task finished, erred or was cancelled."""
    if bridge.done():
        return
    try:
        result = dask_future.result()
    except BaseException as exc:  # KilledWorker, cancelled (client closed, scheduler lost), ...
        if not isinstance(exc, Exception):
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        _settle(bridge.set_exception, exc)
    else:
        _settle(bridge.set_result, result)
    finally:
        bridge.dask_future = None
        try:
            dask_future.release()  # the result is ours now; let the cluster forget it
        except Exception:
            pass


def _settle(setter, value) -> None:
    try:
        setter(value)
    except Exception:  # the bridge was cancelled meanwhile (InvalidStateError)
        pass
