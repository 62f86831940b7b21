"""Secrets never leave the place they are kept: scenario views (service, CLI text and --json),
validation echoes, and error messages naming an environment variable never show a credential."""
from __future__ import annotations

import json

import pytest

from jupyter_mlprod.errors import InvalidInput
from jupyter_mlprod.masking import MASK
from security_helpers import (SECRETS, leaked, mlprod, opened, secret_scenario,  # noqa: F401
                              small_project)


@pytest.fixture
def project(tmp_path, opened):  # noqa: F811
    return opened(small_project(tmp_path / "proj"))


def test_scenario_views_mask_every_credential(project):
    svc = project.scenarios
    spec = secret_scenario(project.root)
    checked = svc.validate(spec)
    assert checked["valid"], checked["errors"]
    made = svc.create(spec)
    views = {"validate": checked, "create": made, "get": svc.get("leaky"), "list": svc.list()}
    for name, view in views.items():
        assert leaked(json.dumps(view)) == [], name
    hook = made["reporters"][0]
    assert hook["headers"] == {"Authorization": MASK}
    assert hook["url"] == f"https://bot:{MASK}@hooks.example.com?token={MASK}&channel={MASK}"
    assert made["triggers"][1]["url"].startswith(f"sqlite://reader:{MASK}@/orders.db?password=")


def test_a_masked_view_sent_back_keeps_the_stored_secrets(project):
    svc = project.scenarios
    made = svc.create(secret_scenario(project.root))
    view = svc.get(made["id"])
    view["description"] = "edited through the panel"
    svc.update(made["id"], view)
    stored = project.scenarios.repo.get_scenario(made["id"])["spec"]
    hook = stored["reporters"][0]
    assert hook["headers"]["Authorization"] == f"Bearer {SECRETS['webhook header']}"
    assert SECRETS["webhook query"] in hook["url"] and SECRETS["webhook userinfo"] in hook["url"]
    assert SECRETS["sql query password"] in stored["triggers"][1]["url"]
    # a header changed on purpose is taken as given
    view = svc.get(made["id"])
    view["reporters"][0]["headers"] = {"Authorization": "Bearer new", "X-Extra": "1"}
    svc.update(made["id"], view)
    stored = project.scenarios.repo.get_scenario(made["id"])["spec"]
    assert stored["reporters"][0]["headers"] == {"Authorization": "Bearer new", "X-Extra": "1"}


def test_cli_scenario_show_and_json_mask_every_credential(project):
    project.scenarios.create(secret_scenario(project.root))
    outputs = [mlprod("scenario", "show", "leaky", cwd=project.root),
               mlprod("scenario", "show", "leaky", "--json", cwd=project.root),
               mlprod("scenario", "list", "--json", cwd=project.root)]
    for done in outputs:
        assert done.returncode == 0, done.stderr
        assert leaked(done.stdout + done.stderr) == [], done.args


@pytest.mark.parametrize("variable", ["HOME", "PATH", "MLPROD_TEST_SECRET_VALUE"])
def test_errors_name_an_environment_variable_never_its_value(project, monkeypatch, variable):
    monkeypatch.setenv("MLPROD_TEST_SECRET_VALUE", "ftp://user:envS3cr3t@example.com/x")
    value = __import__("os").environ[variable]
    svc = project.scenarios
    for kind, trigger_or_reporter in (
            ("reporters", {"type": "webhook", "url_env": variable}),
            ("triggers", {"type": "sql", "url_env": variable, "query": "SELECT 1"})):
        spec = {"name": "envy", "triggers": [{"type": "manual"}], "run": {"steps": ["prepare"]}}
        spec[kind] = [trigger_or_reporter] + ([] if kind == "reporters" else spec["triggers"])
        result = svc.validate(spec, deep=True)
        assert not result["valid"], result
        text = json.dumps(result)
        assert value not in text and "envS3cr3t" not in text
        assert variable in text
        with pytest.raises(InvalidInput) as err:
            svc.create(spec)
        assert value not in str(err.value.message) and err.value.field.endswith("url_env")
