"""`%mlprod` executed by a real kernel: a notebook run by papermill, then its outputs read back."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import papermill
import pytest

import jupyter_mlprod

REPO = Path(__file__).resolve().parents[2]
# The folder holding the jupyter_mlprod under test (this checkout, or site-packages when
# installed): the kernel gets it on PYTHONPATH so `%load_ext jupyter_mlprod` loads the same code.
PACKAGE_HOME = str(Path(jupyter_mlprod.__file__).resolve().parents[1])

CELLS = [
    "%load_ext jupyter_mlprod",
    "%mlprod status",
    "%mlprod run --steps prepare -p n_rows=50",
    "%mlprod runs",
    "%mlprod dag",
    "%mlprod run --steps nope",
    "%mlprod run -p n_rows=many",
    "%mlprod frobnicate",
    "again = %mlprod run --steps prepare -p n_rows=50\nprint(again.data['steps'][0]['status'])",
    "%mlprod show 1",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The example project, and a notebook of magics executed with the project as its cwd."""
    base = tmp_path_factory.mktemp("magics")
    root = base / "loan"
    shutil.copytree(REPO / "example_notebooks", root, ignore=shutil.ignore_patterns(
        ".mlprod", "data", "models", "reports", ".ipynb_checkpoints"))
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    source, output = base / "magics.ipynb", base / "magics.out.ipynb"
    nbformat.write(nb, source)
    saved = {key: os.environ.get(key)
             for key in ("PYTHONPATH", "MLPROD_STEP_RUN", "MLPROD_PROJECT")}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_HOME, saved["PYTHONPATH"]) if p)
    os.environ.pop("MLPROD_STEP_RUN", None)
    os.environ.pop("MLPROD_PROJECT", None)
    try:
        papermill.execute_notebook(str(source), str(output), kernel_name="python3", cwd=str(root),
                                   progress_bar=False, execution_timeout=300)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return root, nbformat.read(str(output), as_version=4)


def outputs_of(nb, source: str) -> list[dict]:
    return next(c for c in nb.cells if c.source == source).outputs


def text_of(outputs, mime: str = "text/plain") -> str:
    parts = []
    for out in outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif mime in out.get("data", {}):
            parts.append(out.data[mime])
    return "\n".join(parts)


def test_no_cell_raised(executed):
    _, nb = executed
    for cell in nb.cells:
        for out in cell.outputs:
            assert out.output_type != "error", (cell.source, out)
            assert "Traceback" not in text_of([out]), cell.source


def test_status_shows_the_project_and_its_steps(executed):
    root, nb = executed
    outs = outputs_of(nb, "%mlprod status")
    html, text = text_of(outs, "text/html"), text_of(outs)
    assert "loan-approval" in html and "<table" in html
    for step in ("prepare", "train", "evaluate", "batch_score"):
        assert step in html and step in text
    assert "never run" in text


def test_run_shows_progress_then_the_result_table(executed):
    root, nb = executed
    outs = outputs_of(nb, "%mlprod run --steps prepare -p n_rows=50")
    html = text_of(outs, "text/html")
    assert "run 1 succeeded" in html
    result = [o for o in outs if o.output_type == "execute_result"]
    assert len(result) == 1
    table = result[0].data["text/html"]
    assert "<table" in table and "prepare" in table and "succeeded" in table
    assert ".mlprod/runs/1/prepare.ipynb" in result[0].data["text/plain"]
    # the live display was updated in place: one display output, left at its final state
    live = [o for o in outs if o.output_type == "display_data"]
    assert len(live) == 1 and "run 1 succeeded" in live[0].data["text/plain"]
    assert len((root / "data" / "applications.csv").read_text().splitlines()) == 50 + 1


def test_runs_lists_the_run(executed):
    _, nb = executed
    text = text_of(outputs_of(nb, "%mlprod runs"))
    header, first = text.splitlines()[:2]
    assert header.split()[:3] == ["ID", "STATUS", "TRIGGER"]
    assert first.split()[:3] == ["1", "succeeded", "magic"] and "n_rows=50" in first


def test_dag_is_an_inline_svg_with_a_node_per_step(executed):
    _, nb = executed
    outs = outputs_of(nb, "%mlprod dag")
    svg = text_of(outs, "image/svg+xml")
    assert svg.count('class="node"') == 4
    for step in ("prepare", "train", "evaluate", "batch_score"):
        assert f'data-step="{step}"' in svg
    assert 'data-step="prepare" data-status="succeeded"' in svg
    assert 'data-step="train" data-status="never run"' in svg
    assert svg.count('class="edge"') == 4 and "marker-end" in svg


@pytest.mark.parametrize("source, message", [
    ("%mlprod run --steps nope", "mlprod: error: unknown step 'nope' (steps: batch_score, "
                                 "evaluate, prepare, train)"),
    ("%mlprod run -p n_rows=many", "mlprod: error: parameter n_rows must be an int, "
                                   "got 'many'"),
    ("%mlprod frobnicate", "mlprod: error: argument COMMAND: invalid choice: 'frobnicate' "
                           "(choose from 'status', 'run', 'runs', 'show', 'dag'"),  # + capabilities
])
def test_user_errors_are_one_red_line(executed, source, message):
    _, nb = executed
    outs = outputs_of(nb, source)
    assert len(outs) == 1 and outs[0].output_type == "display_data"
    assert outs[0].data["text/plain"].startswith(message)
    assert "mlprod-error" in outs[0].data["text/html"] and "#c62828" in outs[0].data["text/html"]
    assert "ename" not in outs[0]


def test_a_run_result_can_be_assigned_and_reused(executed):
    _, nb = executed
    outs = outputs_of(nb, CELLS[8])
    assert text_of([o for o in outs if o.output_type == "stream"]).strip() == "up_to_date"
    assert not [o for o in outs if o.output_type == "execute_result"]


def test_show_describes_one_run(executed):
    _, nb = executed
    text = text_of(outputs_of(nb, "%mlprod show 1"))
    assert text.startswith("run 1 succeeded") and "prepare" in text
