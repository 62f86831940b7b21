"""The Scenarios tab in a real JupyterLab, driven in Debian's Chromium.

Creates a scenario in the panel: the server validates as you type (an invalid
cron and a non-http webhook are shown next to their fields before saving),
then an interval scenario is saved and the embedded scheduler fires it; the
monitoring timeline shows the fire and opens its run in the Runs tab.
Screenshots land in tests/ui/screenshots/.
"""

from __future__ import annotations

import time

import pytest

from panel_helpers import show_sidebar, widen_sidebar

from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

pytestmark = pytest.mark.timeout(400)

FIRE_TIMEOUT_MS = 120_000


def _field_error(page, field: str):
    return page.locator(f'[data-testid="mlprod-field-error-{field}"]')


def _open_scenarios(page):
    show_sidebar(page, "mlprod-panel")
    widen_sidebar(page)
    page.click('[data-testid="mlprod-tab-scenarios"]')
    page.wait_for_selector('[data-testid="mlprod-scenarios-view"]')


def _steps(lab) -> list[str]:
    status, body = lab.api("GET", "pipeline")
    assert status == 200, body
    return [s["name"] for s in body["steps"]]


def _scenario_runs(lab, scenario_id: int) -> list[dict]:
    _, body = lab.api("GET", "runs?limit=50")
    return [r for r in body["runs"] if r.get("scenario_id") == scenario_id]


