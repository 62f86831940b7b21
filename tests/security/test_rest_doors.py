"""The REST door: scenario responses mask every credential; `/nodes/{name}/deployments` sends
no token to an unregistered URL and never turns a folder into a project; `?path=` through a
symlink out of the project is refused. A real Jupyter server with the extension, on loopback."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F401,F403
from traitlets.config import Config

from mlprod_api import PREFIX, Api, Contract
from security_helpers import catcher, leaked, secret_scenario, small_project  # noqa: F401

TOKEN = "node-token-Rr55"


@pytest.fixture
def jp_root_dir(tmp_path) -> Path:
    return small_project(tmp_path / "proj")


@pytest.fixture
def jp_server_config() -> Config:
    return Config({"ServerApp": {"jpserver_extensions": {"jupyter_mlprod": True}}})


@pytest.fixture
def call(jp_serverapp, jp_fetch, io_loop, http_server_client, jp_auth_header, jp_base_url):
    """Run one request to completion from a plain (sync) test: (method, route, body,
    path value encoded once as a browser does) -> (status, JSON)."""
    contract = Contract()
    api = Api(jp_fetch, contract)

    def request(method, route, body=..., *, name=None, **values):
        async def go():
            if name is None:
                reply = await api.request(method, route, json_body=body, **values)
                return reply.status, reply.body
            path = route.replace("{name}", quote(name, safe=""))
            response = await http_server_client.fetch(
                f"{jp_base_url}{PREFIX}{path}", method=method, headers=dict(jp_auth_header),
                body=None if body is ... else json.dumps(body), raise_error=False,
                request_timeout=60)
            decoded = contract.check(method, route, response.code,
                                     response.headers.get("Content-Type"), response.body or b"")
            return response.code, decoded

        return io_loop.run_sync(go)

    return request


def test_scenario_responses_mask_every_credential(call, jp_root_dir):
    spec = secret_scenario(jp_root_dir)
    status, checked = call("POST", "/scenarios/validate", spec)
    assert status == 200 and checked["valid"], checked
    status, made = call("POST", "/scenarios", spec)
    assert status == 201, made
    replies = [checked, made, call("GET", "/scenarios")[1],
               call("GET", "/scenarios/{id}", id=made["id"])[1]]
    assert [leaked(json.dumps(r)) for r in replies] == [[], [], [], []]
    # the panel saves the view it read: the stored secrets stay
    view = replies[3]
    view["description"] = "edited"
    status, saved = call("PUT", "/scenarios/{id}", view, id=made["id"])
    assert status == 200, saved
    assert leaked(json.dumps(saved)) == []


def test_no_token_to_an_unregistered_url_and_no_project_made_by_a_read(call, catcher, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setenv("MLPROD_NODE_TOKEN", TOKEN)
    status, body = call("GET", "/nodes/{name}/deployments", name=catcher.url)
    assert status == 400 and body["error"]["field"] == "target", body
    status, body = call("POST", "/nodes", {"name": "evil", "url": catcher.url, "token_env": "HOME"})
    assert status == 400 and body["error"]["field"] == "token_env", body
    assert catcher.seen == []
    folder = tmp_path / "some_system_folder"
    folder.mkdir()
    (folder / "hosts").write_text("127.0.0.1 localhost\n")
    status, body = call("GET", "/nodes/{name}/deployments", name=str(folder))
    assert status == 404 and body["error"]["field"] == "target", body
    assert [p.name for p in folder.iterdir()] == ["hosts"]


def test_a_path_parameter_through_a_symlink_out_is_refused(call, jp_root_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(jp_root_dir / "prepare.ipynb", outside / "copy.ipynb")
    os.symlink(outside, jp_root_dir / "elsewhere")
    os.symlink(outside / "copy.ipynb", jp_root_dir / "linked.ipynb")
    before = (outside / "copy.ipynb").read_text()
    for path in ("elsewhere/copy.ipynb", "linked.ipynb"):
        for method, body in (("GET", ...), ("PUT", {"name": "x"}), ("DELETE", ...)):
            status, reply = call(method, "/notebooks/step", body, params={"path": path})
            assert status == 400 and reply["error"]["field"] == "path", reply
            assert "outside the project" in reply["error"]["message"]
    assert (outside / "copy.ipynb").read_text() == before
