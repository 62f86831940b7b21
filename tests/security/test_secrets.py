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


def test_a_bundle_never_carries_a_secret(tmp_path, opened):  # noqa: F811
    root = small_project(tmp_path / "proj")
    s = SECRETS
    (root / "mlprod.toml").write_text(
        '[project]\nname = "leaky"\n\n[store]\n'
        f'url = "postgresql://prod:{s["store password"]}@127.0.0.1:1/prod"\n\n'
        f"[node]\ndeployment_store_url = 'postgresql://prod:{s['store password']}@db/x'\n")
    project = opened(root, store_url=f"sqlite:///{tmp_path / 'design.db'}")
    project.scenarios.create(secret_scenario(root))

    preview = project.bundles.preview()
    fields = [f["field"] for f in preview["secrets_stripped"]]
    assert fields == ["scenarios[leaky].reporters[0].url", "scenarios[leaky].reporters[0].headers",
                      "scenarios[leaky].reporters[1].url", "scenarios[leaky].triggers[1].url",
                      "mlprod.toml [store] url", "mlprod.toml [node] deployment_store_url"]
    assert "MLPROD_STORE_URL" in preview["secrets_stripped"][4]["note"]
    assert any(n.startswith("secret left out: scenarios[leaky].reporters[0].url: set $MLPROD_")
               for n in preview["notes"])

    bundle = project.bundles.create("no secrets inside")
    archive = project.bundles.export(bundle["id"], tmp_path / "b.tar")["path"]
    manifest = project.bundles.manifest(bundle["id"])
    everything = json.dumps(manifest) + open(archive, "rb").read().decode("latin-1")
    assert leaked(everything) == []
    hook = manifest["scenarios"][0]["reporters"][0]
    assert "url" not in hook and hook["url_env"] == "MLPROD_LEAKY_REPORTER_0_URL"
    # the bundled mlprod.toml is the project's, secrets masked, still valid TOML
    config = next(f for f in manifest["files"] if f["path"] == "mlprod.toml")
    text = project.bundles.blobs.path(config["sha256"]).read_text()
    assert 'name = "leaky"' in text and "prod:***@127.0.0.1:1/prod" in text
    # the project's own file is untouched
    assert s["store password"] in (root / "mlprod.toml").read_text()


def test_a_secret_that_cannot_be_stripped_refuses_the_bundle(tmp_path, opened):  # noqa: F811
    root = small_project(tmp_path / "proj")
    (root / "mlprod.toml").write_text('[alerts]\napi_token = """multi\\u0041line"""\n')
    project = opened(root)
    with pytest.raises(InvalidInput) as err:
        project.bundles.create("refused")
    assert err.value.field == "mlprod.toml" and "api_token" in err.value.message
    assert project.bundles.list()["total"] == 0


def test_a_bundle_made_before_stripping_is_shown_masked(project, monkeypatch):
    import jupyter_mlprod.bundles.collect as collect

    project.scenarios.create(secret_scenario(project.root))
    monkeypatch.setattr(collect, "strip_scenarios", lambda s: (s, []))  # as an older version
    old = project.bundles.create("carries inline secrets")
    assert leaked(json.dumps(project.bundles.manifest(old["id"]))) != []
    shown = mlprod("bundle", "show", old["short_id"], "--json", cwd=project.root)
    assert shown.returncode == 0, shown.stderr
    assert leaked(json.dumps(project.bundles.show(old["id"]))) == []
    assert leaked(shown.stdout) == []
