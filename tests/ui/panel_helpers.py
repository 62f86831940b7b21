"""Browser moves every panel test needs: show a sidebar panel, widen it; train the example."""
from __future__ import annotations

import json
import time

import pytest


def show_sidebar(page, widget_id: str) -> None:
    """Show a left-sidebar panel (clicking its tab again would close it)."""
    tab = page.locator(f'.jp-SideBar .lm-TabBar-tab[data-id="{widget_id}"]')
    shown = page.locator(f"#{widget_id}:not(.lm-mod-hidden)")
    for _ in range(5):  # the restored layout may still be settling: retry
        if "lm-mod-current" not in (tab.get_attribute("class") or ""):
            tab.click()
        try:
            shown.wait_for(timeout=3_000)
            return
        except Exception:  # noqa: BLE001 - try again
            if "lm-mod-current" in (tab.get_attribute("class") or ""):
                tab.click()  # current but collapsed: toggle off, then on again
    shown.wait_for()


def widen_sidebar(page, width: int = 440) -> None:
    """Drag the left sidebar's split handle so the panel is wide enough to read."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)").first
    box = handle.bounding_box()
    if box is None:
        return
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(width, y, steps=5)
    page.mouse.up()


def assert_no_sideways_overflow(page, panel_id: str = "mlprod-panel", what: str = "") -> None:
    """The panel's view content is no wider than the panel: nothing cut off at the side."""
    wide, room = page.eval_on_selector(
        f"#{panel_id} .jp-mlprod-tabcontent", "el => [el.scrollWidth, el.clientWidth]")
    assert wide <= room + 1, f"{what}: content {wide} px wide in {room} px"


def train_example(lab) -> None:
    """Run the example's prepare and train steps through the REST API (the model scoring needs)."""
    status, run = lab.api("POST", "runs", {"steps": ["prepare", "train"]})
    assert status in (200, 201, 202), run
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        _, detail = lab.api("GET", f"runs/{run['id']}")
        if detail["status"] in ("succeeded", "failed", "cancelled"):
            assert detail["status"] == "succeeded", json.dumps(detail)[:2000]
            return
        time.sleep(1)
    pytest.fail("training did not finish in 240 s")
