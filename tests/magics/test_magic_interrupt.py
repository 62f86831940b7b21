"""Interrupting the kernel during `%mlprod run` cancels the run; the kernel lives on."""
from __future__ import annotations

import time
from pathlib import Path

import nbformat

from magic_notebook import execute, kernel_in


def write_slow_step(root: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["mlprod"] = {"step": "slow", "inputs": [], "outputs": ["never.txt"]}
    nb.cells = [nbformat.v4.new_code_cell("import time"),
                nbformat.v4.new_code_cell("time.sleep(120)")]
    nbformat.write(nb, root / "slow.ipynb")


def test_interrupting_the_kernel_cancels_the_run(tmp_path):
    root = tmp_path / "slow"
    root.mkdir()
    (root / "mlprod.toml").write_text('[project]\nname = "slow"\n')
    write_slow_step(root)
    with kernel_in(root) as (km, kc):
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

        # as a client that renders no widgets (nbclient): the magic follows the run in the cell
        reply, outputs = execute(kc, "%mlprod run", during=interrupt_once_running,
                                 allow_stdin=False)
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
    assert not (root / "never.txt").exists()
