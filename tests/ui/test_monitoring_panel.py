"""The Monitoring tab in a real JupyterLab, driven in Debian's Chromium.

Trains the example model, serves its scoring notebook with the prediction log on (its
declared reference narrowed to the held-out split), sends a few requests (the view says
"not enough data"), then requests whose income is 1.5x and which carry a field the reference never saw,
with their true labels as feedback. The view flags income and only income, names the unseen
field "missing in reference", and draws its charts (PSI and test statistic bars, PSI over time,
predictions reference vs live, calibration). Screenshots land in tests/ui/screenshots/.
"""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from playwright.sync_api import expect

from panel_helpers import assert_no_sideways_overflow, show_sidebar, train_example, widen_sidebar

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
FEATURES = ["age", "income", "loan_amount", "term_months", "credit_score", "employment_years",
            "debt_to_income"]
FEW, SHIFTED = 20, 150

pytestmark = pytest.mark.timeout(300)


def _small_reference(root: Path) -> None:
    """The example's scoring notebook declares its reference (the 2000 applications, where
    Evidently's tests are distances that need ~600 live rows to stay quiet on unchanged
    columns). Here the held-out split (500 rows: KS / chi-square tests, clean with 170 rows),
    and the first FEW logged requests give the prediction's reference (the table has none)."""
    path = root / "score.ipynb"
    nb = nbformat.read(path, as_version=4)
    declared = dict(nb.metadata.get("mlprod-monitoring") or {})
    assert declared.get("prediction") == "probability", declared
    nb.metadata["mlprod-monitoring"] = declared | {
        "reference": "data/test_split.csv", "min_rows": 100, "reference_requests": FEW}
    nbformat.write(nb, path)


