"""Fixtures of the serving tests: real projects, real serving processes on loopback."""
from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving_helpers import BATCH_SCORE, write_echo, write_scoring_notebook  # noqa: E402

from jupyter_mlprod.project import Project

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent.parent / "example_notebooks"


@dataclasses.dataclass
class Lab:
    root: Path
    project: Project
    server: object  # ServerHandle
    key: str  # the `secure` endpoint's key

    @property
    def service(self):
        return self.project.endpoints

    @property
    def url(self) -> str:
        return self.server.url

    def at(self, endpoint: str, path: str = "predict") -> str:
        return f"{self.server.url}/{endpoint}/{path}"


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """One project with small endpoints of every kind, served by two worker processes."""
    root = tmp_path_factory.mktemp("lab")
    (root / "mlprod.toml").write_text('[project]\nname = "lab"\n')
    project = Project(root)
    service = project.endpoints
    write_echo(root, "echo", "a")
    service.create("echo", notebook="echo.ipynb",
                   options={"timeout_ms": 500, "max_body_bytes": 65536})
    for tag in ("a", "b", "c"):
        write_echo(root, f"ab_{tag}", tag)
    service.create("ab", notebook="ab_a.ipynb")
    service.add_version("ab", notebook="ab_b.ipynb")
    service.add_version("ab", notebook="ab_c.ipynb")
    write_echo(root, "switch_a", "a")
    service.create("switch", notebook="switch_a.ipynb")
    write_scoring_notebook(root / "batch.ipynb", setup=["import time"],
                           sample='request = {"id": 0, "x": 2.0}', score=BATCH_SCORE)
    service.create("batch", notebook="batch.ipynb",
                   options={"batching": {"enabled": True, "max_batch": 64, "max_wait_ms": 5}})
    shutil.copy(HERE / "kg_notebook.ipynb", root / "kg.ipynb")
    service.create("kg", notebook="kg.ipynb")
    write_echo(root, "secure", "s")
    service.create("secure", notebook="secure.ipynb")
    key = service.create_key("secure", "tests")["key"]
    write_scoring_notebook(
        root / "logged.ipynb", setup=[],
        sample='request = {"id": 1, "ssn": "000-00-0000", "applicant": {"name": "x", "city": "y"},'
               ' "amount": 1.0}',
        score="response = {'id': request['id'], 'double': request['amount'] * 2, "
              "'ssn': request['ssn']}")
    service.create("logged", notebook="logged.ipynb",
                   options={"prediction_log": {"enabled": True, "redact": ["ssn", "applicant.name"]}})
    server = service.serve(workers=2, poll_interval=0.2)
    yield Lab(root, project, server, key)
    server.stop()
    project.close()


@pytest.fixture(scope="session")
def loan(tmp_path_factory):
    """The example loan project with its data and model made by its own prepare and train
    steps (papermill, real kernels)."""
    import papermill

    root = tmp_path_factory.mktemp("loan") / "loan"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(
        ".mlprod", "data", "models", "reports", ".ipynb_checkpoints"))
    for step, parameters in (("prepare", {"n_rows": 600}), ("train", {})):
        papermill.execute_notebook(str(root / f"{step}.ipynb"), str(root / f".{step}.out.ipynb"),
                                   parameters=parameters, kernel_name="python3", cwd=str(root),
                                   progress_bar=False)
    project = Project(root)
    yield project
    project.close()
