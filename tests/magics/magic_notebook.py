"""Runs a notebook of `%mlprod` cells in a real kernel (papermill) and reads it back."""
from __future__ import annotations

import os
import shutil
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
