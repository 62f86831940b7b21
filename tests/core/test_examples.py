"""The example project as a newcomer meets it: its libraries come with the command the README
gives, and opening its notebooks in JupyterLab changes nothing on disk."""
from __future__ import annotations

import ast
import importlib.metadata
import re
import shlex
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "example_notebooks"
NOTEBOOKS = sorted(EXAMPLE.glob("*.ipynb"))


def _normal(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _extra(name: str) -> set[str]:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    return {_normal(re.split(r"[\s<>=!~;\[]", req, maxsplit=1)[0]) for req in extras[name]}


def _imported_modules(path: Path) -> set[str]:
    """Top-level modules the notebook's code cells import (magics and shell lines left out)."""
    modules = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines()
                         if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names)


def test_the_examples_extra_provides_every_library_the_example_imports():
    provided = _extra("examples")
    installed = importlib.metadata.packages_distributions()
    assert NOTEBOOKS, "no example notebooks found"
    for path in NOTEBOOKS:
        for module in sorted(_imported_modules(path) - {"jupyter_mlprod"}):  # the package itself
            dists = {_normal(d) for d in installed.get(module, [])}
            assert dists, f"{path.name} imports {module}, which no installed distribution provides"
            assert dists & provided, (f"{path.name} imports {module} (from {sorted(dists)}), "
                                      f"missing from the `examples` extra {sorted(provided)}")
    # The test extra keeps the examples' libraries, declared once, by naming the extra.
    assert "jupyter-mlprod" in _extra("test")
    assert "jupyter_mlprod[examples]" in tomllib.loads(
        (REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]


def test_the_start_command_installs_the_examples_extra():
    installs = [shlex.split(line) for line in (REPO / "scripts" / "start.sh").read_text().splitlines()
                if "pip install" in line and not line.lstrip().startswith(("#", "echo"))]
    assert installs, "scripts/start.sh installs nothing"
    targets = [word for words in installs for word in words if word.startswith("$ROOT")]
    assert targets == ["$ROOT[examples]"], targets


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_an_example_notebook_is_saved_back_unchanged(path, tmp_path):
    """JupyterLab sets kernelspec and language_info from the running kernel when a notebook
    opens (a no-op when they are equal) and saves through the contents manager: with the
    metadata it would write already there, opening and saving leaves the file as it is."""
    from ipykernel.ipkernel import IPythonKernel
    from jupyter_server.services.contents.filemanager import FileContentsManager

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    assert all(cell.get("id") for cell in nb.cells), "every cell needs an id (nbformat 4.5)"
    assert nb.metadata.kernelspec == {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                      "language": "python"}
    kernel_info = dict(IPythonKernel.language_info)
    written = dict(nb.metadata.language_info)
    # The Python version is whatever the file was last saved with; the rest is the kernel's.
    assert written.pop("version", None), "language_info.version is missing"
    kernel_info.pop("version")
    assert written == kernel_info

    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    contents = FileContentsManager(root_dir=str(tmp_path))
    model = contents.get(path.name, content=True, type="notebook")
    contents.save({"type": "notebook", "format": "json", "content": model["content"]}, path.name)
    assert copy.read_bytes() == path.read_bytes()
