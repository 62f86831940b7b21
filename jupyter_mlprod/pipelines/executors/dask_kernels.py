"""Pre-started kernels on Dask workers: a WorkerPlugin gives each worker process its own
`KernelPool` (see kernel_pool.py); `run_step_once` takes its kernel from there."""
from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

from .kernel_pool import KernelPool, set_worker_pool

PLUGIN_NAME = "mlprod-kernel-pool"


class KernelPoolPlugin(WorkerPlugin):
    """Each worker keeps `size` idle kernels per kernel name, warmed for `kernel_name`."""

    name = PLUGIN_NAME

    def __init__(self, size: int, preload=(), kernel_name: str = "python3"):
        self.size, self.preload, self.kernel_name = size, tuple(preload), kernel_name

    def setup(self, worker) -> None:
        pool = KernelPool(self.size, preload=self.preload)
        previous = set_worker_pool(pool)
        if previous is not None:
            previous.shutdown()
        pool.warm(self.kernel_name)

    def teardown(self, worker) -> None:
        pool = set_worker_pool(None)
        if pool is not None:
            pool.shutdown()
