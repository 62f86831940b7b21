"""Fixtures for the panel's browser tests: a real `jupyter lab` on loopback
serving a copy of example_notebooks/, and Debian's Chromium driven by
Python Playwright (no browser download: never `playwright install`)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "example_notebooks"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
FAILURES = Path(__file__).resolve().parent / "failures"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen

    def api(self, method: str, path: str, body: object | None = None):
        """Call the mlprod REST API; returns (status, parsed JSON or text)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}/mlprod/api/v1/{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"token {self.token}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's Chromium is missing at /usr/bin/chromium "
            "(scripts/test.sh installs it with `apt-get install -y chromium`)"
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def lab(tmp_path_factory, chromium_path) -> Lab:
    """`jupyter lab` on a free loopback port, with isolated config, data and
    settings dirs, serving a fresh copy of example_notebooks/."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "project"
    shutil.copytree(
        EXAMPLES,
        root,
        ignore=shutil.ignore_patterns(".mlprod", ".ipynb_checkpoints", "__pycache__"),
    )
    settings = base / "settings"
    notif = settings / "@jupyterlab" / "apputils-extension"
    notif.mkdir(parents=True)
    (notif / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    for d in ("config", "data", "runtime", "workspaces"):
        (base / d).mkdir()

    env = dict(os.environ)
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        PYTHONUNBUFFERED="1",
    )
    # Kernels and the server run from the same venv as the tests.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"

    port = _free_port()
    token = secrets.token_hex(16)
    log = base / "jupyter.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--allow-root",
        "--no-browser",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--ip=127.0.0.1",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Lab(f"http://127.0.0.1:{port}", token, root, log, proc)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited ({proc.returncode}):\n{server.log_tail()}")
            try:
                status, _ = server.api("GET", "project")
                if status == 200:
                    break
                if status != 404 or time.monotonic() > deadline:
                    pytest.fail(
                        f"GET project answered {status}:\n{server.log_tail()}"
                    )
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer in 60 s:\n{server.log_tail()}")
            time.sleep(0.3)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, lab, request):
    """JupyterLab loaded and ready; console errors are printed on failure."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    messages: list[str] = []
    pg.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    pg.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    pg.set_default_timeout(30_000)
    pg.goto(f"{lab.url}/lab?token={lab.token}")
    pg.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    pg.wait_for_selector('.jp-SideBar .lm-TabBar-tab[data-id="mlprod-panel"]')
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        FAILURES.mkdir(exist_ok=True)
        try:
            pg.screenshot(path=str(FAILURES / f"{request.node.name}.png"))
        except Exception:  # noqa: BLE001 - best effort on failure
            pass
        print("\n--- browser console ---\n" + "\n".join(messages[-80:]))
        print("\n--- jupyter log ---\n" + lab.log_tail(120))
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
