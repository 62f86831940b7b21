"""The default executor: a pool of warm worker processes on this machine."""
from __future__ import annotations

import dataclasses
import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .base import StepJob
from .forkserver import ensure_forkserver
from .job import execute_step, step_environment
from .kernel_pool import KernelPool


def _warm() -> None:
    import signal

    from ...lifetime import die_with_parent

    # A worker's parent is the forkserver, which exits when this pool's process dies (its
    # pipe closes): the worker follows it, and its kernel follows the worker (see job.py).
    die_with_parent(signal.SIGKILL)
    # Ctrl-C in a terminal (or a kernel interrupt, when a magic runs the pipeline) reaches the
    # whole process group, workers included; cancelling goes through the run's CANCEL flag.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import papermill  # noqa: F401  (import once per worker, not once per step)


class LocalExecutor:
    name = "local"

    def __init__(self, settings):
        self.max_workers = settings.parallelism
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        # Kernels are pre-started here, in the process that submits, and handed to whichever
        # worker runs the step: one pool shared by all workers (kernel_pool.py).
        self.kernels = KernelPool(getattr(settings, "prestart_kernels", 0),
                                  preload=getattr(settings, "preload", ()), cwd=str(settings.root))

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # forkserver: safe to start from a threaded server, and forks are cheap after
                # the server has imported papermill once.
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["jupyter_mlprod.pipelines.executors.forkserver",
                                                "jupyter_mlprod.pipelines.executors.job", "papermill"])
                self._pool = ProcessPoolExecutor(self.max_workers, mp_context=context,
                                                 initializer=_warm)
            return self._pool

    def submit(self, job: StepJob) -> Future:
        pool = self._get_pool()
        ensure_forkserver()  # workers are forked lazily: from a forkserver tied to this process
        kernel = self.kernels.take(job.kernel_name, env=step_environment(job), cwd=job.cwd,
                                   log_path=job.log)
        job = dataclasses.replace(job, kernel=kernel or None,
                                  jupyter_path=os.environ.get("JUPYTER_PATH"))
        try:
            try:
                future = pool.submit(execute_step, job)
            except BrokenProcessPool:
                with self._lock:
                    self._pool = None  # a worker died hard (OOM kill); start afresh
                future = self._get_pool().submit(execute_step, job)
        except BaseException:
            if kernel:
                self.kernels.discard(kernel["pid"])
            raise
        if kernel:  # cancelled before it started, or its worker died: the kernel goes too
            future.add_done_callback(lambda _done: self.kernels.discard(kernel["pid"]))
        return future

    def shutdown(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
        self.kernels.shutdown()
