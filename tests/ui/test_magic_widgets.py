"""The magics' widgets in a real JupyterLab: `%mlprod params` shows a form whose Run starts the
step with the typed value and follows it live; `%mlprod run`'s Cancel button cancels a long
step. Screenshots are saved for a person to look at."""
from __future__ import annotations

from pathlib import Path

import nbformat

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def _write_notebooks(root) -> None:
    slow = nbformat.v4.new_notebook()
    slow.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    slow.metadata["mlprod"] = {"step": "slow", "inputs": [], "outputs": ["never.txt"]}
    slow.cells = [nbformat.v4.new_code_cell("import time"),
                  nbformat.v4.new_code_cell("time.sleep(300)")]
    nbformat.write(slow, root / "slow.ipynb")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = slow.metadata["kernelspec"]
    nb.cells = [nbformat.v4.new_code_cell("%load_ext jupyter_mlprod\n%mlprod params prepare.ipynb"),
                nbformat.v4.new_code_cell("%mlprod run --steps slow")]
    nbformat.write(nb, root / "widgets.ipynb")


def _run_cell(page, index: int) -> None:
    """Run one cell as a person does (click, Shift+Enter), once the kernel is idle."""
    page.wait_for_function(
        "() => document.querySelector('.jp-StatusBar-Widget') && "
        "/ipykernel\\) \\| Idle/.test(document.body.innerText)", timeout=120_000)
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").nth(index)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    cell.locator(".jp-InputPrompt", has_text="[").filter(has_not_text="[ ]").wait_for(
        timeout=30_000)


def test_params_form_runs_and_cancel_button_cancels(page, lab):
    _write_notebooks(lab.root)
    page.goto(f"{lab.url}/lab/tree/widgets.ipynb?token={lab.token}")
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").wait_for(timeout=60_000)
    _run_cell(page, 0)

    form = page.locator(".mlprod-params")
    form.wait_for(timeout=120_000)
    rows = form.locator(".mlprod-param-n_rows input")
    assert rows.input_value() == "2000"
    rows.fill("40")
    rows.press("Enter")  # IntText syncs its value on Enter / blur
    form.locator(".mlprod-params-run").click()
    header = form.locator(".mlprod-run-header")
    header.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => /run 1 (succeeded|failed|cancelled)/.test("
        "document.querySelector('.mlprod-params .mlprod-run-header')?.textContent || '')",
        timeout=240_000)
    assert "run 1 succeeded" in header.inner_text(), form.inner_text()
    # widget models update one by one in the browser; the row follows the header within moments
    page.wait_for_function(
        "() => (document.querySelector('.mlprod-params .mlprod-run-step')?.textContent || '')"
        ".includes('succeeded')", timeout=10_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    form.screenshot(path=str(SCREENSHOTS / "magic_params_form.png"))
    csv = (lab.root / "data" / "applications.csv").read_text().splitlines()
    assert len(csv) == 40 + 1
    code, run = lab.api("GET", "runs/1")
    assert code == 200 and run["parameters"] == {"prepare.n_rows": 40}, run

    _run_cell(page, 1)
    live = page.locator(".jp-CodeCell").nth(1).locator(".mlprod-run")
    live.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mlprod-run-step')]"
        ".some(e => e.textContent.includes('slow') && e.textContent.includes('running'))",
        timeout=120_000)
    live.locator(".mlprod-run-cancel").click()
    page.wait_for_function(
        "() => /run 2 cancelled/.test([...document.querySelectorAll('.mlprod-run-header')]"
        ".map(e => e.textContent).join(' '))", timeout=120_000)
    assert "cancelled" in live.locator(".mlprod-run-step").inner_text()
    live.screenshot(path=str(SCREENSHOTS / "magic_run_cancelled.png"))
    code, run = lab.api("GET", "runs/2")
    assert code == 200 and run["status"] == "cancelled", run
    assert not (lab.root / "never.txt").exists()
