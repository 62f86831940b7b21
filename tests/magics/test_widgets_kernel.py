"""When `%mlprod` shows widgets, in real kernels: never headless (papermill, a notebook running
as a pipeline step), where it records the text output it always did; yes for a client that
asks for stdin as JupyterLab does, whose button clicks (comm messages) reach the widgets."""
from __future__ import annotations

import json
import re

import nbformat
from magic_notebook import execute, execute_cells, kernel_in, write_small_project

from jupyter_mlprod.project import Project

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _data(outputs) -> list[dict]:
    return [o.get("data", {}) for o in outputs if "data" in o]


def _text(outputs) -> str:
    return "\n".join(o.get("text", "") if o.get("output_type") == "stream" else
                     o.get("data", {}).get("text/plain", "") for o in outputs)


def _without_ids(outputs) -> str:
    """The outputs, less what differs between two showings (execution count, latency)."""
    return re.sub(r"\d+(\.\d+)? ms", "? ms", json.dumps(
        [{k: v for k, v in o.items() if k not in ("execution_count", "transient")}
         for o in outputs], sort_keys=True))


def test_papermill_and_a_step_record_the_text_fallback(tmp_path, make_step):
    root = write_small_project(tmp_path / "proj", make_step)
    make_step(root, "report", ["%load_ext jupyter_mlprod", "%mlprod params first.ipynb",
                               "%mlprod --text params first.ipynb"])
    cells = ["%load_ext jupyter_mlprod",
             "%mlprod params first.ipynb",
             "%mlprod --text params first.ipynb",
             "%mlprod params free.ipynb",
             "%mlprod run --steps first,report -p n=2",
             "%mlprod endpoint create double --notebook double.ipynb",
             "%mlprod endpoint test double",
             "%mlprod endpoint test double --text",
             "%mlprod params nope"]
    nb = execute_cells(cells, cwd=root, workdir=tmp_path, name="headless")
    by_source = {c.source: c.outputs for c in nb.cells}
    for cell in nb.cells:
        assert all(WIDGET_VIEW not in d for d in _data(cell.outputs)), cell.source
        assert all(o.output_type != "error" for o in cell.outputs), cell.source
    params = _text(by_source["%mlprod params first.ipynb"])
    lines = params.splitlines()
    assert lines[0] == "parameters of first.ipynb"
    assert lines[1].split() == ["PARAMETER", "TYPE", "DEFAULT", "HELP"]
    assert lines[2].split() == ["n", "int", "3", "how", "many", "lines"]
    assert lines[6].split()[:3] == ["cols", "list", '["a"]']
    assert "%mlprod run --steps first -p n=VALUE" in params
    assert _without_ids(by_source["%mlprod params first.ipynb"]) == \
        _without_ids(by_source["%mlprod --text params first.ipynb"])
    assert _text(by_source["%mlprod params free.ipynb"]).startswith("mlprod: error: ")
    run = by_source["%mlprod run --steps first,report -p n=2"]
    assert [o.output_type for o in run] == ["display_data", "execute_result"]
    assert "run 1 succeeded" in run[0].data["text/plain"]
    assert run[1].data["text/plain"].startswith("run 1 succeeded")
    # the step `report` used the magics too, executing as a step: text, as with --text
    step = nbformat.read(str(root / ".mlprod" / "runs" / "1" / "report.ipynb"), as_version=4)
    shown, texted = (c.outputs for c in step.cells if "params first" in c.source)
    assert all(WIDGET_VIEW not in d for d in _data(shown))
    assert _text(shown).startswith("parameters of first.ipynb")
    assert _without_ids(shown) == _without_ids(texted)
    tested = _text(by_source["%mlprod endpoint test double"])
    assert json.loads(tested.split("\n200 in")[0]) == {"y": 42}
    assert "via in-process" in tested
    assert _without_ids(by_source["%mlprod endpoint test double"]) == \
        _without_ids(by_source["%mlprod endpoint test double --text"])
    assert _text(by_source["%mlprod params nope"]).startswith("mlprod: error: unknown step 'nope'")


def test_a_frontend_gets_widgets_and_its_clicks_cancel(tmp_path, make_step):
    root = write_small_project(tmp_path / "proj", make_step)
    make_step(root, "slow", ["import time", "time.sleep(300)"], outputs=["never.txt"])
    with kernel_in(root) as (_, kc):
        reply, _out = execute(kc, "%load_ext jupyter_mlprod")
        assert reply["status"] == "ok"
        # a frontend (allow_stdin) gets the form; nbclient-like clients and --text get the table
        _, form = execute(kc, "%mlprod params first.ipynb")
        assert WIDGET_VIEW in form[0]["content"]["data"], form
        _, headless = execute(kc, "%mlprod params first.ipynb", allow_stdin=False)
        _, texted = execute(kc, "%mlprod --text params first.ipynb")
        for outputs in (headless, texted):
            data = outputs[0]["content"]["data"]
            assert WIDGET_VIEW not in data and data["text/plain"].startswith("parameters of")

        reply, shown = execute(kc, "w = %mlprod run --steps slow\nw")
        assert reply["status"] == "ok"  # the cell returned; the widget follows the run
        assert WIDGET_VIEW in shown[0]["content"]["data"], shown
        reply, printed = execute(
            kc, "import time\nwhile w.data['steps'][0]['status'] != 'running':\n"
                "    time.sleep(0.1)\nprint(w.cancel_button.model_id)")
        button = "".join(m["content"].get("text", "") for m in printed).strip()
        # what JupyterLab sends when the Cancel button is clicked
        kc.shell_channel.send(kc.session.msg("comm_msg", {
            "comm_id": button, "data": {"method": "custom", "content": {"event": "click"}}}))
        reply, done = execute(kc, "print(w.wait(120)['status'], w.header.value)")
        assert reply["status"] == "ok", done
        text = "".join(m["content"].get("text", "") for m in done)
        assert text.startswith("cancelled <b>run 1 cancelled"), text
    project = Project(root)
    try:
        assert project.get_run(1)["status"] == "cancelled"
    finally:
        project.close()
    assert not (root / "never.txt").exists()
