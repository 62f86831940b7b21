"""A newcomer's first hour, in a real JupyterLab at its DEFAULT sidebar width (never widened).

One server for the whole module: a fresh copy of the example project. Every view of the
panel is reachable from its icon bar, and nothing spills sideways; the example pipeline
succeeds from the panel; the same panel opens in the main area; the new scenario form stays
quiet until something is typed and a fixed field drops its error; bundles deploy the newest
by default; a step whose kernel lacks a module says so in the panel. Screenshots of each
view land in tests/ui/screenshots/ (narrow_*.png, main_area.png).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from panel_helpers import assert_no_sideways_overflow, show_sidebar

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
VIEWS = ["pipeline", "runs", "scenarios", "bundles", "endpoints"]
RUN_TIMEOUT_MS = 180_000

pytestmark = pytest.mark.timeout(500)


def _panel(page):
    show_sidebar(page, "mlprod-panel")
    return page.locator("#mlprod-panel")


def _show(page, view: str) -> None:
    page.click(f'#mlprod-panel [data-testid="mlprod-tab-{view}"]')
    page.locator(f'#mlprod-panel [data-testid="mlprod-view-{view}"]').wait_for()


def _assert_fits(page, view: str) -> None:
    """The panel's content does not overflow sideways, and every view button is inside it."""
    assert_no_sideways_overflow(page, what=view)
    panel = page.locator("#mlprod-panel").bounding_box()
    for name in VIEWS:
        box = page.locator(f'#mlprod-panel [data-testid="mlprod-tab-{name}"]').bounding_box()
        assert box and box["x"] >= panel["x"] - 0.5, name
        assert box["x"] + box["width"] <= panel["x"] + panel["width"] + 0.5, (
            f"{view}: the {name} button is cut off")


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def test_every_view_fits_the_default_sidebar_and_the_example_succeeds(page, lab):
    panel = _panel(page)
    width = panel.bounding_box()["width"]
    assert width < 320, f"the sidebar is {width} px: the test must run at the default width"

    # Tooltips name each icon.
    for view in VIEWS:
        title = page.locator(f'#mlprod-panel [data-testid="mlprod-tab-{view}"]').get_attribute("title")
        assert title and title.lower().startswith(view), title

    # The example pipeline, run from the panel, succeeds.
    _show(page, "pipeline")
    page.click('[data-testid="mlprod-run-button"]')
    page.locator('[data-testid="mlprod-run-form"]').wait_for()
    _assert_fits(page, "run form")
    page.click('[data-testid="mlprod-run-submit"]')
    banner = page.locator('[data-testid="mlprod-active-run"]')
    try:
        banner.and_(page.locator('[data-status="succeeded"]')).wait_for(timeout=RUN_TIMEOUT_MS)
    except Exception:
        _, runs = lab.api("GET", "runs?limit=1")
        _, detail = lab.api("GET", f"runs/{runs['runs'][0]['id']}")
        pytest.fail("the example pipeline did not succeed:\n" + json.dumps(detail)[:3000])
    page.locator('[data-testid^="mlprod-step-node-"][data-status="succeeded"]').first.wait_for()

    for view in VIEWS:
        _show(page, view)
        if view == "runs":
            page.locator('[data-testid="mlprod-runs-table"] tbody tr').first.wait_for()
        page.wait_for_timeout(300)  # let the view's first load land before measuring
        _assert_fits(page, view)
        assert page.locator('[data-testid="mlprod-viewname"]').inner_text() == view.capitalize()
        _shot(page, f"narrow_{view}.png")

    # A run's detail at this width: every step's facts reachable.
    _show(page, "runs")
    page.locator('[data-testid="mlprod-runs-table"] tbody tr').first.click()
    page.locator('[data-testid="mlprod-run-status"][data-status="succeeded"]').wait_for()
    _assert_fits(page, "run detail")
    _shot(page, "narrow_run_detail.png")


def test_open_in_main_area_shows_names_and_the_dag(page, lab):
    _panel(page)
    page.click('#mlprod-panel [data-testid="mlprod-open-in-main"]')
    main = page.locator("#mlprod-main")
    main.wait_for()
    # Wide: the buttons carry their names; the DAG has room.
    expect(main.locator('[data-testid="mlprod-tab-bundles"] .jp-mlprod-tab-label')).to_be_visible()
    main.locator('[data-testid="mlprod-dag"]').wait_for()
    assert main.locator('[data-testid="mlprod-open-in-main"]').count() == 0
    _shot(page, "main_area.png")
    # The command palette has it too.
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("Open MLProd in the main area")
    expect(page.locator(".lm-CommandPalette-item", has_text="Open MLProd in the main area")
           ).to_have_count(1)
    page.keyboard.press("Escape")


