"""Pre-started kernels: a step takes a kernel that is already up instead of starting one.

Starting a kernel is most of a trivial step's cost (about 0.5 s of its 1 s). A `KernelPool`
keeps up to `size` idle kernels per kernel name (an environment's kernel has its own name),
started in the background while earlier steps run, and starts a replacement after each take.
A kernel is handed out once and never returns: the step that took it shuts it down, so every
step still gets a kernel that has run no user code (only the project's `preload` imports).

Where it runs: the local executor keeps one pool in the process that submits steps and hands
the kernel to a pool worker as plain data (`StepJob.kernel`: connection info and pid); a Dask
worker keeps its own pool (see `KernelPoolPlugin`) and its task takes a kernel in-process.
Either way `execute_step` drives the kernel through `HandedKernelManager`, so papermill,
nbclient, the watchdog, timeouts and cancellation work as with a kernel it started itself.

Lifetime: every kernel is forked from the pool's keeper thread, which lives until the pool is
shut down, and asks for SIGKILL when that thread's process ends (PR_SET_PDEATHSIG, see
lifetime.py): a `kill -9` of the process holding the pool leaves no kernel behind. The pool
also reaps the kernels it handed out, and copies each kernel's stdout/stderr into the log of
the step that took it.
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import threading
import time
from collections import defaultdict

from ...lifetime import child_dies_with_us

START_TIMEOUT = 60.0   # seconds a kernel may take to answer its first kernel_info request
# While idle kernels remain, a refill waits until takes pause this long: starting a kernel
# costs about half a CPU second, which would slow the steps of a burst that the pool can
# still serve. An empty pool refills at once.
REFILL_PAUSE = 0.3
MAX_RETRIES = 3   # failed pre-starts in a row before the pool waits for the next take


def preload_code(modules) -> str:
    """Imports the modules without binding a name in the user's namespace."""
    return "".join(f"__import__({name!r})\n" for name in modules)


@dataclasses.dataclass(eq=False)
class _Kernel:
    name: str
    km: object                      # AsyncKernelManager
    process: subprocess.Popen | None = None
    client: object | None = None    # AsyncKernelClient, while idle
    sink: object | None = None      # file the kernel's output goes to once handed out
    early: list = dataclasses.field(default_factory=list)  # output before hand-out
    ready: bool = False


