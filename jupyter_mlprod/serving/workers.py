"""Worker processes sharing one port: pre-fork with SO_REUSEPORT.

The supervisor sets up every live version once (copy-on-write after fork), reserves the port
(a bound, non-listening socket: it takes no connections but keeps the port ours), then forks N
workers. Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads connections
evenly across workers (a shared accept socket lets one busy worker take them all). A worker
that dies is replaced; the supervisor stops them all on SIGTERM/SIGINT. Workers ask the kernel
for SIGTERM if the supervisor dies, so nothing outlives it.
"""
from __future__ import annotations

import errno
import logging
import os
import select
import signal
import socket
import time

from .. import lifetime

log = logging.getLogger("jupyter_mlprod.serving")


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))  # honours taskset / cgroup pinning
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_port_free(host: str, port: int) -> None:
    """Bind without SO_REUSEPORT first, so we never silently share a port with another server."""
    if port == 0:
        return
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise OSError(exc.errno, f"port {port} on {host} is already in use") from None
        raise
    finally:
        probe.close()


def bind(host: str, port: int, *, reuse_port: bool, listen: bool = True) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if _family(host) == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    if listen:
        sock.listen(1024)
    return sock


def die_with_parent() -> None:
    lifetime.die_with_parent(signal.SIGTERM)


class Supervisor:
    """Forks `count` workers running `child_main(index, ready_fd)` (which must never return
    normally: it serves until SIGTERM). `on_ready()` runs once every worker is listening;
    `on_tick()` runs every second or so (heartbeats)."""

    def __init__(self, count: int, child_main, on_ready, on_tick, ready_timeout: float = 300.0):
        self.count = count
        self.child_main = child_main
        self.on_ready = on_ready
        self.on_tick = on_tick
        self.ready_timeout = ready_timeout
        self.children: dict[int, int] = {}  # pid -> index
        self._stopping = False

    def run(self) -> int:
        ready_r, ready_w = os.pipe()
        for index in range(self.count):
            self._spawn(index, ready_w)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        if not self._await_ready(ready_r):
            self._terminate()
            return 3
        self.on_ready()
        failures: list[float] = []
        while not self._stopping:
            try:
                readable, _, _ = select.select([ready_r], [], [], 1.0)
            except InterruptedError:
                readable = []
            if readable:
                os.read(ready_r, 4096)  # restarted workers announce themselves; nothing to do
            self._reap(ready_w, failures)
            if len(failures) >= 5 and failures[-1] - failures[-5] < 30:
                log.error("workers keep dying; stopping the server")
                self._terminate()
                return 4
            self.on_tick()
        self._terminate()
        return 0

    def _spawn(self, index: int, ready_w: int) -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                die_with_parent()
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                self.child_main(index, ready_w)
                code = 0
            except BaseException:  # noqa: BLE001
                log.exception("worker %d failed", index)
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = index

    def _await_ready(self, ready_r: int) -> bool:
        deadline = time.monotonic() + self.ready_timeout
        got = 0
        while got < self.count:
            left = deadline - time.monotonic()
            if left <= 0 or self._stopping:
                return False
            try:
                readable, _, _ = select.select([ready_r], [], [], min(left, 0.5))
            except InterruptedError:
                continue
            if readable:
                got += len(os.read(ready_r, 4096))
            for pid in list(self.children):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    log.error("worker %d exited before it was ready (status %d)",
                              self.children.pop(pid), status)
                    return False
        return True

    def _reap(self, ready_w: int, failures: list[float]) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            index = self.children.pop(pid, None)
            if index is None or self._stopping:
                continue
            failures.append(time.monotonic())
            log.warning("worker %d (pid %d) exited with status %d; starting a new one",
                        index, pid, status)
            self._spawn(index, ready_w)

    def _stop(self, signum, frame) -> None:
        self._stopping = True

    def _terminate(self) -> None:
        self._stopping = True
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                self.children.pop(pid, None)
        deadline = time.monotonic() + 10
        while self.children and time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                self.children.pop(pid, None)
            else:
                time.sleep(0.05)
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        self.children.clear()
