"""Interrupting the kernel during `%mlprod run` cancels the run; the kernel lives on."""
from __future__ import annotations

import os
import queue
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager

import jupyter_mlprod

PACKAGE_HOME = str(Path(jupyter_mlprod.__file__).resolve().parents[1])


def write_slow_step(root: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["mlprod"] = {"step": "slow", "inputs": [], "outputs": ["never.txt"]}
    nb.cells = [nbformat.v4.new_code_cell("import time"),
                nbformat.v4.new_code_cell("time.sleep(120)")]
    nbformat.write(nb, root / "slow.ipynb")


def execute(kc, code: str, timeout: float = 120, during=None) -> tuple[dict, list[dict]]:
    """Run `code`, calling `during()` repeatedly until it returns True; collect iopub output."""
    msg_id = kc.execute(code)
    outputs, deadline, acted = [], time.monotonic() + timeout, during is None
    while time.monotonic() < deadline:
        if not acted:
            acted = bool(during())
        try:
            msg = kc.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind in ("stream", "display_data", "update_display_data", "execute_result", "error"):
            outputs.append(msg)
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            break
    return kc.get_shell_msg(timeout=10)["content"], outputs


def test_interrupting_the_kernel_cancels_the_run(tmp_path):
    root = tmp_path / "slow"
    root.mkdir()
    (root / "mlprod.toml").write_text('[project]\nname = "slow"\n')
    write_slow_step(root)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (PACKAGE_HOME, os.environ.get("PYTHONPATH")) if p))
    env.pop("MLPROD_STEP_RUN", None)
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(root), env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        reply, outputs = execute(kc, "%load_ext jupyter_mlprod")
        assert reply["status"] == "ok", (reply, outputs)
        progress = root / ".mlprod" / "runs" / "1" / "slow.progress.json"
        started = {}

        def interrupt_once_running():
            if progress.exists():
                time.sleep(0.5)
                started["at"] = True
                km.interrupt_kernel()
                return True
            return False

        reply, outputs = execute(kc, "%mlprod run", during=interrupt_once_running)
        assert started, "the run never got going"
        assert reply["status"] == "ok", (reply, outputs)  # the magic handled the interrupt
        texts = [m["content"].get("data", {}).get("text/plain", "") for m in outputs]
        assert any("interrupted: run 1 cancelled" in t for t in texts), texts
        assert any(t.startswith("run 1 cancelled") for t in texts), texts
        assert not [m for m in outputs if m["msg_type"] == "error"]
        # the kernel is fine and the store agrees
        reply, outputs = execute(kc, "shown = %mlprod show 1\nprint(repr(shown))")
        assert reply["status"] == "ok", (reply, outputs)
        shown = "".join(m["content"].get("text", "") for m in outputs)
        assert shown.startswith("run 1 cancelled") and "slow" in shown
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    assert not (root / "never.txt").exists()