def test_new_scenario_form_is_quiet_until_typed_and_a_fixed_field_clears(page, lab):
    _panel(page)
    _show(page, "scenarios")
    page.click('[data-testid="mlprod-scenario-new"]')
    validity = page.locator('[data-testid="mlprod-scenario-validity"]')
    expect(validity).to_have_attribute("data-valid", "false")  # the server checked it: empty
    page.wait_for_timeout(400)
    assert page.locator(".jp-mlprod-field-error").count() == 0, page.locator(
        ".jp-mlprod-field-error").all_inner_texts()
    assert "to fix" not in validity.inner_text()
    _assert_fits(page, "scenario form")
    _shot(page, "narrow_scenario_form.png")

    cron_error = page.locator('[data-testid="mlprod-field-error-triggers[0].cron"]')
    page.fill('[data-testid="mlprod-trigger-cron-0"]', "61 * * * *")
    cron_error.wait_for()
    assert "61" in cron_error.inner_text()
    page.fill('[data-testid="mlprod-trigger-cron-0"]', "*/5 * * * *")
    cron_error.wait_for(state="detached")
    # the name was never typed: its error still waits for Save
    assert page.locator('[data-testid="mlprod-field-error-name"]').count() == 0
    page.click('[data-testid="mlprod-scenario-save"]')
    page.locator('[data-testid="mlprod-field-error-name"]').wait_for()
    page.click('[data-testid="mlprod-scenario-cancel"]')


def _create_bundle(page, lab, message: str) -> dict:
    _, before = lab.api("GET", "bundles")
    page.fill('[data-testid="mlprod-bundle-message"]', message)
    page.click('[data-testid="mlprod-bundle-create-button"]')
    deadline = time.monotonic() + 60
    while True:
        _, listed = lab.api("GET", "bundles")
        if listed["total"] > before["total"] or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    newest = listed["bundles"][0]
    page.locator(f'[data-testid="mlprod-bundle-row-{newest["short_id"]}"]').wait_for()
    return newest


def test_bundles_legend_and_deploy_defaults_to_the_newest(page, lab):
    _panel(page)
    _show(page, "bundles")
    page.locator('[data-testid="mlprod-bundle-preview"]').wait_for()
    page.click('[data-testid="mlprod-bundle-preview-toggle"]')
    legend = page.locator('[data-testid="mlprod-bundle-status-legend"]')
    legend.wait_for()
    assert "unknown" in legend.inner_text() and "new" in legend.inner_text()

    first = _create_bundle(page, lab, "first")
    select = page.locator('[data-testid="mlprod-deploy-bundle"]')
    expect(select).to_have_value(first["id"])
    path = lab.root / "evaluate.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {},
                        "outputs": [], "source": ["print('bundle two')"]})
    path.write_text(json.dumps(nb, indent=1))
    second = _create_bundle(page, lab, "second")
    expect(select).to_have_value(second["id"])
    # an older one picked by hand gives way to the next new bundle
    select.select_option(first["id"])
    nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {},
                        "outputs": [], "source": ["print('bundle three')"]})
    path.write_text(json.dumps(nb, indent=1))
    third = _create_bundle(page, lab, "third")
    expect(select).to_have_value(third["id"])
    assert "(newest)" in select.locator("option:checked").inner_text()
    _assert_fits(page, "bundles")
    select.scroll_into_view_if_needed()
    _shot(page, "narrow_bundles_deploy.png")


def test_a_step_missing_a_module_says_so_in_the_panel(page, lab):
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                     "source": ["import mlprod_not_installed_pkg"]}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"},
                       "mlprod": {"step": "needs_pkg", "inputs": [], "outputs": []}},
          "nbformat": 4, "nbformat_minor": 5}
    (lab.root / "needs_pkg.ipynb").write_text(json.dumps(nb))
    try:
        status, run = lab.api("POST", "runs", {"steps": ["needs_pkg"]})
        assert status in (200, 201, 202), run
        _panel(page)
        _show(page, "runs")
        page.locator(f'[data-testid="mlprod-runs-row-{run["id"]}"][data-status="failed"]').wait_for(
            timeout=RUN_TIMEOUT_MS)
        page.click(f'[data-testid="mlprod-runs-row-{run["id"]}"]')
        error = page.locator('[data-testid="mlprod-steprun-error-needs_pkg"]')
        error.wait_for()
        expect(error).to_be_visible()
        text = error.inner_text()
        assert "ModuleNotFoundError" in text and "mlprod_not_installed_pkg" in text, text
        assert "In [" in text or "cell index" in text, text
        _assert_fits(page, "failed run")
        _shot(page, "narrow_run_missing_module.png")
    finally:
        (lab.root / "needs_pkg.ipynb").unlink()
