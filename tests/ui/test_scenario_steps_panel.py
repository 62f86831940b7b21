"""Scenario steps in the panel, in a real JupyterLab driven in Debian's Chromium.

1. The scenario form edits an ordered step list: steps are added, moved and removed, each
   kind shows its fields, and the server's refusal of one field (a compare on a metric no
   run step records) is shown next to that field before anything is saved.
2. A real scenario (run -> compare -> bundle -> approve -> deploy to a folder) waits for an
   approval; Approve is clicked in the scenario-run view and the deploy step is seen to
   succeed, live.
3. A reporter's link (/lab?mlprod-scenario-run=ID) opens the waiting scenario run; an
   approval the server refuses (not an approver: 403) is shown with its message; a
   rejection asks why and ends the scenario run as rejected.
Screenshots land in tests/ui/screenshots/.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from panel_helpers import assert_no_sideways_overflow, show_sidebar, widen_sidebar

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

pytestmark = pytest.mark.timeout(240)


def _tid(page, testid: str):
    return page.locator(f'[data-testid="{testid}"]')


def _open_scenarios(page):
    show_sidebar(page, "mlprod-panel")
    widen_sidebar(page, 520)
    page.click('[data-testid="mlprod-tab-scenarios"]')
    page.wait_for_selector('[data-testid="mlprod-scenarios-view"]')


def _add_step(page, kind: str) -> int:
    """Adds a step of a kind at the end; returns its index."""
    index = page.locator('[data-testid^="mlprod-step-"][data-kind]').count()
    page.select_option('[data-testid="mlprod-add-step-kind"]', kind)
    page.click('[data-testid="mlprod-add-step"]')
    _tid(page, f"mlprod-step-{index}").wait_for()
    return index


def _refusal(page, field: str, word: str):
    """The server's message shown next to the field it names (`steps[2].metrics.auc`)."""
    message = _tid(page, f"mlprod-field-error-{field}")
    message.wait_for()
    assert word in message.inner_text()
    return message


def _kinds(page) -> list[str]:
    return [el.get_attribute("data-kind")
            for el in page.locator('[data-testid^="mlprod-step-"][data-kind]').all()]


