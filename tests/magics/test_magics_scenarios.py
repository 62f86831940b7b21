"""`%mlprod scenario add|list` (and the old `%mlprod schedule`) executed by a real kernel: a notebook run by
papermill on a copy of the example project, its outputs read back, the store checked."""
from __future__ import annotations

import pytest

from magic_notebook import copy_example, execute_cells
from jupyter_mlprod.project import Project


SCHEDULE = ('%mlprod scenario add nightly --cron "0 6 * * 1-5" --tz Europe/Paris --steps prepare '
            '-p n_rows=50 --webhook-env SLACK_WEBHOOK_URL --when failure')
OLD_SPELLING = "%mlprod schedule hourly --every 1h --from train --disabled"
CELLS = [
    "%load_ext jupyter_mlprod",
    "%mlprod scenarios",
    SCHEDULE,
    OLD_SPELLING,
    '%mlprod scenario add broken --cron "61 * * * *"',
    "%mlprod scenario add nightly --manual",
    "%mlprod scenario list",
    "listed = %mlprod scenarios\nprint([s['name'] for s in listed.data['scenarios']])",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    base = tmp_path_factory.mktemp("magics-scenarios")
    root = copy_example(base / "loan")
    return root, execute_cells(CELLS, cwd=root, workdir=base, name="schedule", timeout=120)


def outputs_of(nb, source: str, nth: int = 0) -> list[dict]:
    return [c for c in nb.cells if c.source == source][nth].outputs


def text_of(outputs, mime: str = "text/plain") -> str:
    return "\n".join(o.text if o.output_type == "stream" else o.get("data", {}).get(mime, "")
                     for o in outputs)


def test_no_cell_raised(executed):
    _, nb = executed
    for cell in nb.cells:
        assert all(o.output_type != "error" for o in cell.outputs), cell.source
        assert "Traceback" not in text_of(cell.outputs), cell.source


def test_schedule_creates_the_scenario(executed):
    root, nb = executed
    assert "no scenarios yet" in text_of(outputs_of(nb, "%mlprod scenarios", 0))
    outs = outputs_of(nb, SCHEDULE)
    text, html = text_of(outs), text_of(outs, "text/html")
    assert "created scenario 'nightly' (id 1)" in text and "created scenario nightly" in html
    assert "At 06:00, Monday through Friday (Europe/Paris)" in text
    assert "webhook $SLACK_WEBHOOK_URL (failure)" in text
    project = Project(root)
    try:
        hourly, nightly = project.scenarios.list()      # by name
    finally:
        project.close()
    assert nightly["run"] == {"steps": ["prepare"], "from": None, "parameters": {"n_rows": 50},
                              "force": False}
    assert nightly["reporters"] == [{"type": "webhook", "url_env": "SLACK_WEBHOOK_URL",
                                     "format": "slack", "when": "failure"}]
    assert (hourly["enabled"], hourly["run"]["from"]) == (False, "train")


def test_schedule_is_the_old_spelling_of_scenario_add(executed):
    _, nb = executed
    outs = outputs_of(nb, OLD_SPELLING)
    streams = [o.text for o in outs if o.output_type == "stream"]
    assert streams == ["%mlprod schedule is deprecated: use %mlprod scenario add NAME "
                       "(same flags, as `mlprod scenario add`)\n"]
    assert "created scenario 'hourly' (id 2)" in text_of(outs)


@pytest.mark.parametrize("source, words", [
    ('%mlprod scenario add broken --cron "61 * * * *"',
     ["triggers[0].cron", "minute 61 is out of range 0-59"]),
    ("%mlprod scenario add nightly --manual", ["name", "already exists"]),
])
def test_bad_input_is_one_red_line_naming_the_field(executed, source, words):
    _, nb = executed
    outs = outputs_of(nb, source)
    assert len(outs) == 1
    line = outs[0].data["text/plain"]
    assert line.startswith("mlprod: error: ") and len(line.splitlines()) == 1
    for word in words:
        assert word in line, line
    assert "mlprod-error" in outs[0].data["text/html"]


def test_scenarios_is_a_table_with_triggers_in_words(executed):
    _, nb = executed
    outs = outputs_of(nb, "%mlprod scenario list")
    html, text = text_of(outs, "text/html"), text_of(outs)
    assert "<table" in html
    for header in ("name", "triggers", "next fire", "last outcome", "enabled"):
        assert f">{header}</th>" in html
    assert "At 06:00, Monday through Friday (Europe/Paris)" in html and "every 1 h" in html
    header, hourly, nightly = text.splitlines()
    assert nightly.split()[:3] == ["1", "nightly", "yes"]
    assert hourly.split()[:3] == ["2", "hourly", "no"]
    printed = text_of(outputs_of(nb, CELLS[-1]))
    assert "['hourly', 'nightly']" in printed
