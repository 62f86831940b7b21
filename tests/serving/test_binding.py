"""Bound beyond loopback, every endpoint needs an API key. This is the only test that binds
0.0.0.0; it talks to the server over 127.0.0.1 only."""
from __future__ import annotations

import pytest
import requests
from serving_helpers import post, write_echo

from jupyter_mlprod.errors import InvalidInput
from jupyter_mlprod.project import Project


def test_binding_beyond_loopback_requires_keys(tmp_path):
    project = Project(tmp_path)
    try:
        service = project.endpoints
        write_echo(tmp_path, "open", "o")
        service.create("open", notebook="open.ipynb")
        with pytest.raises(InvalidInput) as info:
            service.serve(["open"], host="0.0.0.0", workers=1)
        assert info.value.code == "keys_required" and "create a key" in info.value.message
        key = service.create_key("open", "prod")["key"]
        server = service.serve(["open"], host="0.0.0.0", workers=1)
        try:
            url = f"http://127.0.0.1:{server.port}/open/predict"
            body = {"id": 1, "text": "x", "pause": 0, "fail": False}
            denied = post(url, body)
            assert denied.status_code == 401 and denied.headers["WWW-Authenticate"].startswith("Bearer")
            assert post(url, body, key=key + "x").status_code == 401
            assert post(url, body, key=key).json()["id"] == 1
            assert requests.get(f"http://127.0.0.1:{server.port}/health").status_code == 200
            doc = requests.get(f"http://127.0.0.1:{server.port}/open/openapi.json",
                               headers={"X-API-Key": key}).json()
            assert doc["security"]  # the document says a key is needed
        finally:
            server.stop()
        assert not server.alive and service.servers() == []
    finally:
        project.close()
