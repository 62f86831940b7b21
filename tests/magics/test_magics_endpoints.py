"""`%%mlprod score`, `%mlprod serve` and `%mlprod endpoint ...` executed by a real kernel: a
notebook run by papermill in the example project, whose model it trains with `%mlprod run`."""
from __future__ import annotations

import json

import pytest

from magic_notebook import copy_example, execute_cells

APPLICATION = {"age": 41, "income": 61000.0, "loan_amount": 12000.0, "term_months": 24,
               "credit_score": 690, "employment_years": 3.0, "debt_to_income": 0.31}

CELLS = [
    "%load_ext jupyter_mlprod",
    "%mlprod run --steps prepare,train -p n_rows=400",
    "%%mlprod score score.ipynb\n" + json.dumps(APPLICATION, indent=1),
    "print('SCORED', __import__('json').dumps(_.data))",
    "%mlprod endpoint score score.ipynb",
    '%%mlprod score score.ipynb\n{"age": 30}',
    "%%mlprod score score.ipynb\n{not json",
    "%%mlprod frobnicate\n{}",
    "server = %mlprod serve score.ipynb --workers 1",
    ("import json, urllib.request\n"
     "req = urllib.request.Request(server.data['url'] + '/score/predict', method='POST',\n"
     f"    data=json.dumps({APPLICATION!r}).encode(), headers={{'Content-Type': 'application/json'}})\n"
     "print('HTTP', urllib.request.urlopen(req).read().decode())"),
    "%mlprod endpoints",
    "%%mlprod score score --version v1\n" + json.dumps(APPLICATION),
    "%mlprod endpoint stop {server.data['server_id']}",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    base = tmp_path_factory.mktemp("magics_serving")
    root = copy_example(base / "loan")
    return root, execute_cells(CELLS, cwd=root, workdir=base, name="serving")


def _text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
            parts.append(output["data"].get("text/html", ""))
    return "\n".join(parts)


def test_cell_magic_scores_like_the_server(executed):
    root, nb = executed
    cells = nb.cells
    first = _text(cells[2])
    assert '"probability"' in first and "200 in" in first and "version working" in first
    scored = json.loads(_text(cells[3]).split("SCORED ", 1)[1])
    assert scored["status"] == 200 and 0.0 <= scored["body"]["probability"] <= 1.0
    assert "200 in" in _text(cells[4])  # the line form scores the sample request
    invalid = _text(cells[5])
    assert "400 in" in invalid and "income" in invalid
    assert "mlprod: error: the cell is not a JSON request" in _text(cells[6])
    assert "%%mlprod takes one of: score" in _text(cells[7])
    http = json.loads(_text(cells[9]).split("HTTP ", 1)[1])
    assert http == scored["body"]  # the server answers what the cell magic computed
    assert "score" in _text(cells[10]) and "v1 100%" in _text(cells[10])
    by_endpoint = _text(cells[11])
    assert "200 in" in by_endpoint and "version v1" in by_endpoint
    assert "stopped server" in _text(cells[12])
    assert "Traceback" not in "".join(_text(c) for c in cells)
