"""The Metrics tab in a real JupyterLab, driven in Debian's Chromium: a step's metric trend
across runs (vega-embed) at sidebar width, hover shows the run and its parameters, a click opens
the run with its checks; the DAG node carries the latest checks' badge.
Screenshots land in tests/ui/screenshots/."""
from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest

from panel_helpers import show_sidebar, widen_sidebar

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

pytestmark = pytest.mark.timeout(400)


def _quality_step(root: Path) -> None:
    """A small step of its own next to the example's (no inputs, so it runs alone)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["mlprod"] = {"step": "quality", "inputs": [], "outputs": [], "checks": [
        {"metric": "roc_auc", "min": 0.8, "warn_below": 0.85}]}
    parameters = nbformat.v4.new_code_cell("auc = 0.9")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, nbformat.v4.new_code_cell(
        "import jupyter_mlprod as mlprod\nmlprod.log_metrics({'roc_auc': auc, 'f1': auc - 0.2})")]
    nbformat.write(nb, root / "quality.ipynb")


def _run(lab, auc: float) -> int:
    status, run = lab.api("POST", "runs", {"steps": ["quality"], "force": True,
                                           "parameters": {"quality.auc": auc}})
    assert status == 202, run
    deadline = time.monotonic() + 180
    while run["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, run
        time.sleep(0.5)
        _, run = lab.api("GET", f"runs/{run['id']}")
    assert run["status"] == "succeeded", run
    return run["id"]


def test_metric_trend_hover_click_and_badges(page, lab):
    _quality_step(lab.root)
    first, second = _run(lab, 0.9), _run(lab, 0.83)

    show_sidebar(page, "mlprod-panel")
    widen_sidebar(page, 290)   # about 250 px of panel: the sidebar width people keep
    page.click('[data-testid="mlprod-tab-metrics"]')
    page.wait_for_selector('[data-testid="mlprod-metrics-view"]')
    page.select_option('[data-testid="mlprod-metrics-step"]', "quality")
    chart = page.locator('[data-testid="mlprod-trend-roc_auc"]')
    points = chart.locator("svg .mark-symbol path")
    points.nth(1).wait_for()
    assert points.count() == 2
    width = chart.bounding_box()["width"]
    assert 180 < width < 300, width   # fits the narrow sidebar
    assert page.locator('[data-testid="mlprod-metric-roc_auc"]').inner_text().count("0.83") == 1

    points.nth(1).hover()
    tooltip = page.locator("#vg-tooltip-element.visible")
    tooltip.wait_for()
    text = tooltip.inner_text()
    assert str(second) in text and "quality.auc=0.83" in text
    page.screenshot(path=str(SCREENSHOTS / "metrics_trend.png"))

    points.nth(0).click()
    page.wait_for_selector('[data-testid="mlprod-run-detail"]')
    assert f"Run {first}" in page.locator(".jp-mlprod-title").inner_text()
    page.click('[data-testid="mlprod-run-back"]')
    page.click('[data-testid="mlprod-tab-metrics"]')
    page.select_option('[data-testid="mlprod-metrics-step"]', "quality")
    chart.locator("svg .mark-symbol path").nth(1).click()
    checks = page.locator('[data-testid="mlprod-run-checks-outcome"]')
    checks.wait_for()
    assert checks.get_attribute("data-outcome") == "WARNING"
    assert "roc_auc = 0.83 is below the warning level" in page.locator(
        '[data-testid="mlprod-run-checks"]').inner_text()

    page.click('[data-testid="mlprod-tab-pipeline"]')
    badge = page.locator('[data-testid="mlprod-node-checks-quality"]')
    badge.wait_for()
    assert badge.get_attribute("data-outcome") == "WARNING"
