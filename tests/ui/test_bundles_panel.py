"""The Bundles tab in a real JupyterLab, driven in Debian's Chromium.

Creates a bundle from the panel (after its preview), changes a notebook and a
data file on disk, creates a second one, and shows the diff of the two:
notebook cells, data sizes. Verifies a bundle, deploys it to a production
folder and rolls back. Screenshots land in tests/ui/screenshots/.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from panel_helpers import show_sidebar, widen_sidebar

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

pytestmark = pytest.mark.timeout(400)


def _open_bundles(page):
    show_sidebar(page, "mlprod-panel")
    widen_sidebar(page)
    page.click('[data-testid="mlprod-tab-bundles"]')
    page.wait_for_selector('[data-testid="mlprod-bundles-view"]')


def _create(page, lab, message: str) -> dict:
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
    assert newest["message"] == message
    page.locator('[data-testid="mlprod-bundle-created"]', has_text=newest["short_id"]).wait_for()
    page.locator(f'[data-testid="mlprod-bundle-row-{newest["short_id"]}"]').wait_for()
    return newest


def _data_file(lab) -> Path:
    """A declared output of the pipeline (bundled as data once it exists)."""
    _, pipeline = lab.api("GET", "pipeline")
    outputs = [o for s in pipeline["steps"] for o in s["outputs"] if "*" not in o]
    assert outputs, pipeline
    path = lab.root / outputs[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_create_two_bundles_and_diff(page, lab, tmp_path):
    data = _data_file(lab)
    data.write_text("a,b\n" + "1,2\n" * 250)
    metrics = lab.root / "reports" / "metrics.json"
    metrics.parent.mkdir(exist_ok=True)
    metrics.write_text(json.dumps({"auc": 0.81, "accuracy": 0.77}))
    _open_bundles(page)
    preview = page.locator('[data-testid="mlprod-bundle-preview"]')
    preview.wait_for()
    assert "files" in preview.inner_text() and "notebook" in preview.inner_text()
    first = _create(page, lab, "first version")

    # Change a notebook (a new code cell) and rewrite a data file.
    path = lab.root / "train.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {},
                        "outputs": [], "source": ["print('a new cell for bundle 2')"]})
    for cell in nb["cells"]:  # and a parameter's default
        if "parameters" in cell["metadata"].get("tags", []):
            cell["source"] = "".join(cell["source"]).replace("C = 1.0", "C = 0.5")
    path.write_text(json.dumps(nb, indent=1))
    metrics.write_text(json.dumps({"auc": 0.84, "accuracy": 0.77}))
    data.write_text("a,b\n" + "1,2\n" * 1000)
    page.click('[data-testid="mlprod-bundle-preview-toggle"]')
    page.locator('[data-testid="mlprod-bundle-preview-files"]').wait_for()
    second = _create(page, lab, "second version")
    assert second["id"] != first["id"]

    # Verify the first one.
    page.click(f'[data-testid="mlprod-bundle-verify-{first["short_id"]}"]')
    badge = page.locator(f'[data-testid="mlprod-bundle-verified-{first["short_id"]}"]')
    badge.wait_for()
    assert badge.get_attribute("data-status") == "succeeded"

    # Select both, diff: the new cell shows up under the notebook.
    page.check(f'[data-testid="mlprod-bundle-select-{first["short_id"]}"]')
    page.check(f'[data-testid="mlprod-bundle-select-{second["short_id"]}"]')
    page.click('[data-testid="mlprod-bundles-diff"]')
    diff = page.locator('[data-testid="mlprod-bundle-diff"]')
    diff.wait_for()
    page.locator('[data-testid="mlprod-bundle-diff-summary"]').wait_for()
    nb_diff = page.locator('[data-testid="mlprod-diff-notebook-train.ipynb"]')
    nb_diff.wait_for()
    cell = nb_diff.locator('[data-testid="mlprod-diff-cell"][data-change="added"]')
    assert "a new cell for bundle 2" in cell.first.inner_text()
    title = diff.locator(".jp-mlprod-title").inner_text()
    assert first["short_id"] in title.split("→")[0] and second["short_id"] in title
    assert "train.ipynb" in page.locator('[data-testid="mlprod-diff-files"]').inner_text()
    # Parameters and metrics values side by side, not only sizes.
    param = page.locator('[data-testid="mlprod-diff-param-C"]')
    assert param.locator("td").all_inner_texts()[1:] == ["1", "0.5"]  # JSON numbers
    auc = page.locator('[data-testid="mlprod-diff-json-value-auc"]')
    assert auc.locator("td").all_inner_texts() == ["auc", "0.81", "0.84"]
    assert page.locator('[data-testid="mlprod-diff-json-value-accuracy"]').count() == 0
    data_diff = page.locator('[data-testid="mlprod-diff-data"]').inner_text()
    assert data.name in data_diff and "KB" in data_diff, data_diff
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "bundles_diff.png"))

    # Deploy both to a production folder, then roll back to the first.
    page.click('[data-testid="mlprod-bundle-diff-back"]')
    target = tmp_path / "prod"
    target.mkdir()
    page.select_option('[data-testid="mlprod-deploy-node"]', "__other__")
    page.fill('[data-testid="mlprod-deploy-target"]', str(target))
    for bundle in (first, second):
        page.select_option('[data-testid="mlprod-deploy-bundle"]', bundle["id"])
        page.click('[data-testid="mlprod-deploy-button"]')
        result = page.locator('[data-testid="mlprod-deploy-result"]', has_text=bundle["short_id"])
        try:
            result.wait_for(timeout=60_000)
        except Exception:
            err = page.locator('[data-testid="mlprod-deploy-error"]')
            pytest.fail(f"deploy failed: {err.inner_text() if err.count() else '?'}")
    table = page.locator('[data-testid="mlprod-deployments-table"]')
    table.locator("tr", has_text="active").filter(has_text=second["short_id"]).wait_for()
    # Roll back asks first, naming what leaves and what comes back.
    page.click('[data-testid="mlprod-rollback-button"]')
    confirm = page.locator('[data-testid="mlprod-rollback-confirm"]')
    confirm.wait_for()
    now_line, back_line = confirm.locator("div").all_inner_texts()
    assert second["short_id"] in now_line and "second version" in now_line, now_line
    assert first["short_id"] in back_line and "first version" in back_line, back_line
    page.screenshot(path=str(SCREENSHOTS / "bundles_rollback_confirm.png"))
    page.click(".jp-Dialog-button.jp-mod-accept")
    page.locator('[data-testid="mlprod-deploy-result"]', has_text="rolled back").wait_for()
    table.locator("tr", has_text="rollback").filter(has_text=first["short_id"]).wait_for()
    page.screenshot(path=str(SCREENSHOTS / "bundles_deploy.png"))

    # Registering a node with a URL that is not http(s) is refused, visibly.
    page.click('[data-testid="mlprod-node-register-open"]')
    page.fill('[data-testid="mlprod-node-name"]', "prod-1")
    page.fill('[data-testid="mlprod-node-url"]', "ftp://prod-host:8765")
    page.click('[data-testid="mlprod-node-register-button"]')
    page.locator('[data-testid="mlprod-node-register-error"]').wait_for()
    page.fill('[data-testid="mlprod-node-url"]', "http://127.0.0.1:9")
    page.click('[data-testid="mlprod-node-register-button"]')
    page.locator('[data-testid="mlprod-node-register"]').wait_for(state="detached")
    expect(page.locator('[data-testid="mlprod-deploy-node"]')).to_have_value("prod-1")
    _, nodes = lab.api("GET", "nodes")
    assert [n["name"] for n in nodes["nodes"]] == ["prod-1"]

    # The audit lists who created and deployed what.
    page.click('[data-testid="mlprod-audit"] summary')
    audit = page.locator('[data-testid="mlprod-audit"]')
    audit.locator("strong", has_text="bundle.create").first.wait_for()
