"""The local executor's forkserver, made to die with the process that uses it.

multiprocessing's forkserver exits when its pipe from the main process closes, but every pool
worker it forks holds a copy of that pipe's write end (as its "parent sentinel"): after a
`kill -9` of the main process the forkserver and the workers wait on each other forever and
the step's kernel keeps writing outputs. So the forkserver asks for SIGKILL when its parent
dies (this module is one of its preload modules), and the workers and kernels follow it.

The parent-death signal fires when the *thread* that forked the child ends, so the forkserver
is always started from one thread that lives as long as this process.
"""
from __future__ import annotations

import queue
import signal
import threading

from ...lifetime import die_with_parent


def _in_forkserver() -> bool:
    try:
        with open("/proc/self/cmdline", "rb") as handle:
            return b"multiprocessing.forkserver import main" in handle.read()
    except OSError:
        return False


if _in_forkserver():  # imported as a forkserver preload module, before it forks any worker
    die_with_parent(signal.SIGKILL)

_requests: queue.Queue = queue.Queue()
_keeper: threading.Thread | None = None
_keeper_lock = threading.Lock()


def ensure_forkserver() -> None:
    """Start the forkserver (or restart it, if it died) from the keeper thread."""
    global _keeper
    with _keeper_lock:
        if _keeper is None or not _keeper.is_alive():
            _keeper = threading.Thread(target=_keep, name="mlprod-forkserver", daemon=True)
            _keeper.start()
    done = threading.Event()
    errors: list[BaseException] = []
    _requests.put((done, errors))
    done.wait()
    if errors:
        raise errors[0]


def _keep() -> None:
    from multiprocessing import forkserver

    while True:
        done, errors = _requests.get()
        try:
            forkserver.ensure_running()
        except BaseException as exc:  # noqa: BLE001  (handed to the caller)
            errors.append(exc)
        finally:
            done.set()
