"""The pipeline: a DAG derived from steps' outputs -> inputs and `after`. Never stored by hand."""
from __future__ import annotations

import dataclasses
import fnmatch
import glob as _glob
import heapq
from pathlib import Path

from ..errors import InvalidInput, NotFound
from ..notebooks.discovery import NotebookInfo
from ..notebooks.steps import StepSpec


@dataclasses.dataclass(frozen=True)
class Edge:
    source: str
    target: str
    via: tuple[str, ...]  # the paths that connect them; empty for an `after` edge

    def to_dict(self) -> dict:
        return {"source": self.source, "target": self.target, "via": list(self.via)}


@dataclasses.dataclass(frozen=True)
class Problem:
    code: str
    message: str
    steps: tuple[str, ...] = ()
    field: str | None = None

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "steps": list(self.steps)}

    def error(self) -> InvalidInput:
        return InvalidInput(self.message, code=self.code, field=self.field or "pipeline",
                            details={"steps": list(self.steps)})


class Pipeline:
    def __init__(self, root: Path, notebooks: list[NotebookInfo]):
        self.root = root
        self.notebooks = {nb.path: nb for nb in notebooks}
        self.problems: list[Problem] = []
        self.steps: dict[str, StepSpec] = {}
        for nb in notebooks:
            if nb.problem is not None:
                self.problems.append(Problem(nb.problem.code, nb.problem.message, field="path"))
            elif nb.step is not None:
                if nb.step.name in self.steps:
                    other = self.steps[nb.step.name].path
                    self.problems.append(Problem(
                        "duplicate_step", f"step name {nb.step.name!r} is used by both {other} and "
                        f"{nb.path}; step names must be unique", (nb.step.name,)))
                    continue
                self.steps[nb.step.name] = nb.step
        self.edges = self._edges()
        self.upstream: dict[str, set[str]] = {name: set() for name in self.steps}
        self.downstream: dict[str, set[str]] = {name: set() for name in self.steps}
        for edge in self.edges:
            self.upstream[edge.target].add(edge.source)
            self.downstream[edge.source].add(edge.target)
        cycle = self._find_cycle()
        if cycle:
            self.problems.append(Problem("cycle", "the pipeline has a cycle: " + " -> ".join(cycle),
                                         tuple(dict.fromkeys(cycle))))
        self._check_inputs()

    # -- construction ---------------------------------------------------------------------
    def _edges(self) -> list[Edge]:
        edges: dict[tuple[str, str], list[str]] = {}
        producers: dict[str, list[str]] = {}
        for spec in self.steps.values():
            for out in spec.outputs:
                producers.setdefault(out, []).append(spec.name)
        for out, names in producers.items():
            if len(names) > 1:
                self.problems.append(Problem("duplicate_output", f"output {out!r} is declared by "
                                             f"several steps: {', '.join(sorted(names))}",
                                             tuple(sorted(names))))
        for spec in self.steps.values():
            for inp in spec.inputs:
                for out, names in producers.items():
                    if _paths_meet(inp, out):
                        for name in names:
                            if name != spec.name:
                                edges.setdefault((name, spec.name), []).append(inp)
            for before in spec.after:
                if before not in self.steps:
                    self.problems.append(Problem("unknown_step", f"step {spec.name!r} runs after "
                                                 f"{before!r}, but no step has that name",
                                                 (spec.name,), field="after"))
                    continue
                edges.setdefault((before, spec.name), [])
        return [Edge(s, t, tuple(dict.fromkeys(v))) for (s, t), v in sorted(edges.items())]

    def _find_cycle(self) -> list[str] | None:
        state: dict[str, int] = {}
        stack: list[str] = []

        def visit(node: str) -> list[str] | None:
            state[node] = 1
            stack.append(node)
            for nxt in sorted(self.downstream[node]):
                if state.get(nxt) == 1:
                    return stack[stack.index(nxt):] + [nxt]
                if nxt not in state:
                    found = visit(nxt)
                    if found:
                        return found
            stack.pop()
            state[node] = 2
            return None

        for name in sorted(self.steps):
            if name not in state:
                found = visit(name)
                if found:
                    return found
        return None

    def _check_inputs(self) -> None:
        if any(p.code == "cycle" for p in self.problems):
            return
        for name, pattern in self.unmet_inputs(set(self.steps)):
            self.problems.append(Problem(
                "missing_input", f"step {name!r} needs {pattern!r}, which does not exist and no "
                "step declares it as an output", (name,), field="inputs"))

    def unmet_inputs(self, selected: set[str]) -> list[tuple[str, str]]:
        """(step, input) pairs that no selected step produces and that do not exist on disk."""
        unmet = []
        for name in self.topological(selected):
            for pattern in self.steps[name].inputs:
                produced = any(_paths_meet(pattern, out) for other in selected if other != name
                               for out in self.steps[other].outputs)
                if not produced and not self.input_exists(pattern):
                    unmet.append((name, pattern))
        return unmet

    def input_exists(self, pattern: str) -> bool:
        if any(ch in pattern for ch in "*?["):
            return bool(_glob.glob(pattern, root_dir=self.root, recursive=True))
        return (self.root / pattern).exists()

    # -- queries --------------------------------------------------------------------------
    def require_valid(self) -> None:
        if self.problems:
            raise self.problems[0].error()

    def step(self, name: str, field: str = "steps") -> StepSpec:
        try:
            return self.steps[name]
        except KeyError:
            known = ", ".join(sorted(self.steps)) or "none"
            raise NotFound(f"unknown step {name!r} (steps: {known})", field=field,
                           code="unknown_step") from None

    def topological(self, names: set[str] | None = None) -> list[str]:
        """Kahn's algorithm, alphabetical among ready steps so order is stable."""
        names = set(self.steps) if names is None else names
        indegree = {n: len(self.upstream[n] & names) for n in names}
        ready = [n for n, d in indegree.items() if d == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            name = heapq.heappop(ready)
            order.append(name)
            for nxt in self.downstream[name] & names:
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    heapq.heappush(ready, nxt)
        return order

    def descendants(self, name: str) -> set[str]:
        seen, todo = {name}, [name]
        while todo:
            for nxt in self.downstream[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def select(self, steps: list[str] | None = None, from_step: str | None = None) -> set[str]:
        if steps and from_step:
            raise InvalidInput("give either steps or from, not both", field="from")
        if from_step:
            self.step(from_step, field="from")
            return self.descendants(from_step)
        if steps:
            for name in steps:
                self.step(name)
            return set(steps)
        return set(self.steps)

    def to_dict(self) -> dict:
        return {"steps": [self.steps[n].to_dict() for n in self.topological()] if not any(
                    p.code == "cycle" for p in self.problems) else
                [s.to_dict() for s in sorted(self.steps.values(), key=lambda s: s.name)],
                "edges": [e.to_dict() for e in self.edges],
                "problems": [p.to_dict() for p in self.problems]}


def _paths_meet(a: str, b: str) -> bool:
    """Does an input pattern and an output pattern name (some of) the same files?"""
    if a == b:
        return True
    if fnmatch.fnmatchcase(a, b) or fnmatch.fnmatchcase(b, a):
        return True
    # a declared folder covers the files below it
    return a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")
