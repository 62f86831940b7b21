"""A kernel handed from the pool to a step: the manager a step's papermill run uses for a kernel
it does not own, and the client that knows quickly when a kernel is ready (for pooled kernels
and for kernels a step starts itself)."""
from __future__ import annotations

import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient

from .kernel_pool import START_TIMEOUT, _kill, process_alive


class QuickReadyClient(AsyncKernelClient):
    """Ready as soon as the kernel answers on shell AND its IOPub messages arrive here.

    jupyter_client's `wait_for_ready` ends by draining IOPub until 0.2 s pass in silence:
    most of a step's cost on a kernel that is already up. Seeing the idle status of our own
    kernel_info request on IOPub proves the subscription is live just as well (ZeroMQ drops
    what is published before a subscriber has joined, so we ask again until one arrives)."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or START_TIMEOUT)
        wait = 0.05
        asked: set[str] = set()   # an answer to any of our requests will do
        while time.monotonic() < deadline:
            asked.add(self.kernel_info())
            # The shell reply, asking again after a second as jupyter_client does: a request
            # can be lost while the kernel's sockets come up, and waiting on it alone would
            # hang until the deadline.
            until = min(deadline, time.monotonic() + 1.0)
            replied = False
            while not replied and time.monotonic() < until:
                if self.parent is not None and not await self.parent.is_alive():
                    raise RuntimeError("the kernel died before replying to kernel_info")
                try:
                    reply = await self.get_shell_msg(timeout=0.25)
                except Empty:
                    continue
                replied = reply.get("parent_header", {}).get("msg_id") in asked
            if not replied:
                continue
            until = time.monotonic() + wait
            while (left := until - time.monotonic()) > 0:
                try:
                    msg = await self.iopub_channel.get_msg(timeout=left)
                except Empty:
                    break
                if (msg.get("parent_header", {}).get("msg_id") in asked
                        and msg.get("msg_type") == "status"
                        and msg.get("content", {}).get("execution_state") == "idle"):
                    return
            wait = min(1.0, wait * 2)
        raise RuntimeError(f"the kernel did not answer within {timeout or START_TIMEOUT:g} s")


def handed_kernel_manager(handed: dict):
    """An AsyncKernelManager for a kernel a pool started: connected to it, owning no process.
    papermill/nbclient see a started kernel; shutting it down kills it by pid."""
    from jupyter_client.manager import AsyncKernelManager

    class HandedKernelManager(AsyncKernelManager):
        pid = handed["pid"]
        _shut = False

        @property
        def has_kernel(self) -> bool:
            return not self._shut

        async def _async_is_alive(self) -> bool:
            return not self._shut and process_alive(self.pid)

        is_alive = _async_is_alive

        async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
            self._shut = True
            _kill(self.pid)

        async def cleanup_resources(self, restart: bool = False) -> None:
            return None

    km = HandedKernelManager(kernel_name=handed["kernel_name"])
    km.load_connection_info(handed["connection"])
    return km