def test_create_scenario_and_see_it_fire(page, lab):
    _open_scenarios(page)
    page.click('[data-testid="mlprod-scenario-new"]')
    page.locator('[data-testid="mlprod-scenario-form"]').wait_for()
    page.fill('[data-testid="mlprod-scenario-name"]', "every5s")

    # An invalid cron is explained next to its field before anything is saved.
    page.fill('[data-testid="mlprod-trigger-cron-0"]', "61 * * * *")
    error = _field_error(page, "triggers[0].cron")
    error.wait_for()
    assert error.inner_text().strip()
    assert page.locator(
        '[data-testid="mlprod-scenario-validity"][data-valid="false"]'
    ).is_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "scenario_form_error.png"))
    _, listed = lab.api("GET", "scenarios")
    assert listed["scenarios"] == []

    # Fixed: the cron in words and its next fire times.
    page.fill('[data-testid="mlprod-trigger-cron-0"]', "*/5 * * * *")
    error.wait_for(state="detached")
    words = page.locator('[data-testid="mlprod-trigger-words-0"]')
    words.wait_for()
    assert "5 minutes" in words.inner_text()
    assert page.locator('[data-testid="mlprod-trigger-next-0"]').inner_text().startswith("next:")
    page.screenshot(path=str(SCREENSHOTS / "scenario_form.png"))

    # A webhook reporter that is not http(s) is refused as you type, then removed.
    page.click('[data-testid="mlprod-add-webhook"]')
    page.select_option('[data-testid="mlprod-reporter-url-source-0"]', "url")
    page.fill('[data-testid="mlprod-reporter-url-0"]', "ftp://example.com/hook")
    _field_error(page, "reporters[0].url").wait_for()
    page.click('[data-testid="mlprod-reporter-remove-0"]')

    # Every 5 s, only the first step.
    page.select_option('[data-testid="mlprod-trigger-type-0"]', "interval")
    page.fill('[data-testid="mlprod-trigger-every-0"]', "5s")
    page.locator('[data-testid="mlprod-trigger-words-0"]', has_text="every 5").wait_for()
    steps = _steps(lab)
    first = "prepare" if "prepare" in steps else steps[0]
    page.select_option('[data-testid="mlprod-scenario-run-mode"]', "steps")
    for name in steps:
        box = page.locator(f'[data-testid="mlprod-scenario-step-{name}"]')
        box.set_checked(name == first)
    page.select_option('[data-testid="mlprod-scenario-overlap"]', "skip")
    page.locator('[data-testid="mlprod-scenario-validity"][data-valid="true"]').wait_for()
    page.click('[data-testid="mlprod-scenario-save"]')
    page.locator('[data-testid="mlprod-scenario-form"]').wait_for(state="detached")

    row = page.locator('[data-testid="mlprod-scenario-row-every5s"]')
    row.wait_for()
    assert "every 5" in row.inner_text()
    _, scenario = lab.api("GET", "scenarios/every5s")
    assert scenario["triggers"] == [{"type": "interval", "every": 5}]
    assert scenario["run"]["steps"] == [first]

    # The embedded scheduler fires it: the row shows the last outcome.
    try:
        page.locator(
            '[data-testid="mlprod-scenario-row-every5s"][data-status="succeeded"]'
        ).wait_for(timeout=FIRE_TIMEOUT_MS)
    except Exception:
        _, fires = lab.api("GET", "scenarios/every5s/fires")
        pytest.fail(f"no successful fire: {fires}\n{lab.log_tail()}")
    runs = _scenario_runs(lab, scenario["id"])
    assert runs and runs[-1]["trigger"] == "scenario:interval", runs
    page.screenshot(path=str(SCREENSHOTS / "scenarios.png"))

    # Monitoring: a strip per scenario, a coloured mark per fire.
    page.click('[data-testid="mlprod-scenarios-monitor"]')
    page.select_option('[data-testid="mlprod-timeline-span"]', "300")
    page.locator('[data-testid="mlprod-timeline-row-every5s"]').wait_for()
    mark = page.locator(
        '[data-testid="mlprod-timeline-row-every5s"] .jp-mlprod-fire[data-status="succeeded"]'
    ).first
    mark.wait_for()
    run_id = mark.get_attribute("data-run")
    page.screenshot(path=str(SCREENSHOTS / "scenarios_timeline.png"))
    mark.click(force=True)  # the strip re-renders every 3 s
    page.locator('[data-testid="mlprod-run-detail"]').wait_for()
    page.locator(".jp-mlprod-title", has_text=f"Run {run_id}").wait_for()
    assert "scenario:interval" in page.locator(".jp-mlprod-facts").inner_text()

    # Disable it from the list: it stops firing.
    _open_scenarios(page)
    page.locator('[data-testid="mlprod-scenario-toggle-every5s"]').click()
    page.locator('[data-testid="mlprod-scenario-row-every5s"][data-enabled="false"]').wait_for()
    deadline = time.monotonic() + 10
    while True:
        _, scenario = lab.api("GET", "scenarios/every5s")
        if not scenario["enabled"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert scenario["enabled"] is False and scenario["next_fire_at"] is None, scenario
    page.reload()
    _open_scenarios(page)
    assert page.locator('[data-testid="mlprod-scenario-toggle-every5s"]').is_checked() is False

    # Edit: the form comes back filled with the stored scenario.
    page.click('[data-testid="mlprod-scenario-edit-every5s"]')
    page.locator('[data-testid="mlprod-scenario-form"]').wait_for()
    assert page.locator('[data-testid="mlprod-scenario-name"]').input_value() == "every5s"
    assert page.locator('[data-testid="mlprod-trigger-every-0"]').input_value() == "5"
    page.locator('[data-testid="mlprod-scenario-validity"][data-valid="true"]').wait_for()
    page.click('[data-testid="mlprod-scenario-cancel"]')
    page.locator('[data-testid="mlprod-scenario-row-every5s"]').wait_for()


def test_run_now_and_save_error(page, lab):
    """A save refused by the server (deep check of a SQL URL) is shown with
    its field; a manual scenario's "Run now" opens its run."""
    _open_scenarios(page)
    page.click('[data-testid="mlprod-scenario-new"]')
    page.locator('[data-testid="mlprod-scenario-form"]').wait_for()
    page.fill('[data-testid="mlprod-scenario-name"]', "by-hand")
    page.select_option('[data-testid="mlprod-trigger-type-0"]', "sql")
    page.select_option('[data-testid="mlprod-trigger-sql-source-0"]', "url")
    page.fill('[data-testid="mlprod-trigger-url-0"]', "sqlite:////nonexistent/dir/db.sqlite")
    page.fill('[data-testid="mlprod-trigger-query-0"]', "SELECT 1")
    page.locator('[data-testid="mlprod-scenario-validity"][data-valid="true"]').wait_for()
    page.click('[data-testid="mlprod-scenario-save"]')
    save_error = page.locator('[data-testid="mlprod-scenario-save-error"]')
    save_error.wait_for()
    assert "triggers[0]" in save_error.inner_text()
    _field_error(page, "triggers[0].url").wait_for()
    assert page.locator(
        '[data-testid="mlprod-scenario-validity"][data-valid="false"]'
    ).is_visible()
    save_error.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "scenario_save_error.png"))
    _, listed = lab.api("GET", "scenarios")
    assert "by-hand" not in [s["name"] for s in listed["scenarios"]]

    # Manual only: saved, then "Run now".
    page.select_option('[data-testid="mlprod-trigger-type-0"]', "manual")
    page.locator('[data-testid="mlprod-scenario-validity"][data-valid="true"]').wait_for()
    page.click('[data-testid="mlprod-scenario-save"]')
    page.locator('[data-testid="mlprod-scenario-form"]').wait_for(state="detached")
    page.click('[data-testid="mlprod-scenario-run-by-hand"]')
    page.locator('[data-testid="mlprod-run-detail"]').wait_for()
    assert "scenario:manual" in page.locator(".jp-mlprod-facts").inner_text()
    _, scenario = lab.api("GET", "scenarios/by-hand")
    deadline = time.monotonic() + 60
    while not _scenario_runs(lab, scenario["id"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _scenario_runs(lab, scenario["id"])

    # Remove it from its form (with a confirmation).
    _open_scenarios(page)
    page.click('[data-testid="mlprod-scenario-edit-by-hand"]')
    page.click('[data-testid="mlprod-scenario-delete"]')
    page.click('.jp-Dialog-button.jp-mod-warn')
    # The form closes once the DELETE has answered (the list is hidden while it is open).
    page.locator('[data-testid="mlprod-scenario-form"]').wait_for(state="detached")
    page.locator('[data-testid="mlprod-scenario-row-by-hand"]').wait_for(state="detached")
    status, _ = lab.api("GET", "scenarios/by-hand")
    assert status == 404
