"""The MLProd panel in a real JupyterLab, driven in Debian's Chromium.

Runs the example pipeline from the panel and checks what a person sees:
the DAG turning green, the runs table, a run's step runs and an executed
notebook opened in the main area. Screenshots land in tests/ui/screenshots/.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from panel_helpers import show_sidebar

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

pytestmark = pytest.mark.timeout(400)

RUN_TIMEOUT_MS = 120_000


def _open_panel(page):
    show_sidebar(page, "mlprod-panel")
    page.click('[data-testid="mlprod-tab-pipeline"]')
    page.wait_for_selector('[data-testid="mlprod-dag"]')


def _pipeline(lab) -> dict:
    status, body = lab.api("GET", "pipeline")
    assert status == 200, body
    return body


def _node(page, name: str):
    return page.locator(f'[data-testid="mlprod-step-node-{name}"]')


def _wait_all_nodes(page, lab, names: list[str], status: str) -> None:
    """Wait until every named node shows `status` (or explain why not)."""
    try:
        page.wait_for_function(
            """([names, status]) => names.every(n => {
                const el = document.querySelector(
                    `[data-testid="mlprod-step-node-${n}"]`);
                return el && el.getAttribute('data-status') === status;
            })""",
            arg=[names, status],
            timeout=RUN_TIMEOUT_MS,
        )
    except Exception:
        shown = {n: _node(page, n).get_attribute("data-status") for n in names}
        _, runs = lab.api("GET", "runs?limit=1")
        detail = None
        if isinstance(runs, dict) and runs.get("runs"):
            _, detail = lab.api("GET", f"runs/{runs['runs'][0]['id']}")
        pytest.fail(
            f"steps did not all reach {status!r}: panel shows {shown}\n"
            f"latest run: {json.dumps(detail, indent=1)}\n{lab.log_tail()}"
        )


def test_run_pipeline_from_panel(page, lab):
    pipeline = _pipeline(lab)
    names = [s["name"] for s in pipeline["steps"]]
    assert names, "example_notebooks/ has no tagged step"
    assert pipeline["problems"] == []

    _open_panel(page)
    for name in names:
        node = _node(page, name)
        node.wait_for()
        assert node.get_attribute("data-status") == "none"
    # Edges of the DAG are drawn with arrows.
    assert page.locator(".jp-mlprod-edge").count() == len(pipeline["edges"])

    # Run pipeline: the form offers typed inputs built from the parameters cells.
    page.click('[data-testid="mlprod-run-button"]')
    form = page.locator('[data-testid="mlprod-run-form"]')
    form.wait_for()
    param_c = page.locator('[data-testid="mlprod-param-C"]')
    assert param_c.get_attribute("type") == "number"
    assert param_c.input_value() == "1.0" or float(param_c.input_value()) == 1.0
    param_c.fill("0.5")
    page.click('[data-testid="mlprod-run-submit"]')
    form.wait_for(state="detached")
    page.wait_for_selector('[data-testid="mlprod-active-run"]')
    # The DAG follows the run live (polling, no reload): a step shows "running".
    page.wait_for_selector('.jp-mlprod-node[data-status="running"]', timeout=RUN_TIMEOUT_MS)
    page.screenshot(path=str(SCREENSHOTS / "pipeline_running.png"))

    _wait_all_nodes(page, lab, names, "succeeded")
    page.wait_for_selector('[data-testid="mlprod-active-run"][data-status="succeeded"]')
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "pipeline_run.png"))

    # Only the changed value was sent.
    _, runs = lab.api("GET", "runs?limit=1")
    run = runs["runs"][0]
    assert run["status"] == "succeeded"
    assert run["parameters"] == {"C": 0.5}
    run_id = run["id"]

    # Runs view: the history table, then the run's step runs.
    page.click('[data-testid="mlprod-tab-runs"]')
    row = page.locator(f'[data-testid="mlprod-runs-row-{run_id}"]')
    row.wait_for()
    assert row.get_attribute("data-status") == "succeeded"
    assert "C=0.5" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "runs_table.png"))
    row.click()
    page.wait_for_selector('[data-testid="mlprod-run-detail"]')
    for name in names:
        step_run = page.locator(f'[data-testid="mlprod-steprun-{name}"]')
        step_run.wait_for()
        assert step_run.get_attribute("data-status") == "succeeded"
    page.screenshot(path=str(SCREENSHOTS / "runs_view.png"))

    # "Open output": the executed notebook, rendered by the server, in the main area.
    page.click('[data-testid="mlprod-open-output-train"]')
    tab = page.locator(
        "#jp-main-dock-panel .lm-TabBar-tabLabel", has_text=f"train — run {run_id}"
    )
    tab.wait_for()
    frame = page.frame_locator('[data-testid="mlprod-output-frame"]')
    frame.locator("text=train accuracy").first.wait_for(timeout=30_000)
    iframe = page.locator('[data-testid="mlprod-output-frame"]')
    assert iframe.get_attribute("sandbox") == ""
    page.screenshot(path=str(SCREENSHOTS / "output_notebook.png"))


def test_click_node_opens_notebook(page, lab):
    _open_panel(page)
    _node(page, "prepare").click()
    page.locator(
        "#jp-main-dock-panel .lm-TabBar-tabLabel", has_text="prepare.ipynb"
    ).wait_for()
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").wait_for()


def test_run_form_shows_server_error(page, lab):
    _open_panel(page)
    page.click('[data-testid="mlprod-run-button"]')
    page.locator('[data-testid="mlprod-run-form"]').wait_for()
    page.locator('[data-testid="mlprod-param-n_rows"]').fill("2.5")
    page.click('[data-testid="mlprod-run-submit"]')
    error = page.locator('[data-testid="mlprod-run-error"]')
    error.wait_for()
    assert "n_rows" in error.inner_text()
    # The input the server blamed (field "parameters.n_rows") is marked.
    page.locator(".jp-mlprod-param.jp-mod-invalid", has=page.locator(
        '[data-testid="mlprod-param-n_rows"]')).wait_for()
    page.screenshot(path=str(SCREENSHOTS / "run_form_error.png"))
    # The form stays open with the message, so the user can fix the value.
    assert page.locator('[data-testid="mlprod-run-form"]').is_visible()


@pytest.fixture
def extra_notebook(lab):
    """An untagged copy of prepare.ipynb, to tag and untag from the UI."""
    src = lab.root / "prepare.ipynb"
    nb = json.loads(src.read_text())
    nb["metadata"].pop("mlprod", None)
    dst = lab.root / "extra.ipynb"
    dst.write_text(json.dumps(nb))
    yield dst
    if dst.exists():
        dst.unlink()
    shutil.rmtree(lab.root / ".ipynb_checkpoints", ignore_errors=True)


def test_tag_and_untag_from_file_browser(extra_notebook, page, lab):
    _open_panel(page)
    # Right-click the notebook in the file browser.
    show_sidebar(page, "filebrowser")
    item = page.locator(".jp-DirListing-item", has_text="extra.ipynb")
    item.first.click(button="right")
    page.locator(
        ".lm-Menu-itemLabel", has_text="MLProd: Tag notebook as pipeline step"
    ).click()

    dialog = page.locator('[data-testid="mlprod-step-dialog"]')
    dialog.wait_for()
    name = page.locator('[data-testid="mlprod-step-name"]')
    assert name.input_value() == "extra"
    # The parameters found in the notebook are listed.
    assert "n_rows" in page.locator('[data-testid="mlprod-step-parameters"]').inner_text()
    page.locator('[data-testid="mlprod-step-outputs"]').fill("data/extra.csv")
    page.locator('[data-testid="mlprod-step-retries"]').fill("2")
    page.screenshot(path=str(SCREENSHOTS / "step_dialog.png"))
    page.click(".jp-Dialog-button.jp-mod-accept")
    dialog.wait_for(state="detached")

    # the dialog closes at once and the panel saves in the background
    deadline = time.monotonic() + 30
    while True:
        status, body = lab.api("GET", "notebooks/step?path=extra.ipynb")
        assert status == 200
        if body["step"] is not None or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert body["step"]["name"] == "extra", body
    assert body["step"]["retries"] == 2
    assert body["step"]["outputs"] == ["data/extra.csv"]

    # The panel shows the new step.
    show_sidebar(page, "mlprod-panel")
    _node(page, "extra").wait_for()

    # Untag it again.
    show_sidebar(page, "filebrowser")
    item.first.click(button="right")
    page.locator(
        ".lm-Menu-itemLabel", has_text="MLProd: Tag notebook as pipeline step"
    ).click()
    dialog.wait_for()
    page.click('.jp-Dialog-button:has-text("Untag")')
    dialog.wait_for(state="detached")
    deadline = time.monotonic() + 10  # the dialog may close before the DELETE answers
    while True:
        status, body = lab.api("GET", "notebooks/step?path=extra.ipynb")
        if (status == 200 and body["step"] is None) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 200 and body["step"] is None
    show_sidebar(page, "mlprod-panel")
    _node(page, "extra").wait_for(state="detached")


def test_tag_dialog_shows_server_error(page, lab):
    """A clash with another step is refused by the server; the dialog stays
    open with the message and the user's input."""
    # Open evaluate.ipynb and use the notebook toolbar button.
    _open_panel(page)
    _node(page, "evaluate").click()
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").wait_for()
    page.locator(
        '.jp-NotebookPanel:not(.lm-mod-hidden) [data-testid="mlprod-tag-toolbar-button"]'
    ).click()
    dialog = page.locator('[data-testid="mlprod-step-dialog"]')
    dialog.wait_for()
    name = page.locator('[data-testid="mlprod-step-name"]')
    assert name.input_value() == "evaluate"
    name.fill("train")  # already the name of train.ipynb
    page.click(".jp-Dialog-button.jp-mod-accept")
    error = page.locator('[data-testid="mlprod-step-error"]')
    error.wait_for()
    assert "train" in error.inner_text()
    assert page.locator('[data-testid="mlprod-step-name"]').input_value() == "train"
    page.screenshot(path=str(SCREENSHOTS / "step_dialog_error.png"))
    page.click(".jp-Dialog-button.jp-mod-reject")
    dialog.wait_for(state="detached")
    _, body = lab.api("GET", "notebooks/step?path=evaluate.ipynb")
    assert body["step"]["name"] == "evaluate"