class KernelPool:
    """`size` idle kernels per kernel name, started on demand by `warm(name)` or a `take`."""

    def __init__(self, size: int, *, preload=(), cwd: str | None = None):
        self.size = max(0, int(size))
        self.preload = tuple(preload)
        self.cwd = cwd or os.getcwd()
        self._idle: dict[str, list[_Kernel]] = defaultdict(list)
        self._starting: dict[str, int] = defaultdict(int)
        self._failures: dict[str, int] = defaultdict(int)   # pre-starts failed in a row
        self._handed: dict[int, _Kernel] = {}      # pid -> kernel a step is using
        self._launched: set = set()                # kernels starting (not ready yet)
        self._refills: dict = {}                   # kernel name -> pending refill (TimerHandle)
        self._cond = threading.Condition()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._keeper: threading.Thread | None = None
        self.started = 0                           # kernels started (for tests and benchmarks)

    # -- public ------------------------------------------------------------------------------
    def warm(self, kernel_name: str) -> None:
        """Start kernels for `kernel_name` until `size` are idle or starting."""
        if self.size <= 0:
            return
        with self._cond:
            if self._closed:
                return
            missing = self.size - len(self._idle[kernel_name]) - self._starting[kernel_name]
            self._starting[kernel_name] += max(0, missing)
        loop = self._ensure_keeper()
        for _ in range(max(0, missing)):
            asyncio.run_coroutine_threadsafe(self._start(kernel_name), loop)

    def take(self, kernel_name: str, *, env: dict | None = None, cwd: str | None = None,
             log_path: str | None = None, wait: float = START_TIMEOUT) -> dict | None:
        """A ready kernel for one step, as plain data for `HandedKernelManager`, or None when
        the pool is off or knew no kernel of that name yet (the step then starts its own, as
        without a pool, while the pool fills). Waits for a kernel that is still starting.
        `env` entries are set in the kernel's os.environ and `cwd` becomes its working folder
        before it is handed out; its output goes to `log_path` from then on."""
        if self.size <= 0:
            return None
        deadline = time.monotonic() + wait
        with self._cond:
            while not self._closed and not self._idle[kernel_name] and self._starting[kernel_name]:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            if self._closed or not self._idle[kernel_name]:
                kernel = None
            else:
                kernel = self._idle[kernel_name].pop(0)
                self._handed[kernel.process.pid] = kernel
            some_left = bool(self._idle[kernel_name])
        if some_left:
            self._ensure_keeper().call_soon_threadsafe(self._refill_later, kernel_name)
        else:
            self.warm(kernel_name)  # refill (or first fill) in the background
        if kernel is None:
            return None
        try:
            future = asyncio.run_coroutine_threadsafe(
                self._hand_out(kernel, env or {}, cwd, log_path), self._loop)
            return future.result(wait)
        except Exception:
            self.discard(kernel.process.pid)
            return None

    def discard(self, pid: int) -> None:
        """Kill a kernel this pool handed out, if it still runs: its step is over or will not
        run (a worker that died hard leaves its kernel behind). A kernel already reaped is
        left alone, so its pid, maybe reused by now, is never signalled."""
        with self._cond:
            if pid in self._handed:
                _kill(pid)

    def idle_pids(self) -> list[int]:
        with self._cond:
            return [k.process.pid for kernels in self._idle.values() for k in kernels]

    def spare_pids(self) -> set[int]:
        """Kernels no step has taken: idle ones and those still starting."""
        with self._cond:
            return set(self.idle_pids()) | {k.process.pid for k in self._launched
                                            if k.process is not None}

    def shutdown(self, timeout: float = 10.0) -> None:
        """Kill every kernel of the pool (idle and handed out) and stop its keeper thread."""
        with self._cond:
            self._closed = True
            kernels = ([k for ks in self._idle.values() for k in ks] + list(self._handed.values())
                       + list(self._launched))
            self._idle.clear()
            self._cond.notify_all()
        for kernel in kernels:
            if kernel.process is not None:
                _kill(kernel.process.pid)
        loop, keeper = self._loop, self._keeper
        if loop is None or keeper is None:
            return
        # Starts in flight notice _closed and kill their kernel; then the loop stops.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                if not any(self._starting.values()) and not self._handed:
                    break
            time.sleep(0.02)
        loop.call_soon_threadsafe(loop.stop)
        keeper.join(timeout)

    # -- keeper thread -----------------------------------------------------------------------
    def _refill_later(self, kernel_name: str) -> None:
        pending = self._refills.pop(kernel_name, None)
        if pending is not None:
            pending.cancel()
        self._refills[kernel_name] = self._loop.call_later(REFILL_PAUSE, self.warm, kernel_name)

    def _ensure_keeper(self) -> asyncio.AbstractEventLoop:
        with self._cond:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def keep() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()
                    loop.close()

                # Kernels are forked from this thread: it must live as long as they may.
                self._keeper = threading.Thread(target=keep, name="mlprod-kernel-pool", daemon=True)
                self._keeper.start()
                ready.wait()
                self._loop = loop
            return self._loop

    async def _start(self, name: str) -> None:
        from jupyter_client.manager import AsyncKernelManager

        from .job import transport_options
        from .kernel_handover import QuickReadyClient

        kernel = None
        try:
            kernel = _Kernel(name, AsyncKernelManager(kernel_name=name, **transport_options()))
            arm = child_dies_with_us(forking_thread_lives=True)
            await kernel.km.start_kernel(cwd=self.cwd, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT,
                                         **({"preexec_fn": arm} if arm else {}))
            kernel.process = kernel.km.provisioner.process
            self.started += 1
            with self._cond:
                self._launched.add(kernel)
                if self._closed:
                    raise RuntimeError("the pool is shutting down")
            threading.Thread(target=self._forward, args=(kernel,), daemon=True,
                             name=f"mlprod-kernel-output-{kernel.process.pid}").start()
            kernel.km.client_factory = QuickReadyClient
            kernel.client = kernel.km.client()
            kernel.client.start_channels()
            await kernel.client.wait_for_ready(timeout=START_TIMEOUT)
            if self.preload:
                await _execute(kernel.client, preload_code(self.preload))
            kernel.ready = True
        except Exception as exc:  # noqa: BLE001  (a step then starts its own kernel)
            if kernel is not None:
                kernel.early.append(f"mlprod kernel pool: could not pre-start kernel {name!r}: "
                                    f"{type(exc).__name__}: {exc}\n")
        with self._cond:
            self._launched.discard(kernel)
            self._starting[name] -= 1
            ready = kernel is not None and kernel.ready
            if ready and not self._closed:
                self._idle[name].append(kernel)
            elif kernel is not None:
                self._drop(kernel)
            self._failures[name] = 0 if ready else self._failures[name] + 1
            retry = not ready and not self._closed and self._failures[name] <= MAX_RETRIES
            self._cond.notify_all()
        if retry:  # a start that failed (a slow machine) is tried again, a few times, later
            asyncio.get_running_loop().call_later(self._failures[name], self.warm, name)

    def _drop(self, kernel: _Kernel) -> None:
        if kernel.client is not None:
            kernel.client.stop_channels()
        if kernel.process is not None:
            _kill(kernel.process.pid)

    async def _hand_out(self, kernel: _Kernel, env: dict, cwd: str | None, log_path) -> dict:
        code = "import os as _mlprod_os\n"
        if cwd:
            code += f"_mlprod_os.chdir({cwd!r})\n"
        code += "".join(f"_mlprod_os.environ[{k!r}] = {str(v)!r}\n" for k, v in env.items())
        code += "del _mlprod_os\n"
        await _execute(kernel.client, code)
        kernel.client.stop_channels()
        kernel.client = None
        if log_path:
            with self._cond:
                kernel.sink = open(log_path, "a", encoding="utf-8", buffering=1)
        info = dict(kernel.km.get_connection_info())
        info["key"] = info["key"].decode() if isinstance(info["key"], bytes) else info["key"]
        return {"pid": kernel.process.pid, "kernel_name": kernel.name, "connection": info}

    def _forward(self, kernel: _Kernel) -> None:
        """The kernel's output: kept until it is handed out, then written to the step's log.
        Ends (and reaps the kernel) when the kernel exits."""
        stream = kernel.process.stdout
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            with self._cond:
                sink = kernel.sink
                if sink is None:
                    kernel.early.append(line)
                    del kernel.early[:-50]
            if sink is not None:
                try:
                    sink.write(line)
                except (OSError, ValueError):
                    pass
        stream.close()
        kernel.process.wait()
        with self._cond:
            self._handed.pop(kernel.process.pid, None)
            sink, kernel.sink = kernel.sink, None
        if sink is not None:
            sink.close()


async def _execute(client, code: str, timeout: float = START_TIMEOUT) -> None:
    """Run code silently (no execution count, no history) and wait for its reply."""
    msg_id = client.execute(code, silent=True, store_history=False)
    deadline = time.monotonic() + timeout
    while True:
        reply = await client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            content = reply["content"]
            if content.get("status") == "error":
                raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")
            return


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def process_alive(pid: int) -> bool:
    """Alive and not a zombie (a handed-out kernel is not our child: its pool reaps it)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False


# -- Dask: one pool per worker (the plugin itself lives in dask_kernels.py) ------------------
_worker_pool: KernelPool | None = None


def worker_pool() -> KernelPool | None:
    """The pool of this Dask worker process, if the executor registered one."""
    return _worker_pool


def set_worker_pool(pool: KernelPool | None) -> KernelPool | None:
    """Install this worker process's pool; returns the one it replaces."""
    global _worker_pool
    previous, _worker_pool = _worker_pool, pool
    return previous
