"""Processes that die with their parent (Linux: the parent-death signal, PR_SET_PDEATHSIG).

A `kill -9` of `mlprod run`, of the scheduler or of a node gives them no chance to stop their
children, so every child asks the kernel for a signal when its parent goes. The chain is
main process -> forkserver (exits by itself when the main process's end of its pipe closes)
-> pool worker (dies with the forkserver) -> kernel (dies with its worker).

The signal fires when the *thread* that forked the child ends, not the process: only arm it
for children forked from a thread that lives as long as its process (a main thread).
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1

try:  # bound once, before any fork: a child between fork and exec must not load libraries
    _prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None
except (OSError, AttributeError):
    _prctl = None


def die_with_parent(sig: int = signal.SIGKILL, parent_pid: int | None = None) -> bool:
    """Ask for `sig` when this process's parent ends; if the parent (`parent_pid`, when known)
    is already gone, die now. False where the platform has no such signal."""
    if _prctl is None:
        return False
    _prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        os.kill(os.getpid(), sig)  # the parent died before the request: it would never come
    return True


def child_dies_with_us(sig: int = signal.SIGKILL, *, forking_thread_lives: bool = False):
    """A `preexec_fn` for subprocess.Popen: the child gets `sig` when this process ends. None
    (no preexec_fn) off Linux or off the main thread, where the signal would come when the
    forking thread ends rather than the process; unless the caller vouches that the forking
    thread lives as long as the child may (`forking_thread_lives`, e.g. a keeper thread)."""
    import threading

    if _prctl is None or (threading.current_thread() is not threading.main_thread()
                          and not forking_thread_lives):
        return None
    parent = os.getpid()

    def arm() -> None:
        die_with_parent(sig, parent)

    return arm