def test_force_run_live_progress(page, lab):
    """Force re-runs up-to-date steps; the run's detail shows live cell progress."""
    _open_panel(page)
    page.click('[data-testid="mlprod-run-button"]')
    page.locator('[data-testid="mlprod-run-form"]').wait_for()
    page.check('[data-testid="mlprod-run-force"]')
    page.click('[data-testid="mlprod-run-submit"]')
    page.locator('[data-testid="mlprod-active-run"] button').click()  # "details"
    detail = page.locator('[data-testid="mlprod-run-detail"]')
    detail.wait_for()
    page.locator('[data-testid^="mlprod-progress-"]').first.wait_for(
        timeout=RUN_TIMEOUT_MS
    )
    assert page.locator('[data-testid^="mlprod-progress-"]').first.inner_text().startswith(
        "cell "
    )
    page.screenshot(path=str(SCREENSHOTS / "run_live.png"))
    page.locator('[data-testid="mlprod-run-status"][data-status="succeeded"]').wait_for(
        timeout=RUN_TIMEOUT_MS
    )
    statuses = page.eval_on_selector_all(
        '[data-testid^="mlprod-steprun-"]:not([data-testid^="mlprod-steprun-error"])',
        "els => els.map(e => e.getAttribute('data-status'))",
    )
    assert statuses and set(statuses) == {"succeeded"}, statuses
    _, runs = lab.api("GET", "runs?limit=1")
    assert runs["runs"][0]["force"] is True


