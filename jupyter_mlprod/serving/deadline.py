"""Scoring timeouts for calls that run inline (no thread hop per request).

On the main thread (every serving worker runs its event loop there) a SIGALRM interval timer
interrupts the call, even inside `time.sleep`. Elsewhere (e.g. `EndpointService.score` called
from a thread pool) a watchdog thread raises the timeout asynchronously in the calling thread;
that cannot interrupt a blocking C call, only the Python code around it.
"""
from __future__ import annotations

import ctypes
import signal
import threading
import time


class ScoringTimeout(BaseException):
    """Raised inside a scoring call that ran past its timeout. A BaseException, so that a
    cell's `except Exception:` cannot swallow it."""


class Deadline:
    def __init__(self) -> None:
        self._armed = False
        self._installed = False

    def call(self, fn, arg, seconds: float | None):
        if not seconds or seconds <= 0:
            return fn(arg)
        if threading.current_thread() is threading.main_thread():
            return self._call_with_alarm(fn, arg, seconds)
        return _watchdog().call(fn, arg, seconds)

    def _call_with_alarm(self, fn, arg, seconds: float):
        if not self._installed:
            signal.signal(signal.SIGALRM, self._on_alarm)
            self._installed = True
        self._armed = True
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn(arg)
        finally:
            self._armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _on_alarm(self, signum, frame) -> None:
        if self._armed:
            self._armed = False
            raise ScoringTimeout()


class _Watchdog:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._calls: dict[object, tuple[int, float]] = {}
        self._fired: set[object] = set()
        threading.Thread(target=self._run, name="mlprod-scoring-watchdog", daemon=True).start()

    def call(self, fn, arg, seconds: float):
        token = object()
        thread_id = threading.get_ident()
        with self._cond:
            self._calls[token] = (thread_id, time.monotonic() + seconds)
            self._cond.notify()
        try:
            return fn(arg)
        finally:
            with self._cond:
                self._calls.pop(token, None)
                fired = token in self._fired
                self._fired.discard(token)
            if fired:  # the exception may still be pending if fn returned just in time
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                for token, (thread_id, due) in list(self._calls.items()):
                    if due <= now:
                        del self._calls[token]
                        self._fired.add(token)
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(
                            ctypes.c_ulong(thread_id), ctypes.py_object(ScoringTimeout))
                wait = min((due for _, due in self._calls.values()), default=now + 3600) - now
                self._cond.wait(timeout=max(wait, 0.001))


_WATCHDOG: _Watchdog | None = None
_WATCHDOG_LOCK = threading.Lock()


def _watchdog() -> _Watchdog:
    global _WATCHDOG
    with _WATCHDOG_LOCK:
        if _WATCHDOG is None:
            _WATCHDOG = _Watchdog()
        return _WATCHDOG
