"""`%mlprod bundle ...`, `%mlprod deploy`, `rollback`, `deployments` executed by a real kernel:
a notebook run by papermill in a small design project, deploying to a production folder."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from magic_notebook import execute_cells


CHANGE = ("import nbformat\n"
          "nb = nbformat.read('score.ipynb', as_version=4)\n"
          "nb.cells[0].source = \"VERSION = '2'\"\n"
          "nbformat.write(nb, 'score.ipynb')\n"
          "open('data/input.csv', 'w').write('a,b\\n1,2\\n3,4\\n')")
CELLS = [
    "%load_ext jupyter_mlprod",
    "%mlprod bundle preview",
    'one = %mlprod bundle create -m "first version"',
    CHANGE,
    'two = %mlprod bundle create -m "second version"',
    "%mlprod bundles",
    "%mlprod bundle show latest",
    "%mlprod bundle diff {one.data['id']} {two.data['id']}",
    "%mlprod bundle verify latest",
    '%mlprod deploy {one.data["short_id"]} --to ../prod -m "go live"',
    "%mlprod deploy latest --to ../prod",
    "%mlprod rollback --target ../prod",
    "%mlprod deployments --target ../prod",
    "%mlprod deploy abcdef12 --to ../prod",
    "%mlprod deploy latest --to ../nowhere",
    "%mlprod bundle frobnicate",
]


def _project(root: Path) -> None:
    (root / "data").mkdir(parents=True)
    (root / "data" / "input.csv").write_text("a,b\n1,2\n")
    (root / "mlprod.toml").write_text('[project]\nname = "design"\n')
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["mlprod"] = {"step": "score", "inputs": ["data/input.csv"],
                             "outputs": ["out.txt"]}
    nb.cells = [nbformat.v4.new_code_cell("VERSION = '1'"),
                nbformat.v4.new_code_cell("open('out.txt', 'w').write(VERSION)")]
    nbformat.write(nb, root / "score.ipynb")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    base = tmp_path_factory.mktemp("magics_bundles")
    root = base / "design"
    _project(root)
    (base / "prod").mkdir()
    return base, execute_cells(CELLS, cwd=root, workdir=base, name="bundles")


def outputs_of(nb, source: str) -> list[dict]:
    return next(c for c in nb.cells if c.source == source).outputs


def result(nb, source: str) -> tuple[str, str]:
    """(html, text) of the cell's value."""
    [out] = [o for o in outputs_of(nb, source) if o.output_type == "execute_result"]
    return out.data["text/html"], out.data["text/plain"]


def test_no_cell_raised(executed):
    _, nb = executed
    for cell in nb.cells:
        for out in cell.outputs:
            assert out.output_type != "error", (cell.source, out)


def test_create_list_show(executed):
    _, nb = executed
    html, text = result(nb, "%mlprod bundle preview")
    assert "would hold 3 files" in text and "data/input.csv" in html
    outs = outputs_of(nb, CELLS[2])
    assert outs == []  # assigned: the view is in `one`, nothing printed
    html, text = result(nb, "%mlprod bundles")
    assert text.splitlines()[0].split()[:3] == ["BUNDLE", "CREATED", "AUTHOR"]
    assert "second version" in text.splitlines()[1] and "first version" in text.splitlines()[2]
    assert "<table" in html and "first version" in html
    html, text = result(nb, "%mlprod bundle show latest")
    assert "message     second version" in text and "score.ipynb" in html
    assert "data/input.csv" in html and "<table" in html


def test_diff_shows_the_cell_and_the_data_change(executed):
    _, nb = executed
    html, text = result(nb, CELLS[7])
    assert "0 files added, 0 removed, 2 changed; 1 notebook cell change" in text
    assert "-VERSION = '1'" in text and "+VERSION = '2'" in text
    assert "data data/input.csv changed: 8 B -> 12 B (+4 B)" in text
    assert "VERSION = &#x27;2&#x27;" in html and "color:#2e7d32" in html
    assert "data/input.csv" in html and "+4 B" in html


def test_verify_deploy_rollback_and_history(executed):
    base, nb = executed
    html, text = result(nb, "%mlprod bundle verify latest")
    assert "verified: 3 files" in text
    html, text = result(nb, CELLS[9])
    assert "deployed bundle" in text and "to prod (folder" in text and "deployment 1" in text
    live = [o for o in outputs_of(nb, CELLS[9]) if o.output_type == "display_data"]
    assert len(live) == 1 and "activate:" in live[0].data["text/plain"]
    html, text = result(nb, CELLS[10])
    assert "deployment 2 is active" in text and "uploaded 2 file contents" in text
    html, text = result(nb, CELLS[11])
    assert text.startswith("rolled back: bundle") and "(deployment 3, rollback)" in text
    html, text = result(nb, CELLS[12])
    lines = text.splitlines()
    assert "(deployment 3, rollback)" in lines[0]
    assert [line.split()[2:4] for line in lines[2:]] == [
        ["rollback", "active"], ["deploy", "superseded"], ["deploy", "superseded"]]
    assert "go live" in text and "<table" in html
    # bundle one's data is back in the active tree of the production folder
    trees = sorted((base / "prod" / ".mlprod" / "deployments").iterdir())
    assert len(trees) == 3
    assert any((t / "data" / "input.csv").read_text() == "a,b\n1,2\n" for t in trees)


@pytest.mark.parametrize("source, message", [
    ("%mlprod deploy abcdef12 --to ../prod", "mlprod: error: unknown bundle 'abcdef12'"),
    ("%mlprod deploy latest --to ../nowhere", "mlprod: error: target '../nowhere' is neither a "
                                              "registered node, a node URL, nor an existing "
                                              "folder"),
    ("%mlprod bundle frobnicate", "mlprod: error: argument ACTION: invalid choice: 'frobnicate' "
                                  "(choose from 'create', 'preview', 'list', 'show', 'diff', "
                                  "'verify')"),
])
def test_user_errors_are_one_red_line(executed, source, message):
    _, nb = executed
    outs = outputs_of(nb, source)
    assert len(outs) == 1 and outs[0].output_type == "display_data"
    assert outs[0].data["text/plain"] == message
    assert "mlprod-error" in outs[0].data["text/html"]