def test_failed_step_error_and_resume(page, lab):
    """A failing step shows its cell, exception and message; downstream steps
    are skipped with a reason; Resume starts a new run linked to the old one."""
    _open_panel(page)
    page.click('[data-testid="mlprod-run-button"]')
    page.locator('[data-testid="mlprod-run-form"]').wait_for()
    page.locator('[data-testid="mlprod-param-test_size"]').fill("1.5")
    page.click('[data-testid="mlprod-run-submit"]')
    _node(page, "train").and_(page.locator('[data-status="failed"]')).wait_for(
        timeout=RUN_TIMEOUT_MS
    )
    page.locator('[data-testid="mlprod-active-run"][data-status="failed"]').wait_for(
        timeout=RUN_TIMEOUT_MS
    )
    page.locator('[data-testid="mlprod-active-run"] button').click()
    page.locator('[data-testid="mlprod-run-status"][data-status="failed"]').wait_for()
    err = page.locator('[data-testid="mlprod-steprun-error-train"]')
    err.wait_for()
    text = err.inner_text()
    # where, as the output notebook shows it ("In [3]: ..."; the index where it is unknown)
    assert ("In [" in text or "cell index" in text) and "Error" in text and "test_size" in text, text
    assert page.locator('[data-testid="mlprod-steprun-evaluate"]').get_attribute(
        "data-status"
    ) == "skipped"
    assert page.locator('[data-testid="mlprod-reason-evaluate"]').inner_text().strip()
    page.screenshot(path=str(SCREENSHOTS / "run_failed.png"))
    # The step's log opens in the main area.
    page.click('[data-testid="mlprod-open-log-train"]')
    log = page.locator('[data-testid="mlprod-log-text"]')
    log.wait_for()
    assert "test_size" in log.inner_text()

    _, runs = lab.api("GET", "runs?limit=1")
    failed_id = runs["runs"][0]["id"]
    page.click('[data-testid="mlprod-resume-button"]')
    page.locator(".jp-mlprod-title", has_text=f"Run {failed_id + 1}").wait_for()
    page.locator(".jp-mlprod-facts", has_text=f"run {failed_id}").wait_for()
    _, run = lab.api("GET", f"runs/{failed_id + 1}")
    assert run["resumed_from"] == failed_id
    # Same parameters, same failure: the detail follows it to the end.
    page.locator('[data-testid="mlprod-run-status"][data-status="failed"]').wait_for(
        timeout=RUN_TIMEOUT_MS
    )


