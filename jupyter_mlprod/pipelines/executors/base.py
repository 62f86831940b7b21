from __future__ import annotations

import dataclasses
from concurrent.futures import Future
from typing import Callable, Protocol

from ...errors import InvalidInput
from ...registry import Registry


@dataclasses.dataclass(frozen=True)
class StepJob:
    """Everything a worker needs to execute one step; plain data so it pickles to any process."""

    run_id: int
    step: str
    notebook: str        # absolute path of the source notebook
    output: str          # absolute path of the executed notebook to write
    log: str             # absolute path of the step's log (kernel stdout/stderr)
    progress: str        # absolute path of a small JSON file the worker rewrites per cell
    cancel_flag: str     # absolute path whose existence asks the worker to stop the kernel
    cwd: str
    parameters: dict
    kernel_name: str
    timeout: int
    attempt: int
    # a pre-started kernel to run on (kernel_pool.py: pid, kernel name, connection info), or
    # None: the step starts its own kernel
    kernel: dict | None = None
    # JUPYTER_PATH of the process that planned the step, so a worker forked earlier finds
    # kernels registered since (a bundle's own environment on a node)
    jupyter_path: str | None = None


@dataclasses.dataclass(frozen=True)
class StepResult:
    status: str          # succeeded | failed | timeout | cancelled
    started_at: float    # epoch seconds
    finished_at: float
    cell_count: int | None = None
    # {"cell_index", "execution_count", "cell_source", "ename", "evalue"}; the last three may
    # be missing (a failure outside a cell)
    error: dict | None = None


class Executor(Protocol):
    name: str

    def submit(self, job: StepJob) -> Future: ...

    def shutdown(self) -> None: ...


EXECUTORS: Registry[Executor] = Registry("executor", {
    "local": "jupyter_mlprod.pipelines.executors.local:LocalExecutor",
    "dask": "jupyter_mlprod.pipelines.executors.dask:DaskExecutor",
})


def register_executor(name: str, factory: str | Callable[..., Executor]) -> None:
    EXECUTORS.register(name, factory)


def create_executor(name: str, settings) -> Executor:
    if name not in EXECUTORS:
        raise InvalidInput(f"unknown executor {name!r} (choose one of: "
                           f"{', '.join(EXECUTORS.names())})", field="executor")
    return EXECUTORS.create(name, settings)
