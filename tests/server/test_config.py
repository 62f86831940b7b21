"""Server configuration: explicit MlprodApp config wins over mlprod.toml; a project that cannot
be opened leaves Jupyter running and every mlprod route answering a clear 503."""
from __future__ import annotations

import shutil

import pytest

from mlprod_api import PREFIX, Contract, operations

OPERATIONS = operations(Contract().doc)


@pytest.fixture
def jp_root_dir(tmp_path):
    root = tmp_path / "jupyter_root"
    root.mkdir()
    return root


@pytest.fixture
def mlprod_config(request, project_root, tmp_path):
    """Each test passes a function (project_root, tmp_path) -> MlprodApp config."""
    return request.param(project_root, tmp_path)


def _required_fields(method: str, route: str) -> dict:
    """A body with just the fields the contract requires (the door checks them before it
    opens the project), each with a value of its type."""
    import yaml
    from importlib.resources import files

    spec = yaml.safe_load(files("jupyter_mlprod.server").joinpath("openapi.yaml").read_text())

    def resolve(schema: dict) -> dict:
        while "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    body = spec["paths"][route].get(method.lower(), {}).get("requestBody", {})
    schema = resolve(body.get("content", {}).get("application/json", {}).get("schema", {}))
    samples = {"string": "prod", "integer": 1, "number": 1, "boolean": True, "array": [],
               "object": {}}
    out = {}
    for field in schema.get("required", []):
        prop = resolve(schema.get("properties", {}).get(field, {}))
        kind = prop.get("type", "string")
        out[field] = prop["enum"][0] if prop.get("enum") else samples.get(
            kind[0] if isinstance(kind, list) else kind, "prod")
    return out


def _request_args(method: str, route: str) -> dict:
    kwargs: dict = {"id": 1, "step": "prepare", "name": "prod"}
    if route == "/notebooks/step":
        kwargs["params"] = {"path": "prepare.ipynb"}
    if route == "/bundles/diff":
        kwargs["params"] = {"a": "latest", "b": "latest"}
    if method == "PUT":
        kwargs["json_body"] = {"step": "prepare", "outputs": ["data/applications.csv"]}
    elif method == "POST":
        # the body's required fields are checked at the door, before the project is opened
        kwargs["json_body"] = _required_fields(method, route)
    return kwargs


@pytest.mark.parametrize("mlprod_config", [lambda root, tmp: {
    "project_root": str(root), "parallelism": 3, "default_timeout": 42,
    "store_url": f"sqlite:///{tmp / 'elsewhere' / 'runs.db'}", "executor": "local"}],
    indirect=True)
async def test_explicit_config_wins_over_mlprod_toml(api, project_root, tmp_path):
    reply = await api.get("/project")
    assert reply.status == 200, reply.body
    assert reply.body == {"name": "loan-approval", "root": str(project_root.resolve()),
                          "store": "sqlite", "executor": "local", "parallelism": 3,
                          "default_timeout": 42}
    assert (tmp_path / "elsewhere" / "runs.db").exists()


@pytest.mark.parametrize("mlprod_config", [lambda root, tmp: {"project_root": "../loan"}],
                         indirect=True)
async def test_relative_project_root_is_below_the_server_root(api, project_root):
    reply = await api.get("/project")
    assert reply.status == 200, reply.body
    assert reply.body["root"] == str(project_root.resolve())
    assert reply.body["parallelism"] == 2  # from mlprod.toml


def _bad_toml(root, tmp):
    (root / "mlprod.toml").write_text("[runs\nparallelism = ")
    return {"project_root": str(root)}


BROKEN = {
    "missing-folder": (lambda root, tmp: {"project_root": str(tmp / "missing")},
                       "does not exist"),
    "store-unreachable": (lambda root, tmp: {"project_root": str(root),
                                             "store_url": "postgresql://127.0.0.1:1/nope"},
                          "cannot reach the store"),
    "store-url-unusable": (lambda root, tmp: {"project_root": str(root),
                                              "store_url": "nosuchdb://x/y"},
                           "store url"),
    "bad-mlprod-toml": (_bad_toml, "not valid TOML"),
    "bad-setting": (lambda root, tmp: {"project_root": str(root), "default_timeout": -5},
                    "default_timeout"),
}


@pytest.mark.parametrize("mlprod_config,words", list(BROKEN.values()), ids=list(BROKEN),
                         indirect=["mlprod_config"])
async def test_unopenable_project_answers_503_everywhere(api, jp_fetch, words):
    for method, route in OPERATIONS:
        reply = await api.request(method, route, **_request_args(method, route))
        if route == "/openapi.json":
            assert reply.status == 200  # the contract needs no project
            continue
        assert reply.status == 503, (method, route, reply.body)
        assert reply.error["code"] == "project_unavailable"
        assert "cannot be opened" in reply.error["message"], reply.error
        assert words in reply.error["message"], reply.error
    # Jupyter itself is up
    status = await jp_fetch("api", "status")
    assert status.code == 200
    reply = await jp_fetch(PREFIX, "nope", raise_error=False)
    assert reply.code == 404


@pytest.mark.parametrize("mlprod_config", [lambda root, tmp: {
    "project_root": str(tmp / "later"), "retry_interval": 0.0}], indirect=True)
async def test_project_opened_once_it_can_be(api, project_root, tmp_path):
    reply = await api.get("/pipeline")
    assert reply.status == 503 and "does not exist" in reply.error["message"]
    shutil.copytree(project_root, tmp_path / "later")
    reply = await api.get("/project")
    assert reply.status == 200, reply.body
    assert reply.body["root"] == str((tmp_path / "later").resolve())


@pytest.mark.parametrize("mlprod_config", [lambda root, tmp: {"project_root": str(root)}],
                         indirect=True)
async def test_an_unexpected_failure_is_a_500_with_a_logged_id(api, project_root, caplog):
    import sqlite3

    assert (await api.get("/runs")).status == 200
    # a real fault, not a mock: the store loses its table under the running server
    with sqlite3.connect(project_root / ".mlprod" / "mlprod.db") as conn:
        conn.execute("DROP TABLE mlprod_step_runs")
        conn.execute("DROP TABLE mlprod_runs")
    reply = await api.get("/runs")
    assert reply.status == 500
    error_id = reply.error["details"]["error_id"]
    assert reply.error["code"] == "internal" and error_id in reply.error["message"]
    assert "no such table" not in reply.error["message"]  # internals stay in the log
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None


@pytest.mark.parametrize("mlprod_config", [lambda root, tmp: {"project_root": str(root)}],
                         indirect=True)
async def test_stopping_the_extension_closes_the_project(api, jp_serverapp):
    assert (await api.get("/project")).status == 200
    app = jp_serverapp.extension_manager.extension_apps["jupyter_mlprod"]
    (ext,) = app
    holder = jp_serverapp.web_app.settings["mlprod_project"]
    assert holder.project is not None
    await ext.stop_extension()
    assert holder.project is None
