"""`%mlprod` executed by a real kernel: a notebook run by papermill, then its outputs read back."""
from __future__ import annotations

import pytest

from magic_notebook import copy_example, execute_cells


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
    root = copy_example(base / "loan")
    return root, execute_cells(CELLS, cwd=root, workdir=base, name="magics")


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
