"""The magics' widget views built in-process against a real Project: real runs (papermill
kernels), a real served endpoint over loopback HTTP. A button is pressed with `.click()`, which
runs the same handlers a frontend's click message runs."""
from __future__ import annotations

import json

import ipywidgets as widgets
import pytest

from jupyter_mlprod.magics.commands_params import notebook_parameters
from jupyter_mlprod.magics.widgets_endpoint import EndpointTester
from jupyter_mlprod.magics.widgets_params import ParamsForm
from jupyter_mlprod.magics.widgets_run import start_run_widget
from jupyter_mlprod.project import Project
from magic_notebook import write_small_project
from serving_helpers import wait_for, write_scoring_notebook


@pytest.fixture
def project(tmp_path, make_step):
    project = Project(write_small_project(tmp_path / "proj", make_step))
    yield project
    project.close()


def test_run_widget_follows_every_step_to_its_end(project):
    widget = start_run_widget(project, {"parameters": {"n": "2"}, "from_text": True}, "magic")
    assert [row.name.value for row in widget.rows.values()] == ["first", "second"]
    run = widget.wait(timeout=300)
    assert run["status"] == "succeeded"
    assert widget.data == project.get_run(run["id"])
    assert widget.header.value.startswith(f"<b>run {run['id']} succeeded in ")
    for row in widget.rows.values():
        assert row.progress.value == row.progress.max and row.progress.bar_style == "success"
        assert "succeeded" in row.detail.value
    # one tick per cell papermill executed: first has its parameters cell, the injected one and
    # its code; second two code cells
    assert {s: row.progress.max for s, row in widget.rows.items()} == {"first": 3, "second": 2}
    assert widget.cancel_button.disabled
    assert "mlprod-error" not in widget.message.value
    assert (project.root / "b.txt").read_text() == "HI\nHI\n"


def test_cancel_button_cancels_a_long_step(tmp_path, make_step):
    root = tmp_path / "slow"
    root.mkdir()
    (root / "mlprod.toml").write_text('[project]\nname = "slow"\n')
    make_step(root, "slow", ["import time", "time.sleep(300)"], outputs=["never.txt"])
    project = Project(root)
    try:
        widget = start_run_widget(project, {}, "magic")
        wait_for(lambda: widget.data["steps"][0]["status"] == "running", timeout=120,
                 message="the slow step to start")
        assert not widget.cancel_button.disabled
        assert "running" in widget.rows["slow"].detail.value
        widget.cancel_button.click()
        run = widget.wait(timeout=120)
        assert run["status"] == "cancelled"
        assert project.get_run(run["id"])["status"] == "cancelled"
        assert "cancelled" in widget.header.value
        assert "cancelled" in widget.rows["slow"].detail.value
        assert widget.rows["slow"].progress.bar_style == "warning"
        assert not (root / "never.txt").exists()
    finally:
        project.close()


def test_params_form_has_one_typed_input_per_parameter(project):
    form = ParamsForm(project, notebook_parameters(project, "first.ipynb"), trigger="magic")
    kinds = {name: type(field) for name, field in form.inputs.items()}
    assert kinds == {"n": widgets.IntText, "ratio": widgets.FloatText, "loud": widgets.Checkbox,
                     "word": widgets.Text, "cols": widgets.Text}
    assert form.inputs["n"].value == 3 and form.inputs["n"].tooltip == "how many lines"
    assert form.inputs["cols"].value == '["a"]' and form.inputs["cols"].tooltip == \
        "columns to keep"
    assert form.inputs["loud"].value is False and form.inputs["word"].value == "hi"
    assert not form.run_button.disabled and form.message.value == ""
    # the same form from the step's name
    by_step = ParamsForm(project, notebook_parameters(project, "first"), trigger="magic")
    assert list(by_step.inputs) == list(form.inputs)


def test_params_form_refuses_a_bad_value_then_runs_the_typed_ones(project):
    form = ParamsForm(project, notebook_parameters(project, "first.ipynb"), trigger="magic")
    form.inputs["cols"].value = "[oops"
    form.run_button.click()
    assert "mlprod: error: parameter first.cols must be a JSON list" in form.message.value
    assert "#c62828" in form.message.value
    assert form.run_widget is None and form.run_area.children == ()
    assert project.list_runs()["total"] == 0  # nothing started

    form.inputs["cols"].value = '["a", "b"]'
    form.inputs["n"].value = 4
    form.inputs["word"].value = "yo"
    form.run_button.click()
    assert form.message.value == ""
    assert form.run_area.children == (form.run_widget,)
    run = form.run_widget.wait(timeout=300)
    assert run["status"] == "succeeded" and run["trigger"] == "magic"
    assert run["parameters"] == {"first.n": 4, "first.word": "yo", "first.cols": ["a", "b"]}
    assert [s["step"] for s in run["steps"]] == ["first"]  # only this notebook's step
    assert (project.root / "a.txt").read_text() == "yo\n" * 4


def test_params_form_of_a_notebook_that_is_not_a_step(project):
    write_scoring_notebook(project.root / "free.ipynb", setup=[], score="response = 1")
    form = ParamsForm(project, notebook_parameters(project, "free.ipynb"), trigger="magic")
    assert form.inputs == {} and form.run_button.disabled
    assert "free.ipynb is not a pipeline step" in form.message.value


def test_endpoint_tester_sends_to_the_served_endpoint(project):
    service = project.endpoints
    service.create("double", notebook="double.ipynb")
    handle = service.serve(["double"], port=0, workers=1)
    try:
        tester = EndpointTester(project, "double")
        assert json.loads(tester.request.value) == {"x": 21}
        tester.send_button.click()
        assert tester.result["status"] == 200 and tester.result["body"] == {"y": 42}
        assert tester.result["via"] == handle.url  # real HTTP to the server, not in-process
        assert "200 in" in tester.response.value and "&quot;y&quot;: 42" in tester.response.value
        assert tester.message.value == ""

        tester.request.value = '{"x": '
        tester.send_button.click()
        assert tester.result is None and tester.response.value == ""
        assert "mlprod: error: the text is not a JSON request" in tester.message.value
        assert not tester.send_button.disabled
    finally:
        service.stop_server(handle.server_id)
