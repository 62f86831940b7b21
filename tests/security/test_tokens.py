"""A node token from this server's environment goes only to the node registered with it; a
folder target is a project already (a read never turns a folder into one)."""
from __future__ import annotations

import pytest

from jupyter_mlprod.errors import Conflict, InvalidInput, NotFound
from security_helpers import catcher, opened, small_project  # noqa: F401

TOKEN = "node-token-Zq81"


@pytest.fixture
def design(tmp_path, opened, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MLPROD_NODE_TOKEN", TOKEN)
    monkeypatch.setenv("PROD_NODE_TOKEN", TOKEN)
    return opened(small_project(tmp_path / "design"))


def test_an_unregistered_url_never_receives_the_token(design, catcher):  # noqa: F811
    bundle = design.bundles.create("one")
    for action in (lambda: design.bundles.deployments(catcher.url),
                   lambda: design.bundles.rollback(catcher.url),
                   lambda: design.bundles.deploy(bundle["id"], catcher.url)):
        with pytest.raises(InvalidInput) as err:
            action()
        assert err.value.field == "target" and err.value.code == "unregistered_node"
    assert catcher.seen == []


def test_a_registered_url_gets_its_own_token(design, catcher):  # noqa: F811
    design.bundles.register_node("stage", catcher.url, "PROD_NODE_TOKEN")
    design.bundles.deployments(catcher.url + "/")
    assert catcher.seen == [f"Bearer {TOKEN}"]


@pytest.mark.parametrize("variable", ["HOME", "PATH", "AWS_SECRET_ACCESS_KEY"])
def test_registration_refuses_a_variable_that_is_not_a_token(design, catcher, variable):  # noqa: F811
    with pytest.raises(InvalidInput) as err:
        design.bundles.register_node("evil", catcher.url, variable)
    assert err.value.field == "token_env" and variable in err.value.message
    assert design.bundles.nodes() == []
    assert catcher.seen == []


def test_a_token_goes_to_one_node_only(design, catcher):  # noqa: F811
    design.bundles.register_node("prod", "http://127.0.0.1:9", "PROD_NODE_TOKEN")
    with pytest.raises(Conflict) as err:
        design.bundles.register_node("evil", catcher.url, "PROD_NODE_TOKEN")
    assert err.value.field == "token_env" and "prod" in err.value.message
    assert [n["name"] for n in design.bundles.nodes()] == ["prod"]
    with pytest.raises(InvalidInput):
        design.bundles.deployments(catcher.url)
    assert catcher.seen == []


def test_reading_a_folder_that_is_not_a_project_writes_nothing(design, tmp_path):
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "passwd").write_text("root:x:0:0\n")
    for action in (lambda: design.bundles.deployments(str(folder)),
                   lambda: design.bundles.rollback(str(folder)),
                   lambda: design.bundles.deploy(design.bundles.create("x")["id"], str(folder))):
        with pytest.raises(NotFound) as err:
            action()
        assert err.value.field == "target" and err.value.code == "not_a_project"
    assert sorted(p.name for p in folder.iterdir()) == ["passwd"]
    # an empty folder may receive a first deployment; then it is a project
    empty = tmp_path / "prodfolder"
    empty.mkdir()
    with pytest.raises(NotFound):
        design.bundles.deployments(str(empty))
    assert list(empty.iterdir()) == []
    design.bundles.deploy(design.bundles.list()["bundles"][0]["id"], str(empty))
    assert design.bundles.deployments(str(empty))["total"] == 1