def _applications(root: Path) -> list[dict]:
    with open(root / "data" / "applications.csv", newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _post(url: str, body: dict) -> tuple[int, dict, str]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def _score(predict: str, request: dict) -> str:
    status, headers, body = _post(predict, request)
    assert status == 200, body
    return headers["X-Prediction-Id"]


def _feedback(url: str, pid: str, label: int) -> None:
    """The true label of a prediction (whichever worker of the server answered it)."""
    status, _, body = _post(url, {"prediction_id": pid, "label": label})
    assert status == 200, body


def _wait_for_report(lab, ready) -> None:
    """The serving log writes in the background, up to a second behind the answers: wait until
    the drift report shows what was sent."""
    deadline = time.monotonic() + 30
    while True:
        code, report = lab.api("GET", "endpoints/loans/drift?window=1000")
        if code == 200 and ready(report):
            return
        assert time.monotonic() < deadline, (code, report)
        time.sleep(0.2)


def _record_drift(root: Path, lab, logged: int) -> None:
    """Record a drift evaluation once the log holds `logged` rows."""
    _wait_for_report(lab, lambda r: r["n_live"] >= logged)
    done = subprocess.run([sys.executable, "-m", "jupyter_mlprod.cli", "drift", "loans",
                           "--record"], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def _svg(page, testid: str):
    chart = page.locator(f'[data-testid="{testid}"] svg').first
    chart.wait_for(timeout=30_000)
    return chart


def test_monitoring_flags_the_shifted_feature(page, lab):
    train_example(lab)
    _small_reference(lab.root)
    status, ep = lab.api("POST", "endpoints", {
        "name": "loans", "notebook": "score.ipynb", "serve": True,
        "options": {"prediction_log": {"enabled": True}}})
    assert status in (200, 201), ep
    predict = f"{ep['servers'][0]['url']}{ep['paths']['predict']}"
    feedback = predict.rsplit("/", 1)[0] + "/feedback"
    rows = _applications(lab.root)
    for row in rows[:FEW]:
        _score(predict, {k: row[k] for k in FEATURES})

    show_sidebar(page, "mlprod-panel")
    widen_sidebar(page, 560)
    page.click('[data-testid="mlprod-tab-monitoring"]')
    expect(page.locator('[data-testid="mlprod-drift-endpoint"]')).to_have_value("loans")
    message = page.locator('[data-testid="mlprod-drift-message"]')
    expect(message).to_contain_text("not enough data", timeout=30_000)
    expect(page.locator('[data-testid="mlprod-drift-verdict"]')).to_have_count(0)
    expect(page.locator('[data-testid="mlprod-drift-row-income"]')).to_have_attribute(
        "data-status", "not_enough_data")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("#mlprod-panel").screenshot(path=str(SCREENSHOTS / "monitoring_not_enough.png"))

    # Drawn from the shifted distribution: income x 1.5, and a field the reference never saw;
    # the CLI records the drift twice on the way (the history the view draws).
    labelled = []
    for i, row in enumerate(rows[FEW:FEW + SHIFTED]):
        shifted = {k: row[k] for k in FEATURES} | {"income": row["income"] * 1.5,
                                                    "channel": "partner"}
        labelled.append((_score(predict, shifted), int(row["approved"])))
        if FEW + i + 1 in (120, FEW + SHIFTED):  # 120: past min_rows (100)
            _record_drift(lab.root, lab, FEW + i + 1)
    for pid, label in labelled:
        _feedback(feedback, pid, label)
    _wait_for_report(lab, lambda r: (r.get("performance") or {}).get("labels") == SHIFTED)

    page.click('[data-testid="mlprod-drift-refresh"]')
    expect(message).to_have_count(0, timeout=30_000)
    verdict = page.locator('[data-testid="mlprod-drift-verdict"]')
    expect(verdict).to_contain_text(f"{FEW + SHIFTED} live rows")
    flags = page.locator('[data-testid="mlprod-drift-drifting"] .jp-mlprod-drift-chip')
    expect(flags).to_have_text(["income"])
    expect(page.locator('[data-testid="mlprod-drift-row-income"]')).to_have_attribute(
        "data-drift", "true")
    for name in FEATURES:
        if name != "income":
            expect(page.locator(f'[data-testid="mlprod-drift-row-{name}"]')).to_have_attribute(
                "data-drift", "false")
    expect(page.locator('[data-testid="mlprod-drift-note-channel"]')).to_contain_text(
        "missing in reference")

    # The charts are drawn: bars with threshold lines, the drifting feature's label in red.
    psi = _svg(page, "mlprod-drift-psi")
    assert psi.locator(".mark-rect.role-mark path").count() == len(FEATURES)
    assert psi.locator(".mark-rule.role-mark line").count() == 2  # PSI 0.1 and 0.25
    income_label = psi.locator(".role-axis-label text").filter(has_text=re.compile("^income$"))
    assert income_label.get_attribute("font-weight") == "bold"
    _svg(page, "mlprod-drift-statistic")
    # The drifting feature is shown in detail until another is picked.
    title = page.locator('[data-testid="mlprod-drift-feature-title"]')
    expect(title).to_contain_text("income")
    _svg(page, "mlprod-drift-distribution")
    _svg(page, "mlprod-drift-prediction")
    _svg(page, "mlprod-drift-calibration")
    labels = page.locator('[data-testid="mlprod-drift-performance"]')
    expect(labels).to_contain_text(f"labels {SHIFTED}")
    assert_no_sideways_overflow(page, what="monitoring")
    history = _svg(page, "mlprod-drift-history")
    assert history.locator(".mark-symbol.role-mark path").count() == 2  # the two recordings

    page.set_viewport_size({"width": 1440, "height": 2600})
    page.wait_for_timeout(500)  # charts refit their container's width
    page.locator('[data-testid="mlprod-monitoring-view"]').screenshot(
        path=str(SCREENSHOTS / "monitoring_drift.png"))

    psi.locator(".mark-rect.role-mark path").first.click()  # a bar picks its feature
    expect(title).to_contain_text("age")
    page.click('[data-testid="mlprod-drift-row-credit_score"]')  # so does a row
    expect(title).to_contain_text("credit_score")
    # The last hour holds the same requests: the same verdict over a time window.
    with page.expect_response(lambda r: "/drift?" in r.url and "window=1h" in r.url) as answer:
        page.select_option('[data-testid="mlprod-drift-window"]', "1h")
    assert answer.value.status == 200
    expect(verdict).to_contain_text(f"{FEW + SHIFTED} live rows")
    expect(flags).to_have_text(["income"])

    # The dark theme: the charts redraw in its colours (read from its CSS variables).
    page.click('.lm-MenuBar-itemLabel:text-is("Settings")')
    page.hover('.lm-Menu-itemLabel:text-is("Theme")')
    page.click('.lm-Menu-itemLabel:text-is("JupyterLab Dark")')
    page.wait_for_function("document.body.dataset.jpThemeName === 'JupyterLab Dark'")
    muted = page.evaluate(
        "getComputedStyle(document.body).getPropertyValue('--jp-ui-font-color2').trim()")
    age = psi.locator(".role-axis-label text").filter(has_text=re.compile("^age$"))
    expect(age).to_have_attribute("fill", muted)
    page.locator('[data-testid="mlprod-monitoring-view"]').screenshot(
        path=str(SCREENSHOTS / "monitoring_dark.png"))

    # An endpoint that does not log its predictions says so, instead of an empty view.
    status, quiet = lab.api("POST", "endpoints", {"name": "quiet", "notebook": "score.ipynb"})
    assert status in (200, 201), quiet
    page.click('[data-testid="mlprod-drift-refresh"]')
    page.select_option('[data-testid="mlprod-drift-endpoint"]', "quiet")
    expect(page.locator('[data-testid="mlprod-drift-log-off"]')).to_contain_text("quiet")
