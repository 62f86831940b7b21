"""Server tests: a real Jupyter server (pytest-jupyter) with the mlprod extension enabled and
token auth on, talking HTTP on loopback. Every response goes through `api`, which validates it
against the OpenAPI contract of its route and status, so the contract cannot drift."""
from __future__ import annotations

from pathlib import Path

import pytest
from traitlets.config import Config

# pytest-jupyter's fixtures (jp_fetch, jp_serverapp, jp_server_config, ...) and its async test
# runner, scoped to this folder. Star-imported rather than `pytest_plugins`, which pytest only
# accepts in the rootdir's conftest.
from pytest_jupyter.jupyter_server import *  # noqa: F401,F403

from mlprod_api import Api, Contract


@pytest.fixture(scope="session")
def contract() -> Contract:
    return Contract()


@pytest.fixture
def project_root(example_project) -> Path:
    """The project the server opens; by default a fresh copy of the example project."""
    return example_project


@pytest.fixture
def mlprod_config() -> dict:
    """Extra `MlprodApp` traitlets config for a test (override the fixture or parametrize)."""
    return {}


@pytest.fixture
def jp_root_dir(project_root) -> Path:
    # The project is the server's root_dir, so MlprodApp.project_root's default is exercised.
    return project_root


@pytest.fixture
def jp_server_config(mlprod_config) -> Config:
    return Config({"ServerApp": {"jpserver_extensions": {"jupyter_mlprod": True}},
                   "MlprodApp": dict(mlprod_config)})


@pytest.fixture
def api(jp_fetch, contract) -> Api:
    return Api(jp_fetch, contract)