def test_scenario_form_edits_steps(page, lab, tmp_path):
    _open_scenarios(page)
    page.click('[data-testid="mlprod-scenario-new"]')
    _tid(page, "mlprod-scenario-form").wait_for()
    page.fill('[data-testid="mlprod-scenario-name"]', "retrain-form")
    page.select_option('[data-testid="mlprod-trigger-type-0"]', "manual")

    # run the whole pipeline, then check the AUC it records.
    assert _add_step(page, "run") == 0
    # With steps, the scenario's single run selection gives way to the run step's.
    _tid(page, "mlprod-scenario-run").wait_for(state="detached")
    check = _add_step(page, "check")
    page.fill(f'[data-testid="mlprod-step-check-metric-0-{check}"]', "roc_auc")
    page.fill(f'[data-testid="mlprod-step-check-value-0-min-{check}"]', "0.7")
    page.select_option(f'[data-testid="mlprod-step-if-{check}"]', "always")

    # compare: the example metric `auc` is recorded by no run step: refused, by field.
    compare = _add_step(page, "compare")
    page.fill(f'[data-testid="mlprod-step-target-{compare}"]', str(tmp_path / "prod"))
    refused = _refusal(page, f"steps[{compare}].metrics.auc", "auc")
    assert _tid(page, "mlprod-scenario-validity").get_attribute("data-valid") == "false"
    refused.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "scenario_steps_form_error.png"))
    _, listed = lab.api("GET", "scenarios")
    assert "retrain-form" not in [s["name"] for s in listed["scenarios"]]

    # Fixed: the metric the evaluate step records; better by at least 0.0.
    page.fill(f'[data-testid="mlprod-step-metric-name-0-{compare}"]', "roc_auc")
    refused.wait_for(state="detached")
    page.fill(f'[data-testid="mlprod-step-metric-abs-0-{compare}"]', "0")

    approve = _add_step(page, "approve")
    # Typed key by key: the comma stays while the list is sent.
    _tid(page, f"mlprod-step-approvers-{approve}").press_sequentially("alice, bob")
    page.fill(f'[data-testid="mlprod-step-timeout-{approve}"]', "3600")
    deploy = _add_step(page, "deploy")
    page.fill(f'[data-testid="mlprod-step-target-{deploy}"]', str(tmp_path / "prod"))
    # Deploying needs a bundle made earlier in the sequence: said on the deploy step.
    needs_bundle = _refusal(page, f"steps[{deploy}].kind", "bundle")

    # A bundle step added last and moved up twice, above approve; its message moves with it.
    bundle = _add_step(page, "bundle")
    page.fill(f'[data-testid="mlprod-step-message-{bundle}"]', "retrained: {roc_auc}")
    page.click(f'[data-testid="mlprod-step-up-{bundle}"]')
    page.click(f'[data-testid="mlprod-step-up-{bundle - 1}"]')
    assert _kinds(page) == ["run", "check", "compare", "bundle", "approve", "deploy"]
    assert _tid(page, "mlprod-step-message-3").input_value() == "retrained: {roc_auc}"
    assert _tid(page, "mlprod-step-approvers-4").input_value() == "alice, bob"
    needs_bundle.wait_for(state="detached")
    # An endpoint step naming no endpoint of the project is refused by field; as a shadow it
    # takes no traffic share; added by mistake, it is removed.
    extra = _add_step(page, "endpoint")
    assert _tid(page, f"mlprod-step-weight-{extra}").input_value() == "10"
    page.fill(f'[data-testid="mlprod-step-endpoint-{extra}"]', "no-such-endpoint")
    _refusal(page, f"steps[{extra}].endpoint", "no-such-endpoint")
    page.select_option(f'[data-testid="mlprod-step-mode-{extra}"]', "shadow")
    _tid(page, f"mlprod-step-weight-{extra}").wait_for(state="detached")
    page.click(f'[data-testid="mlprod-step-remove-{extra}"]')
    assert _kinds(page) == ["run", "check", "compare", "bundle", "approve", "deploy"]

    page.locator('[data-testid="mlprod-scenario-validity"][data-valid="true"]').wait_for()
    assert_no_sideways_overflow(page, what="scenario form with six steps")
    page.screenshot(path=str(SCREENSHOTS / "scenario_steps_form.png"), full_page=True)
    page.click('[data-testid="mlprod-scenario-save"]')
    _tid(page, "mlprod-scenario-form").wait_for(state="detached")
    _tid(page, "mlprod-scenario-row-retrain-form").wait_for()

    _, stored = lab.api("GET", "scenarios/retrain-form")
    steps = stored["steps"]
    assert [s["kind"] for s in steps] == ["run", "check", "compare", "bundle", "approve", "deploy"]
    assert steps[1]["checks"][0]["metric"] == "roc_auc" and steps[1]["checks"][0]["min"] == 0.7
    assert steps[1]["if"] == "always"
    assert steps[2]["metrics"]["roc_auc"]["min_absolute_change"] == 0
    assert steps[3]["message"] == "retrained: {roc_auc}"
    assert steps[4]["approvers"] == ["alice", "bob"] and steps[4]["timeout"] == 3600
    assert steps[5]["target"] == {"folder": str(tmp_path / "prod")}

    # Edited later, the form comes back with the steps in order.
    page.click('[data-testid="mlprod-scenario-edit-retrain-form"]')
    _tid(page, "mlprod-scenario-form").wait_for()
    assert _kinds(page) == ["run", "check", "compare", "bundle", "approve", "deploy"]
    page.click('[data-testid="mlprod-scenario-cancel"]')


