"""The Audit tab in a real JupyterLab, driven in Debian's Chromium: changes made through the
REST API are listed, filtering by object narrows the list, a row opens its before/after and
the chain is checked. Screenshot: tests/ui/screenshots/audit_view.png."""
from __future__ import annotations

from pathlib import Path

import pytest

from panel_helpers import show_sidebar, widen_sidebar

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

pytestmark = pytest.mark.timeout(300)


def test_audit_view_lists_filters_and_verifies(page, lab):
    for name in ("prod", "staging"):  # a token variable goes to one node only
        status, _ = lab.api("POST", "nodes", {"name": name, "url": f"http://{name}.example:8765",
                                           "token_env": f"{name.upper()}_NODE_TOKEN"})
        assert status == 201
    status, _ = lab.api("DELETE", "nodes/ghost")
    assert status == 404  # refused, and recorded

    show_sidebar(page, "mlprod-panel")
    widen_sidebar(page, 640)
    page.click('[data-testid="mlprod-tab-audit"]')
    view = page.locator('[data-testid="mlprod-audit-view"]')
    view.wait_for()
    page.locator('[data-testid="mlprod-audit-total"]').filter(has_text="3 events").wait_for()
    refused = view.locator('tr[data-status="failed"]')
    assert refused.count() == 1 and "node:ghost" in refused.inner_text()

    page.fill('[data-testid="mlprod-audit-filter-object"]', "node:prod")
    page.click('[data-testid="mlprod-audit-apply"]')
    page.locator('[data-testid="mlprod-audit-total"]').filter(has_text="1 event").wait_for()
    row = view.locator('tbody tr[data-testid^="mlprod-audit-row-"]')
    assert row.count() == 1 and "node.register" in row.inner_text()
    row.click()
    detail = view.locator('[data-testid^="mlprod-audit-detail-"]')
    assert "http://prod.example:8765" in detail.inner_text()

    page.click('[data-testid="mlprod-audit-verify"]')
    result = page.locator('[data-testid="mlprod-audit-verify-result"]')
    result.wait_for()
    assert "chain intact: 3 events checked" in result.inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "audit_view.png"))
