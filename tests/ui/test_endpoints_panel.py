"""The Endpoints tab in a real JupyterLab, driven in Debian's Chromium.

Trains the example model through the REST API, opens the example's scoring
notebook, serves it with "Serve this notebook", sees the endpoint listed in
the Endpoints tab, and sends the sample request from its test console (an
invalid JSON is refused before sending). Screenshots land in tests/ui/screenshots/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playwright.sync_api import expect

from panel_helpers import assert_no_sideways_overflow, show_sidebar, train_example, widen_sidebar

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

pytestmark = pytest.mark.timeout(400)


def test_serve_notebook_and_send_sample(page, lab):
    train_example(lab)

    page.goto(f"{lab.url}/lab/tree/score.ipynb?token={lab.token}")
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    nb = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    nb.wait_for()
    nb.locator('[data-testid="mlprod-serve-toolbar-button"]').click()

    dialog = page.locator(".jp-Dialog")
    dialog.wait_for()
    field = dialog.locator("input")
    assert field.input_value() == "score"
    field.fill("loans")
    page.click(".jp-Dialog-button.jp-mod-accept")

    # The panel opens on the Endpoints tab (at the default sidebar width) with the new
    # endpoint served and warm: one action gives its URL.
    page.locator("#mlprod-panel:not(.lm-mod-hidden)").wait_for()
    page.locator('[data-testid="mlprod-endpoint-row-loans"]').wait_for(timeout=60_000)
    url = page.locator('[data-testid="mlprod-endpoint-url-loans"]')
    url.wait_for(timeout=180_000)
    assert url.inner_text().startswith("http://127.0.0.1:") and url.inner_text().endswith(
        "/loans/predict")
    ready = page.locator('[data-testid="mlprod-endpoint-version-loans-v1"]')
    expect(ready).to_have_attribute("data-status", "ready", timeout=60_000)
    detail = page.locator('[data-testid="mlprod-endpoint-detail-loans"]')
    detail.wait_for()
    assert page.locator('[data-testid="mlprod-endpoint-versions-loans"] tbody tr').count() >= 1

    request = page.locator('[data-testid="mlprod-console-request"]')
    sample = json.loads(request.input_value())
    assert sample["credit_score"] == 710

    # Invalid JSON is shown, not sent.
    request.fill("{not json")
    page.click('[data-testid="mlprod-console-send"]')
    page.locator('[data-testid="mlprod-console-invalid"]').wait_for()
    assert page.locator('[data-testid="mlprod-console-result"]').count() == 0

    page.click('[data-testid="mlprod-console-sample"]')
    page.click('[data-testid="mlprod-console-send"]')
    result = page.locator('[data-testid="mlprod-console-result"]')
    result.wait_for(timeout=120_000)
    status = page.locator('[data-testid="mlprod-console-status"]')
    assert status.get_attribute("data-status") == "200", result.inner_text()
    assert "probability" in page.locator('[data-testid="mlprod-console-response"]').inner_text()
    assert "ms" in page.locator('[data-testid="mlprod-console-latency"]').inner_text()
    # Live numbers: the total and a latency over the last minutes, not only a rate.
    expect(ready.locator('[data-testid="mlprod-stat-requests"]')).to_have_text("1", timeout=30_000)
    expect(ready.locator('[data-testid="mlprod-stat-p50"]')).to_contain_text("ms")
    page.wait_for_timeout(4_500)  # two more polls: the numbers stay
    expect(ready.locator('[data-testid="mlprod-stat-p95"]')).to_contain_text("ms")
    assert_no_sideways_overflow(page, what="endpoints")

    SCREENSHOTS.mkdir(exist_ok=True)
    result.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "endpoints_console.png"))

    # The endpoint is really there.
    code, body = lab.api("GET", "endpoints/loans")
    assert code == 200 and body["versions"], body


def test_traffic_error_names_the_field(page, lab):
    code, _ = lab.api("GET", "endpoints/loans")
    if code != 200:
        pytest.skip("needs the endpoint of the previous test")
    show_sidebar(page, "mlprod-panel")
    widen_sidebar(page, 620)
    page.click('[data-testid="mlprod-tab-endpoints"]')
    page.click('[data-testid="mlprod-endpoint-open-loans"]')
    weight = page.locator('[data-testid^="mlprod-traffic-weight-"]').first
    weight.fill("-5")
    page.click('[data-testid="mlprod-traffic-save"]')
    error = page.locator('[data-testid="mlprod-traffic-error"]')
    error.wait_for()
    assert error.inner_text().strip()
