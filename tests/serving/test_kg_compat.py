"""Kernel Gateway notebook-http semantics in this process (no server): setup as a KG kernel runs
it, the namespace shared by routes and ResponseInfo cells, route timeouts. KG's own tests, over
HTTP, are in peers/kernel_gateway."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import nbformat
import pytest
from peer_helpers import PACKAGE_HOME
from serving_helpers import write_echo

from jupyter_mlprod.serving import kg_compat
from jupyter_mlprod.serving.config import merge_options
from jupyter_mlprod.serving.deadline import Deadline
from jupyter_mlprod.serving.engine import LoadedVersion
from jupyter_mlprod.serving.notebook_cells import split_notebook

SETUP = ("import os, time\n"
         "!echo set up by a shell command > shell.txt\n"
         "%load_ext some_extension_we_do_not_have\n"
         "GUARD = os.environ.get('KERNEL_GATEWAY')\n"
         "SHELL_SAID = open('shell.txt').read().strip()\n"
         "contacts = {}")
ROUTES = (
    "# GET /guard  answers what a client-side guard would see\nprint(GUARD, SHELL_SAID)",
    "# PUT /contacts/:id\nreq = json.loads(REQUEST)\nfound = req['path']['id'] in contacts\n"
    "contacts[req['path']['id']] = req['body']\nstatus = 200 if found else 201",
    "# ResponseInfo PUT /contacts/:id\nprint(json.dumps({'status': status}))",
    "# GET /contacts\nsorted(contacts)",
    "# GET /slow\ntime.sleep(0.3)\nprint('done')",
)


@pytest.fixture(autouse=True)
def _kernel_gateway_env(monkeypatch):
    monkeypatch.delenv("KERNEL_GATEWAY", raising=False)  # setup sets it; the tests' process keeps none


def _version(tmp_path, options=None) -> LoadedVersion:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in ("import json", SETUP, *ROUTES)]
    spec = split_notebook(nb, "contacts.ipynb")
    return LoadedVersion("contacts", "v1", spec, tmp_path, merge_options(None, options),
                         Deadline()).load()


def _call(version, method, path, body=""):
    route, params = kg_compat.match(version.routes, method, path)
    assert route is not None, (method, path, params)
    request = json.dumps({"body": body, "args": {}, "path": params, "headers": {}})
    return kg_compat.run(version, route, request)


def test_setup_runs_like_a_kernel_and_state_persists_between_requests(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="jupyter_mlprod.serving"):
        version = _version(tmp_path)
    # KERNEL_GATEWAY=1, the shell command ran, the magic was skipped with a logged reason;
    # the route's first line has a description after its path
    assert _call(version, "GET", "/guard") == (200, {"Content-Type": "text/plain"},
                                               "1 set up by a shell command\n")
    assert "skipping %load_ext some_extension_we_do_not_have" in caplog.text
    # the ResponseInfo cell sees the handler's variables; assignments persist
    assert _call(version, "PUT", "/contacts/ada", "Ada")[0] == 201
    assert _call(version, "PUT", "/contacts/ada", "Ada L.")[0] == 200
    assert _call(version, "PUT", "/contacts/alan", "Alan")[0] == 201
    assert _call(version, "GET", "/contacts")[2] == json.dumps({"text/plain": "['ada', 'alan']"})
    assert version.namespace["contacts"] == {"ada": "Ada L.", "alan": "Alan"}


def test_routes_have_no_scoring_timeout_unless_kg_timeout_ms_is_set(tmp_path):
    # the scoring timeout of mlprod cells does not apply to Kernel Gateway routes
    assert _call(_version(tmp_path, {"timeout_ms": 100}), "GET", "/slow")[0] == 200
    status, _, body = _call(_version(tmp_path, {"kg_timeout_ms": 100}), "GET", "/slow")
    assert status == 504 and "kg_timeout_ms" in body


def test_kg_root_refuses_a_notebook_that_is_not_kernel_gateways(tmp_path):
    (tmp_path / "mlprod.toml").write_text('[project]\nname = "kg"\n')
    write_echo(tmp_path, "echo", "a")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (PACKAGE_HOME, os.environ.get("PYTHONPATH")) if p))
    done = subprocess.run([sys.executable, "-m", "jupyter_mlprod.cli", "serve", "echo.ipynb",
                           "--kg-root", "--port", "0"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 2
    assert "--kg-root serves one Kernel Gateway notebook" in done.stderr.splitlines()[-1]
