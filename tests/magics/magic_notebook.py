"""Runs a notebook of `%mlprod` cells in a real kernel (papermill) and reads it back, or
drives a real kernel cell by cell as a frontend does."""
from __future__ import annotations

import contextlib
import os
import queue
import shutil
import time
from pathlib import Path

import nbformat
import papermill

import jupyter_mlprod

REPO = Path(__file__).resolve().parents[2]
# The folder holding the jupyter_mlprod under test (this checkout, or site-packages when
# installed): the kernel gets it on PYTHONPATH so `%load_ext jupyter_mlprod` loads the same code.
PACKAGE_HOME = str(Path(jupyter_mlprod.__file__).resolve().parents[1])


def copy_example(root: Path) -> Path:
    shutil.copytree(REPO / "example_notebooks", root, ignore=shutil.ignore_patterns(
        ".mlprod", "data", "models", "reports", ".ipynb_checkpoints"))
    return root


PARAMETERS = ('n = 3  # how many lines\nratio = 0.5\nloud = False\nword = "hi"\n'
              'cols = ["a"]  # columns to keep')


def write_small_project(root: Path, write_step) -> Path:
    """Two quick steps (`first` has one parameter of each kind, `second` reads its output) and a
    scoring notebook `double.ipynb`; `write_step` is the `make_step` fixture."""
    root.mkdir()
    (root / "mlprod.toml").write_text('[project]\nname = "widgets"\n')
    write_step(root, "first", "open('a.txt', 'w').write((word + '\\n') * n)",
               parameters=PARAMETERS, outputs=["a.txt"])
    write_step(root, "second", ["text = open('a.txt').read()",
                                "open('b.txt', 'w').write(text.upper())"],
               inputs=["a.txt"], outputs=["b.txt"])
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for source, tag in (("factor = 2", None), ('request = {"x": 21}', "mlprod-sample"),
                        ("response = {'y': request['x'] * factor}", "mlprod-score")):
        cell = nbformat.v4.new_code_cell(source)
        if tag:
            cell.metadata["tags"] = [tag]
        nb.cells.append(cell)
    nbformat.write(nb, root / "double.ipynb")
    return root


def execute_cells(cells: list[str], *, cwd: Path, workdir: Path, name: str,
                  timeout: int = 300):
    """Write `cells` as a notebook in `workdir`, execute it with `cwd` as the kernel's folder,
    and return the executed notebook. The kernel sees neither MLPROD_STEP_RUN nor
    MLPROD_PROJECT from the test process."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    source, output = workdir / f"{name}.ipynb", workdir / f"{name}.out.ipynb"
    nbformat.write(nb, source)
    saved = {key: os.environ.get(key)
             for key in ("PYTHONPATH", "MLPROD_STEP_RUN", "MLPROD_PROJECT")}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_HOME, saved["PYTHONPATH"]) if p)
    os.environ.pop("MLPROD_STEP_RUN", None)
    os.environ.pop("MLPROD_PROJECT", None)
    try:
        papermill.execute_notebook(str(source), str(output), kernel_name="python3", cwd=str(cwd),
                                   progress_bar=False, execution_timeout=timeout)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nbformat.read(str(output), as_version=4)


@contextlib.contextmanager
def kernel_in(cwd: Path):
    """A real python3 kernel with `cwd` as its folder, importing the jupyter_mlprod under test,
    and a client on all its channels: (manager, client)."""
    from jupyter_client.manager import KernelManager

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (PACKAGE_HOME, os.environ.get("PYTHONPATH")) if p))
    for key in ("MLPROD_STEP_RUN", "MLPROD_PROJECT", "MLPROD_WIDGETS"):
        env.pop(key, None)
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(cwd), env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def execute(kc, code: str, timeout: float = 120, during=None,
            allow_stdin: bool = True) -> tuple[dict, list[dict]]:
    """Run `code`, calling `during()` repeatedly until it returns True; collect iopub output.
    `allow_stdin` as the client sends it: True like JupyterLab, False like nbclient/papermill."""
    msg_id = kc.execute(code, allow_stdin=allow_stdin)
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