def test_run_subset_of_steps(page, lab):
    _open_panel(page)
    page.click('[data-testid="mlprod-run-button"]')
    page.locator('[data-testid="mlprod-run-form"]').wait_for()
    page.check('[data-testid="mlprod-run-mode-subset"]')
    page.check('[data-testid="mlprod-run-step-prepare"]')
    # Only the parameters of the chosen steps are offered.
    assert page.locator('[data-testid="mlprod-param-n_rows"]').is_visible()
    assert page.locator('[data-testid="mlprod-param-C"]').count() == 0
    page.click('[data-testid="mlprod-run-submit"]')
    page.locator('[data-testid="mlprod-active-run"]').wait_for()
    page.locator(
        '[data-testid="mlprod-active-run"][data-status="succeeded"]'
    ).wait_for(timeout=RUN_TIMEOUT_MS)
    _, runs = lab.api("GET", "runs?limit=1")
    assert runs["runs"][0]["selection"] == {"steps": ["prepare"], "from": None}


@pytest.fixture
def cycle_notebooks(lab):
    """Two extra steps that read each other's output: a cycle."""
    nb = json.loads((lab.root / "prepare.ipynb").read_text())
    made = []
    for name, reads, writes in (("ping", "pong.csv", "ping.csv"), ("pong", "ping.csv", "pong.csv")):
        nb["metadata"]["mlprod"] = {"step": name, "inputs": [reads], "outputs": [writes],
                                   "after": [], "timeout": 60, "retries": 0}
        path = lab.root / f"{name}.ipynb"
        path.write_text(json.dumps(nb))
        made.append(path)
    yield made
    for path in made:
        path.unlink(missing_ok=True)


def test_pipeline_problems_are_shown(cycle_notebooks, page, lab):
    _open_panel(page)
    page.click('[data-testid="mlprod-refresh-pipeline"]')
    problems = page.locator('[data-testid="mlprod-problems"]')
    problems.wait_for()
    assert "ping" in problems.inner_text() and "pong" in problems.inner_text()
    page.locator('[data-testid="mlprod-problem-cycle"]').wait_for()
    # The steps in the cycle are still drawn, outlined.
    page.locator('.jp-mlprod-node.jp-mod-problem[data-testid="mlprod-step-node-ping"]').wait_for()
    page.screenshot(path=str(SCREENSHOTS / "pipeline_problems.png"))


def test_cancel_a_running_run(page, lab):
    _open_panel(page)
    page.click('[data-testid="mlprod-run-button"]')
    page.locator('[data-testid="mlprod-run-form"]').wait_for()
    page.check('[data-testid="mlprod-run-force"]')
    page.click('[data-testid="mlprod-run-submit"]')
    page.locator('[data-testid="mlprod-active-run"] button').click()
    page.locator('[data-testid="mlprod-steprun-prepare"][data-status="running"]').wait_for(
        timeout=RUN_TIMEOUT_MS
    )
    page.click('[data-testid="mlprod-cancel-button"]')
    page.locator('[data-testid="mlprod-run-status"][data-status="cancelled"]').wait_for(
        timeout=RUN_TIMEOUT_MS
    )
    # A cancelled run can be resumed; nothing can be cancelled any more.
    assert page.locator('[data-testid="mlprod-resume-button"]').is_visible()
    assert page.locator('[data-testid="mlprod-cancel-button"]').count() == 0
    _, runs = lab.api("GET", "runs?limit=1")
    assert runs["runs"][0]["status"] == "cancelled"
