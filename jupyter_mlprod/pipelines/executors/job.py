"""The function a worker process runs for one step: papermill with a real kernel, plus a
watchdog that kills the kernel on the step's timeout or a cancel request."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

from ...lifetime import child_dies_with_us
from .base import StepJob, StepResult
from .kernel_handover import QuickReadyClient, handed_kernel_manager
from .step_errors import first_source_line, where, with_install_hint

_POLL = 0.2


def execute_step(job: StepJob) -> StepResult:
    import papermill
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    from papermill.exceptions import PapermillExecutionError

    started = time.time()
    if job.jupyter_path is not None and os.environ.get("JUPYTER_PATH") != job.jupyter_path:
        os.environ["JUPYTER_PATH"] = job.jupyter_path
    Path(job.output).parent.mkdir(parents=True, exist_ok=True)
    # Async, as papermill itself would create it: nbclient then waits for kernel messages
    # without blocking its event loop, so its kernel-alive check notices a kernel the watchdog
    # killed. (With a blocking KernelManager it waits on iopub forever and the step never ends.)
    # A kernel handed over by a pool of pre-started kernels is already up: papermill only
    # connects to it (see kernel_pool.py); otherwise the step starts its own.
    km = (handed_kernel_manager(job.kernel) if job.kernel else
          AsyncKernelManager(kernel_name=job.kernel_name, **transport_options()))
    km.client_factory = QuickReadyClient  # skips nbclient's 0.2 s IOPub drain (kernel_handover.py)
    stop_reason: list[str] = []
    done = threading.Event()
    cell_count = [None]

    def watchdog() -> None:
        deadline = time.monotonic() + job.timeout
        while not done.wait(_POLL):
            if not stop_reason:
                reason = "timeout" if time.monotonic() > deadline else (
                    "cancelled" if os.path.exists(job.cancel_flag) else None)
                if reason:
                    stop_reason.append(reason)
            if stop_reason:
                # Keep killing until papermill gives up: the kernel may still be starting.
                _kill_kernel(km)

    def on_cell_start(cell, cell_index, **_):
        nb_cells = cell_count[0]
        _write_progress(job.progress, {"cell": cell_index, "count": nb_cells})

    def on_notebook_start(notebook, **_):
        cell_count[0] = len(notebook.cells)
        _write_progress(job.progress, {"cell": None, "count": cell_count[0]})

    guard = threading.Thread(target=watchdog, name=f"mlprod-watchdog-{job.step}", daemon=True)
    guard.start()
    error = None
    status = "succeeded"
    with open(job.log, "a", encoding="utf-8", buffering=1) as log:
        log.write(f"--- attempt {job.attempt} of step {job.step} (run {job.run_id}) ---\n")
        try:
            # Started here rather than by papermill so the kernel's own stderr lands in the log.
            # MLPROD_STEP_RUN lets `%mlprod run` inside a step refuse to recurse.
            env = dict(os.environ, **step_environment(job))
            # The kernel dies with this worker, so a killed run leaves no kernel writing outputs.
            lifetime = {"preexec_fn": arm} if (arm := child_dies_with_us()) else {}
            if not job.kernel:
                run_sync(km.start_kernel)(cwd=job.cwd, stdout=log, stderr=log, env=env, **lifetime)
            papermill.execute_notebook(
                job.notebook, job.output, parameters=job.parameters or None,
                kernel_name=job.kernel_name, cwd=job.cwd, progress_bar=False, log_output=True,
                stdout_file=log, stderr_file=log, km=km,
                on_notebook_start=on_notebook_start, on_cell_start=on_cell_start)
        except PapermillExecutionError as exc:
            status = "failed"
            error = {"cell_index": _source_index(job.output, exc.cell_index),
                     "execution_count": exc.exec_count,
                     "cell_source": first_source_line(exc.source),
                     "ename": exc.ename, "evalue": exc.evalue}
        except BaseException as exc:  # dead kernel, kernel start failure, I/O error
            status = "failed"
            error = {"cell_index": None, "ename": type(exc).__name__, "evalue": str(exc)[:2000]}
        finally:
            done.set()
            _shutdown(km)
        if stop_reason:
            status = stop_reason[0]
            error = {"cell_index": None, "ename": "TimeoutError" if status == "timeout" else "Cancelled",
                     "evalue": (f"step ran longer than its timeout of {job.timeout} s; the kernel "
                                "was killed") if status == "timeout" else "the run was cancelled"}
        if error:
            error = with_install_hint(error, job.kernel_name)
            log.write(f"{where(error)}{error['ename']}: {error['evalue']}\n")
        log.write(f"--- {status} ---\n")
    return StepResult(status=status, started_at=started, finished_at=time.time(),
                      cell_count=cell_count[0], error=error)


def step_environment(job: StepJob) -> dict:
    """What a step's kernel finds in its environment besides ours."""
    return {"MLPROD_STEP_RUN": f"{job.run_id}:{job.step}"}


def transport_options() -> dict:
    """Encrypt the kernel's ZeroMQ traffic (CurveZMQ keys the manager provisions) when the
    kernelspec declares support, as ipykernel's does: the traffic is then private, and the
    kernel no longer opens every step log with its "running over TCP without encryption"
    warning. Without CurveZMQ in libzmq, the kernel runs as before."""
    import zmq

    return {"transport_encryption": "auto"} if zmq.has("curve") else {}


def _write_progress(path: str, data: dict) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as handle:
        json.dump(data, handle)
    os.replace(tmp, path)


def _kill_kernel(km) -> None:
    provisioner = getattr(km, "provisioner", None)
    pid = (getattr(km, "pid", None)  # a handed-over kernel
           or getattr(provisioner, "pid", None)
           or getattr(getattr(provisioner, "process", None), "pid", None))
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _shutdown(km) -> None:
    from jupyter_core.utils import run_sync

    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # the kernel may already be gone (killed by the watchdog)
        _kill_kernel(km)
    try:
        run_sync(km.cleanup_resources)()
    except Exception:
        pass


def _source_index(output_path: str, output_index: int | None) -> int | None:
    """Papermill inserts an `injected-parameters` cell; report the index in the user's notebook."""
    if output_index is None:
        return None
    try:
        cells = json.loads(Path(output_path).read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return output_index
    # On failure papermill also writes two markdown cells (one on top, one before the failing
    # cell) that were not there when it computed the index: leave them out.
    cells = [cell for cell in cells
             if "papermill-error-cell-tag" not in (cell.get("metadata", {}).get("tags") or [])]
    injected = sum(1 for cell in cells[:output_index]
                   if "injected-parameters" in (cell.get("metadata", {}).get("tags") or []))
    return output_index - injected
