"""Split a scoring notebook into setup / score / sample / skip cells.

Two conventions are understood:
- mlprod: one code cell tagged `mlprod-score` reads `request` and sets `response`; cells tagged
  `mlprod-sample` define a sample `request` (run only in the notebook); cells tagged `mlprod-skip`
  never run when serving; every other code cell is setup, run once at start.
- Kernel Gateway (notebook-http): cells whose first line is `# GET /path` (any method) handle a
  route, `# ResponseInfo POST /path` cells print the response's status and headers; `REQUEST` is
  a JSON string, stdout is the response body; every other code cell is setup. As in Kernel
  Gateway, several cells on one route run as one cell (their sources joined in notebook order),
  and text after the path on the first line is a description, not part of the path. A route cell
  with a syntax error is kept: only that route answers 500 (see kg_compat.py).

The split (`ScoringSpec`) holds sources only, never outputs, so it can be stored as a version's
immutable snapshot and rebuilt anywhere with `ScoringSpec.from_dict`.
"""
from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import re
from pathlib import Path

from ..errors import InvalidInput
from ..notebooks.reader import cell_source, cell_tags, read_notebook

SCORE_TAG = "mlprod-score"
SAMPLE_TAG = "mlprod-sample"
SKIP_TAG = "mlprod-skip"
MISSING = object()

_ROUTE = re.compile(r"^#\s*(ResponseInfo\s+)?(GET|POST|PUT|DELETE|PATCH)\s+(/\S*)(?:\s.*)?$")


@dataclasses.dataclass(frozen=True)
class Cell:
    index: int  # position among all the notebook's cells (what Jupyter shows, 0-based)
    source: str


@dataclasses.dataclass(frozen=True)
class Route:
    method: str
    path: str  # Kernel Gateway syntax: /people/:name
    cell: Cell
    response_info: Cell | None = None


@dataclasses.dataclass(frozen=True)
class ScoringSpec:
    mode: str  # "mlprod" | "kernel_gateway"
    notebook: str  # display path
    setup: tuple[Cell, ...]
    score: Cell | None
    sample: tuple[Cell, ...]
    routes: tuple[Route, ...]

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(with_name=False), sort_keys=True)
                              .encode()).hexdigest()

    def to_dict(self, with_name: bool = True) -> dict:
        def cell(c):
            return None if c is None else {"index": c.index, "source": c.source}

        data = {"mode": self.mode, "setup": [cell(c) for c in self.setup],
                "score": cell(self.score), "sample": [cell(c) for c in self.sample],
                "routes": [{"method": r.method, "path": r.path, "cell": cell(r.cell),
                            "response_info": cell(r.response_info)} for r in self.routes]}
        if with_name:
            data["notebook"] = self.notebook
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ScoringSpec":
        def cell(c):
            return None if c is None else Cell(int(c["index"]), str(c["source"]))

        return cls(mode=data["mode"], notebook=data.get("notebook", ""),
                   setup=tuple(cell(c) for c in data["setup"]), score=cell(data["score"]),
                   sample=tuple(cell(c) for c in data["sample"]),
                   routes=tuple(Route(r["method"], r["path"], cell(r["cell"]),
                                      cell(r.get("response_info"))) for r in data["routes"]))

    def static_sample(self):
        """The sample request when the sample cell is a literal assignment, else MISSING.
        (A computed sample is evaluated by the engine, after setup.)"""
        for c in reversed(self.sample):
            try:
                tree = ast.parse(c.source)
            except SyntaxError:
                continue
            for node in reversed(tree.body):
                if isinstance(node, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "request" for t in node.targets):
                    try:
                        return ast.literal_eval(node.value)
                    except (ValueError, SyntaxError, TypeError):
                        return MISSING
        return MISSING


def read_scoring_notebook(path: Path, display: str | None = None) -> ScoringSpec:
    return split_notebook(read_notebook(path, display), display or str(path))


def split_notebook(nb: dict, display: str) -> ScoringSpec:
    setup: list[Cell] = []
    sample: list[Cell] = []
    scores: list[Cell] = []
    handlers: dict[tuple[str, str], Cell] = {}
    infos: dict[tuple[str, str], Cell] = {}
    for index, raw in enumerate(nb.get("cells", [])):
        if raw.get("cell_type") != "code":
            continue
        tags = cell_tags(raw)
        cell = Cell(index, cell_source(raw))
        if SKIP_TAG in tags:
            continue
        if SCORE_TAG in tags:
            scores.append(cell)
            continue
        if SAMPLE_TAG in tags:
            sample.append(cell)
            continue
        first = cell.source.lstrip("\n").split("\n", 1)[0].strip()
        match = _ROUTE.match(first)
        if match:
            key = (match.group(2), match.group(3))
            found = infos if match.group(1) else handlers
            if key in found:  # Kernel Gateway joins the cells of one route, in order
                cell = Cell(found[key].index, found[key].source + "\n" + cell.source)
            found[key] = cell
            continue
        setup.append(cell)
    if len(scores) > 1:
        raise InvalidInput(f"notebook {display}: {len(scores)} cells are tagged {SCORE_TAG} "
                           f"(cells {', '.join(str(c.index) for c in scores)}); tag exactly one",
                           field="notebook", code="invalid_scoring_notebook")
    if scores:
        _check_score_cell(scores[0], display)
        # Kernel Gateway route cells in an mlprod notebook are neither setup nor scoring.
        return ScoringSpec("mlprod", display, tuple(setup), scores[0], tuple(sample), ())
    if handlers:
        routes = []
        for (method, route_path), cell in handlers.items():
            routes.append(Route(method, route_path, cell, infos.get((method, route_path))))
        return ScoringSpec("kernel_gateway", display, tuple(setup), None, tuple(sample),
                           tuple(routes))
    raise InvalidInput(
        f"notebook {display} has no cell tagged {SCORE_TAG}: tag the cell that reads `request` "
        f"and sets `response` (or, for a Kernel Gateway notebook, start a cell with "
        f"`# POST /path`)", field="notebook", code="no_scoring_cell")


def _check_syntax(cell: Cell, display: str, what: str) -> ast.Module:
    try:
        return ast.parse(_strip_magics(cell.source))
    except SyntaxError as exc:
        raise InvalidInput(f"notebook {display}: {what} (cell {cell.index}) has a syntax error "
                           f"on line {exc.lineno}: {exc.msg}", field="notebook",
                           code="invalid_scoring_notebook") from None


def _check_score_cell(cell: Cell, display: str) -> None:
    tree = _check_syntax(cell, display, "the scoring cell")
    assigned = any(isinstance(node, ast.Name) and node.id == "response"
                   and isinstance(node.ctx, ast.Store) for node in ast.walk(tree))
    if not assigned:
        raise InvalidInput(f"notebook {display}: the scoring cell (cell {cell.index}) never sets "
                           "`response`; assign the answer to `response`", field="notebook",
                           code="invalid_scoring_notebook")


def _strip_magics(source: str) -> str:
    """For static checks only: IPython magics and shell escapes are not Python."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.split("\n"))


def route_regex(path: str) -> tuple[re.Pattern, tuple[str, ...]]:
    """Kernel Gateway path syntax (`/people/:name`) to a regex and its parameter names."""
    names: list[str] = []
    parts = []
    for segment in path.strip("/").split("/"):
        if segment.startswith(":"):
            names.append(segment[1:])
            parts.append("([^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "/?$" if parts != [""] else "^/?$"), tuple(names)
