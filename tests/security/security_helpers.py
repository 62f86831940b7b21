"""Shared pieces of the security suite: projects on disk (real stores), secrets to look for,
and the `mlprod` command in a subprocess running this checkout's code."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_mlprod.project import Project

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
from conftest import write_step  # noqa: E402

# each secret is a distinct word, so a leak names the place it leaked from
SECRETS = {"webhook query": "tokQ9x7", "webhook userinfo": "pwU4k2m", "webhook header": "hdrH8z1",
           "sql query password": "sqlP3n6", "sql userinfo": "sqlU5v0", "webhook path": "pathS2q8",
           "store password": "stoR7w3"}


def leaked(text: str) -> list[str]:
    """Which secrets appear in a text (a JSON dump, a CLI output, an archive's bytes)."""
    return sorted(k for k, v in SECRETS.items() if v in text)


def secret_scenario(root: Path, name: str = "leaky") -> dict:
    """A scenario carrying every kind of inline secret the audit found shown unmasked."""
    s = SECRETS
    return {"name": name,
            "triggers": [{"type": "manual"},
                         {"type": "sql", "url": f"sqlite://reader:{s['sql userinfo']}@/orders.db"
                          f"?password={s['sql query password']}",
                          "query": "SELECT count(*) FROM orders", "poll": 30}],
            "run": {"steps": ["prepare"]},
            "reporters": [{"type": "webhook", "when": "failure",
                           "url": f"https://bot:{s['webhook userinfo']}@hooks.example.com"
                           f"?token={s['webhook query']}&channel=ops",
                           "headers": {"Authorization": f"Bearer {s['webhook header']}"}},
                          {"type": "webhook", "when": "failure",
                           "url": f"https://hooks.example.com/services/{s['webhook path']}"
                           f"?sig={s['webhook query']}"}]}


def orders_db(root: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(root / "orders.db")
    conn.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER)")
    conn.commit()
    conn.close()


def small_project(root: Path) -> Path:
    """One step writing one output: enough for scenarios and bundles, no kernel needed."""
    write_step(root, "prepare", "open('out.txt', 'w').write('x')", outputs=["out.txt"])
    orders_db(root)
    return root


@pytest.fixture
def opened():
    projects = []

    def open_project(root, **overrides) -> Project:
        Path(root).mkdir(parents=True, exist_ok=True)
        config = Path(root) / "mlprod.toml"  # a project, as the CLI requires
        if not config.exists():
            config.write_text(f'[project]\nname = "{Path(root).name}"\n', encoding="utf-8")
        project = Project(root, parallelism=1, **overrides)
        projects.append(project)
        return project

    yield open_project
    for project in projects:
        project.close()


def mlprod(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "jupyter_mlprod.cli", *args], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=120)


def mlprod_json(*args: str, cwd: Path, env: dict | None = None):
    done = mlprod(*args, "--json", cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class HeaderCatcher:
    """An HTTP server on loopback that records the Authorization header of every request (a
    stranger's URL a token must never reach)."""

    def __init__(self):
        import http.server
        import threading

        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self):
                seen.append(self.headers.get("Authorization"))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def catcher():
    server = HeaderCatcher()
    yield server
    server.close()
