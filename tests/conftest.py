"""Shared fixtures: real projects on disk, real stores (SQLite file, PostgreSQL schema)."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "example_notebooks"
PG_BASE = os.environ.get("MLPROD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")

os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


@pytest.fixture
def example_project(tmp_path) -> Path:
    """A fresh copy of the example loan-approval project."""
    root = tmp_path / "loan"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mlprod", "data", "models",
                                                                  "reports", ".ipynb_checkpoints"))
    return root


def write_step(root: Path, name: str, code: str | list[str], *, inputs=(), outputs=(), after=(),
               parameters: str | None = None, timeout: int | None = None, retries: int = 0,
               path: str | None = None, kernel: str = "python3") -> Path:
    """Write a step notebook: an optional `parameters` cell, then one code cell per item."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": "Python 3", "language": "python"}
    meta = {"step": name, "inputs": list(inputs), "outputs": list(outputs), "retries": retries}
    if after:
        meta["after"] = list(after)
    if timeout:
        meta["timeout"] = timeout
    nb.metadata["mlprod"] = meta
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    for source in [code] if isinstance(code, str) else code:
        nb.cells.append(nbformat.v4.new_code_cell(source))
    target = root / (path or f"{name}.ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


@pytest.fixture
def make_step():
    return write_step


@pytest.fixture
def pg_url():
    """A PostgreSQL URL on a schema of its own, dropped afterwards."""
    sa = pytest.importorskip("sqlalchemy")
    schema = f"mlprod_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_BASE)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_BASE} is required for store tests: {exc}")
    yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def open_project():
    """Open projects that close themselves after the test."""
    from jupyter_mlprod.project import Project

    opened: list = []

    def _open(root, **overrides):
        project = Project(root, **overrides)
        opened.append(project)
        return project

    yield _open
    for project in opened:
        project.close()
