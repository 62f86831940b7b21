"""Scenario runs through the CLI (`mlprod scenario runs|run-show`, `mlprod approve`, a real
subprocess) and the magics (`%mlprod scenario runs`, `%mlprod approve`, a real kernel): the
same service, every refusal one line (CLI exit 2) or a visible message (magics)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from jupyter_mlprod.project import Project

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "cli"))
sys.path.insert(0, str(REPO / "tests" / "magics"))
from cli_helpers import copy_example, mlprod, one_error_line  # noqa: E402
from magic_notebook import execute_cells  # noqa: E402

from .conftest import WebhookReceiver  # noqa: E402
from .steps_helpers import carry_out  # noqa: E402

GATE = {"name": "gate", "triggers": [{"type": "manual"}],
        "steps": [{"kind": "approve", "approvers": ["alice"]},
                  {"kind": "notify", "message": "approved run {fire_id}"}]}


@pytest.fixture(scope="module")
def receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def gate(tmp_path_factory, receiver):
    root = copy_example(tmp_path_factory.mktemp("doors") / "loan")
    project = Project(root)
    project.scenarios.create(dict(GATE, reporters=[{"type": "webhook", "url": receiver.url,
                                                    "when": "always"}]))
    yield root, project
    project.close()


def test_cli_lists_shows_refuses_and_approves(gate, receiver):
    root, project = gate
    fire_id = project.scenarios.trigger("gate")["id"]
    carry_out(project, fire_id, ("waiting_approval",))
    announced = receiver.received()[0]["body"]["text"]   # the reporters announce it, linked
    assert "waits for an approval (approve0; alice may decide)" in announced
    assert f"/lab?mlprod-scenario-run={fire_id}" in announced
    listed = mlprod("scenario", "runs", "gate", cwd=root)
    assert listed.returncode == 0 and "waiting_approval" in listed.stdout
    assert "approve0:waiting notify1:pending" in listed.stdout
    scenario = mlprod("scenario", "show", "gate", cwd=root).stdout
    assert "steps\n  [0] approve0 (approve)\n  [1] notify1 (notify)\n" in scenario
    shown = mlprod("scenario", "run-show", str(fire_id), cwd=root)
    assert f"mlprod approve {fire_id}" in shown.stdout and "(alice)" in shown.stdout
    assert "a positive whole number" in one_error_line(mlprod("approve", "abc", cwd=root))
    assert "does not exist" in one_error_line(mlprod("approve", "9999", cwd=root))
    refused = one_error_line(mlprod("approve", str(fire_id), cwd=root,
                                    env={"MLPROD_USER": "mallory"}))
    assert "mallory may not decide" in refused
    bad = root / "bad.yaml"
    bad.write_text("name: bad\ntriggers: [{type: manual}]\n"
                   "steps: [{kind: run}, {kind: canary}]\n")
    assert "steps[1].kind: unknown step kind 'canary'" in one_error_line(
        mlprod("scenario", "add", "--file", str(bad), cwd=root))
    approved = mlprod("approve", str(fire_id), "-m", "ship it", cwd=root,
                      env={"MLPROD_USER": "alice"})
    assert approved.returncode == 0, approved.stderr
    assert f"approved scenario run {fire_id} of gate" in approved.stdout
    view = carry_out(project, fire_id, ("succeeded",))
    assert view["steps"][1]["values"]["message"] == f"approved run {fire_id}"
    late = one_error_line(mlprod("approve", str(fire_id), cwd=root, env={"MLPROD_USER": "alice"}))
    assert "is not waiting for an approval (it is succeeded)" in late


def test_magics_list_and_reject(gate, tmp_path, monkeypatch):
    root, project = gate
    fire_id = project.scenarios.trigger("gate")["id"]
    carry_out(project, fire_id, ("waiting_approval",))
    monkeypatch.setenv("MLPROD_USER", "alice")   # the kernel inherits it: its actor
    nb = execute_cells(["%load_ext jupyter_mlprod", "%mlprod scenario runs gate",
                        f"%mlprod approve {fire_id} --reject -m 'not today'",
                        "%mlprod approve x"], cwd=root, workdir=tmp_path, name="approve",
                       timeout=120)
    texts = ["\n".join(o.get("text", "") or o.get("data", {}).get("text/plain", "")
                       for o in cell.outputs) for cell in nb.cells]
    assert "waiting_approval" in texts[1]
    assert f"rejected scenario run {fire_id}" in texts[2]
    assert "a positive whole number" in texts[3] and "Traceback" not in "".join(texts)
    view = carry_out(project, fire_id, ("rejected",))
    assert view["error"] == "rejected by alice: not today"