def _wait_status(lab, fire_id: int, wanted: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status, run = lab.api("GET", f"scenarios/fires/{fire_id}")
        assert status == 200, run
        if run["status"] == wanted:
            return run
        if run["finished_at"] or time.monotonic() > deadline:
            pytest.fail(f"scenario run {fire_id} is {run['status']}, not {wanted}: {run}\n"
                        f"{lab.log_tail()}")
        time.sleep(0.5)


def test_approve_from_the_panel_then_deploy(page, lab, tmp_path):
    target = tmp_path / "prod"
    target.mkdir()  # an empty production folder: no champion yet
    spec = {
        "name": "retrain-approve",
        "triggers": [{"type": "manual"}],
        "steps": [
            {"kind": "run"},
            {"kind": "compare", "target": {"folder": str(target)},
             "metrics": {"roc_auc": {"greater_is_better": True, "min_absolute_change": 0}}},
            {"kind": "bundle", "message": "retrained: roc_auc {roc_auc}"},
            {"kind": "approve", "timeout": 600},
            {"kind": "deploy", "target": {"folder": str(target)}},
        ],
    }
    status, scenario = lab.api("POST", "scenarios", spec)
    assert status == 201, scenario
    status, started = lab.api("POST", f"scenarios/{scenario['id']}/trigger")
    assert status == 202, started
    fire_id = started["id"]

    _open_scenarios(page)
    page.click('[data-testid="mlprod-scenario-runs-retrain-approve"]')
    _tid(page, f"mlprod-fire-row-{fire_id}").click()
    view = _tid(page, "mlprod-scenario-run-view")
    view.wait_for()
    # The view follows the run live up to the approval (no reload).
    page.locator('[data-testid="mlprod-scenario-run-view"][data-status="waiting_approval"]').wait_for(
        timeout=120_000)
    # The comparison: no champion in an empty folder, so the candidate wins.
    row = _tid(page, "mlprod-comparison-1-roc_auc")
    assert row.get_attribute("data-passed") == "true"
    assert "no champion" in row.inner_text()
    assert _tid(page, "mlprod-scenario-step-status-4").inner_text() == "pending"
    page.screenshot(path=str(SCREENSHOTS / "scenario_run_waiting_approval.png"), full_page=True)

    page.click('[data-testid="mlprod-approve"]')
    deployed = _tid(page, "mlprod-scenario-step-4")
    page.locator('[data-testid="mlprod-scenario-step-4"][data-status="succeeded"]').wait_for(
        timeout=60_000)
    assert "approve" in _tid(page, "mlprod-approval-decision").inner_text()
    page.locator('[data-testid="mlprod-scenario-run-view"][data-status="succeeded"]').wait_for()
    deployed.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "scenario_run_deployed.png"), full_page=True)
    assert any(target.iterdir()), "the folder target received nothing"

    # A second decision on a finished run is refused by the server.
    status, body = lab.api("POST", f"scenarios/fires/{fire_id}/approval", {"decision": "reject"})
    assert status == 409, body

    # The scenario's card and the monitoring timeline open the same scenario run.
    page.click('[data-testid="mlprod-scenario-run-back"]')
    page.click('[data-testid="mlprod-scenario-runs-back"]')
    page.click('[data-testid="mlprod-scenario-last-retrain-approve"]')
    page.locator('[data-testid="mlprod-scenario-run-view"][data-status="succeeded"]').wait_for()
    page.click('[data-testid="mlprod-scenario-run-back"]')
    page.click('[data-testid="mlprod-scenarios-monitor"]')
    page.click(f'[data-testid="mlprod-timeline-table"] [data-testid="mlprod-fire-row-{fire_id}"]')
    page.locator('.jp-mlprod-title', has_text="retrain-approve, run").wait_for()


def _open_run(page, scenario: str, fire_id: int) -> None:
    _open_scenarios(page)
    page.click(f'[data-testid="mlprod-scenario-runs-{scenario}"]')
    _tid(page, f"mlprod-fire-row-{fire_id}").click()
    page.locator('[data-testid="mlprod-scenario-run-view"][data-status="waiting_approval"]').wait_for(
        timeout=60_000)


def _start(lab, name: str, approvers: list[str]) -> int:
    spec = {"name": name, "triggers": [{"type": "manual"}],
            "steps": [{"kind": "approve", "approvers": approvers, "timeout": 600}]}
    status, scenario = lab.api("POST", "scenarios", spec)
    assert status == 201, scenario
    status, started = lab.api("POST", f"scenarios/{scenario['id']}/trigger")
    assert status == 202, started
    return started["id"]


def test_refused_approval_and_rejection(page, lab):
    gated = _start(lab, "gated", ["release-manager"])
    open_gate = _start(lab, "open-gate", [])

    # The link a reporter sends with a waiting approval opens that scenario run in the panel.
    page.goto(f"{lab.url}/lab?mlprod-scenario-run={gated}")
    page.locator('[data-testid="mlprod-scenario-run-view"][data-status="waiting_approval"]').wait_for(
        timeout=60_000)
    assert page.locator(".jp-mlprod-title", has_text=f"gated, run {gated}").is_visible()

    # Not an approver: the server's 403 message is shown; the run still waits.
    assert "release-manager" in _tid(page, "mlprod-approval").inner_text()
    page.click('[data-testid="mlprod-approve"]')
    error = _tid(page, "mlprod-approval-error")
    error.wait_for()
    assert error.inner_text().strip()
    assert _tid(page, "mlprod-scenario-run-status").inner_text() == "waiting approval"
    page.screenshot(path=str(SCREENSHOTS / "scenario_run_approval_refused.png"))

    # Rejecting asks why; the run ends as rejected with the reason.
    page.click('[data-testid="mlprod-scenario-run-back"]')  # to the list of scenarios
    _open_run(page, "open-gate", open_gate)
    page.click('[data-testid="mlprod-reject"]')
    page.fill('[data-testid="mlprod-reject-reason"]', "not this week")
    page.click('[data-testid="mlprod-reject-confirm"]')
    page.locator('[data-testid="mlprod-scenario-run-view"][data-status="rejected"]').wait_for()
    assert "not this week" in _tid(page, "mlprod-approval-decision").inner_text()
    assert _tid(page, "mlprod-approve").count() == 0
