"""The pipeline drawn as SVG, in pure Python: presentation shared by the doors (the magic shows
it inline, `mlprod dag` writes it to a file).

Layered layout (Sugiyama-style): steps go in columns by topological depth (longest path from a
source), edges that span several columns get invisible waypoints so they bend around the steps
in between, and a few barycentre sweeps order each column to keep crossings down. Nodes are
coloured by the latest status of their step; edges end in arrowheads.
"""
from __future__ import annotations

import dataclasses
import hashlib
from xml.sax.saxutils import escape

# status -> (fill, stroke, text colour); None = never run
STATUS_COLORS: dict[str | None, tuple[str, str, str]] = {
    "succeeded": ("#d4f4dd", "#2e7d32", "#1b5e20"),
    "up_to_date": ("#e3f2e1", "#66a35f", "#33691e"),
    "running": ("#d6e9fb", "#1565c0", "#0d47a1"),
    "queued": ("#eef2f6", "#78909c", "#37474f"),
    "pending": ("#eef2f6", "#78909c", "#37474f"),
    "failed": ("#fbdada", "#c62828", "#b71c1c"),
    "cancelled": ("#fde7cf", "#ef6c00", "#bf360c"),
    "skipped": ("#f1f1f1", "#9e9e9e", "#616161"),
    None: ("#ffffff", "#90a4ae", "#455a64"),
}

NODE_HEIGHT = 46
COLUMN_GAP = 70
ROW_GAP = 22
MARGIN = 16
CHAR_WIDTH = 7.4  # average width of a 13 px sans-serif character
FONT = "-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"


@dataclasses.dataclass
class Node:
    name: str
    layer: int
    dummy: bool = False
    width: float = 0.0
    x: float = 0.0
    y: float = 0.0  # centre


@dataclasses.dataclass
class Layout:
    nodes: dict[str, Node]          # steps and waypoints (dummy nodes)
    layers: list[list[str]]
    chains: list[tuple[str, str, list[str]]]  # (source, target, node ids the edge passes through)
    width: float
    height: float


def status_color(status: str | None) -> tuple[str, str, str]:
    return STATUS_COLORS.get(status, STATUS_COLORS[None])


def layout(names: list[str], edges: list[tuple[str, str]], widths: dict[str, float] | None = None
           ) -> Layout:
    """Place `names` in columns so every edge points right (back edges of a cycle excepted)."""
    widths = widths or {}
    names = list(dict.fromkeys(names))
    edges = [(s, t) for s, t in dict.fromkeys(edges) if s in names and t in names and s != t]
    forward = _drop_back_edges(names, edges)
    depth = _longest_path_layers(names, forward)

    nodes = {n: Node(n, depth[n], width=widths.get(n, 120.0)) for n in names}
    chains = []
    for source, target in edges:
        lo, hi = depth[source], depth[target]
        path = [source]
        if (source, target) in forward and hi - lo > 1:
            for layer in range(lo + 1, hi):
                dummy = f"\x00{source}->{target}@{layer}"
                nodes[dummy] = Node(dummy, layer, dummy=True, width=0.0)
                path.append(dummy)
        path.append(target)
        chains.append((source, target, path))

    count = max((n.layer for n in nodes.values()), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(count)]
    for node in sorted(nodes.values(), key=lambda n: (n.dummy, n.name)):
        layers[node.layer].append(node.name)
    _order(layers, chains)
    width, height = _coordinates(layers, nodes)
    return Layout(nodes, layers, chains, width, height)


def _drop_back_edges(names: list[str], edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The edges minus those closing a cycle (found by depth-first search)."""
    out: dict[str, list[str]] = {n: [] for n in names}
    for s, t in edges:
        out[s].append(t)
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()

    def visit(node: str) -> None:
        state[node] = 1
        for nxt in sorted(out[node]):
            if state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                visit(nxt)
        state[node] = 2

    for name in sorted(names):
        if name not in state:
            visit(name)
    return {e for e in edges if e not in back}


def _longest_path_layers(names: list[str], edges: set[tuple[str, str]]) -> dict[str, int]:
    incoming: dict[str, list[str]] = {n: [] for n in names}
    indegree = {n: 0 for n in names}
    out: dict[str, list[str]] = {n: [] for n in names}
    for s, t in edges:
        incoming[t].append(s)
        out[s].append(t)
        indegree[t] += 1
    ready = sorted(n for n in names if indegree[n] == 0)
    depth = {n: 0 for n in names}
    while ready:
        node = ready.pop(0)
        for nxt in out[node]:
            depth[nxt] = max(depth[nxt], depth[node] + 1)
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    return depth


def _order(layers: list[list[str]], chains) -> None:
    """Barycentre sweeps, left to right then right to left."""
    left: dict[str, list[str]] = {}
    right: dict[str, list[str]] = {}
    for _, _, path in chains:
        for a, b in zip(path, path[1:]):
            right.setdefault(a, []).append(b)
            left.setdefault(b, []).append(a)
    for _ in range(4):
        for direction in (left, right):
            indices = range(1, len(layers)) if direction is left else range(len(layers) - 2, -1, -1)
            for i in indices:
                neighbour = layers[i - 1] if direction is left else layers[i + 1]
                position = {name: k for k, name in enumerate(neighbour)}
                current = {name: k for k, name in enumerate(layers[i])}

                def key(name: str) -> tuple[float, int]:
                    linked = [position[n] for n in direction.get(name, []) if n in position]
                    mean = sum(linked) / len(linked) if linked else current[name]
                    return (mean, current[name])

                layers[i] = sorted(layers[i], key=key)


def _coordinates(layers: list[list[str]], nodes: dict[str, Node]) -> tuple[float, float]:
    slot = NODE_HEIGHT + ROW_GAP
    tallest = max((len(layer) for layer in layers), default=0)
    height = tallest * slot - ROW_GAP if tallest else 0
    x = MARGIN
    for layer in layers:
        column = max((nodes[n].width for n in layer), default=0) or 24
        offset = (height - (len(layer) * slot - ROW_GAP)) / 2
        for k, name in enumerate(layer):
            node = nodes[name]
            node.x = x + (column - node.width) / 2
            node.y = MARGIN + offset + k * slot + NODE_HEIGHT / 2
        x += column + COLUMN_GAP
    return (x - COLUMN_GAP + MARGIN if layers else 2 * MARGIN), height + 2 * MARGIN


# -- SVG --------------------------------------------------------------------------------------
def render_svg(view: dict, *, title: str | None = None) -> str:
    """SVG for a pipeline view (`Project.pipeline_view()`: steps with `latest`, edges, problems)."""
    steps = {s["name"]: s for s in view.get("steps", [])}
    statuses = {name: (s.get("latest") or {}).get("status") for name, s in steps.items()}
    widths = {name: max(96.0, CHAR_WIDTH * max(len(name), len(statuses[name] or "never run"))
                        + 28) for name in steps}
    edges = [(e["source"], e["target"]) for e in view.get("edges", [])]
    graph = layout(list(steps), edges, widths)
    problems = [p["message"] for p in view.get("problems", [])]
    marker = "mlprod-arrow-" + hashlib.sha1(repr((sorted(steps), edges)).encode()).hexdigest()[:8]

    legend = [s for s in STATUS_COLORS if s in set(statuses.values())]
    legend_height = 26 if legend else 0
    empty_note = [] if steps else ["no steps yet: tag a notebook as a pipeline step"]
    notes = empty_note + problems
    title_height = 24 if title else 0
    width = max(graph.width, 260.0,
                *(CHAR_WIDTH * 0.92 * len(n) + 2 * MARGIN for n in notes))
    height = title_height + graph.height + legend_height + 18 * len(notes) + (8 if notes else 0)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="mlprod-dag" width="{width:.0f}" '
           f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
           f'font-family="{escape(FONT)}" font-size="13">',
           f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
           'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'fill="#607d8b"/></marker></defs>',
           f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>']
    if title:
        out.append(f'<text x="{MARGIN}" y="18" font-weight="600" fill="#263238">'
                   f'{escape(title)}</text>')
    out.append(f'<g transform="translate(0,{title_height})">')
    for source, target, path in graph.chains:
        out.append(_edge(graph, source, target, path, marker))
    for name, step in steps.items():
        out.append(_node(graph.nodes[name], step, statuses[name]))
    out.append("</g>")

    y = title_height + graph.height
    if legend:
        x = MARGIN
        for status in legend:
            fill, stroke, _ = status_color(status)
            label = status or "never run"
            out.append(f'<rect x="{x}" y="{y + 6}" width="12" height="12" rx="3" fill="{fill}" '
                       f'stroke="{stroke}"/><text x="{x + 17}" y="{y + 16}" font-size="11" '
                       f'fill="#455a64">{escape(label)}</text>')
            x += 17 + CHAR_WIDTH * 0.85 * len(label) + 16
        y += legend_height
    for note in notes:
        y += 18
        colour = "#c62828" if note in problems else "#607d8b"
        out.append(f'<text class="problem" x="{MARGIN}" y="{y}" font-size="12" fill="{colour}">'
                   f'{escape(note)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _edge(graph: Layout, source: str, target: str, path: list[str], marker: str) -> str:
    nodes = graph.nodes
    points = []
    for k, name in enumerate(path):
        node = nodes[name]
        if k == 0:
            points.append((node.x + node.width, node.y))
        elif k == len(path) - 1:
            points.append((node.x, node.y))
        else:  # a waypoint: enter and leave its column horizontally
            points.append((node.x, node.y))
            points.append((node.x + node.width, node.y))
    if points[-1][0] <= points[0][0]:  # a back edge of a cycle: loop around below
        (x1, y1), (x2, y2) = points[0], points[-1]
        drop = NODE_HEIGHT
        d = (f"M{x1:.1f},{y1:.1f} C{x1 + 40:.1f},{y1 + drop:.1f} {x2 - 40:.1f},{y2 + drop:.1f} "
             f"{x2:.1f},{y2:.1f}")
    else:
        d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
        for (x1, y1), (x2, y2) in zip(points, points[1:]):
            if y1 == y2:
                d += f" L{x2:.1f},{y2:.1f}"
            else:
                mid = (x2 - x1) / 2
                d += f" C{x1 + mid:.1f},{y1:.1f} {x2 - mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    return (f'<path class="edge" data-source="{escape(source)}" data-target="{escape(target)}" '
            f'd="{d}" fill="none" stroke="#607d8b" stroke-width="1.4" '
            f'marker-end="url(#{marker})"/>')


def _node(node: Node, step: dict, status: str | None) -> str:
    fill, stroke, text = status_color(status)
    label = status or "never run"
    tooltip = f"{step['name']} ({step.get('path', '')}): {label}"
    cx = node.x + node.width / 2
    top = node.y - NODE_HEIGHT / 2
    return (f'<g class="node" data-step="{escape(step["name"])}" data-status="{escape(label)}">'
            f'<title>{escape(tooltip)}</title>'
            f'<rect x="{node.x:.1f}" y="{top:.1f}" width="{node.width:.1f}" height="{NODE_HEIGHT}" '
            f'rx="8" fill="{fill}" stroke="{stroke}" stroke-width="1.6"/>'
            f'<text x="{cx:.1f}" y="{top + 19:.1f}" text-anchor="middle" font-weight="600" '
            f'fill="#263238">{escape(step["name"])}</text>'
            f'<text x="{cx:.1f}" y="{top + 35:.1f}" text-anchor="middle" font-size="11" '
            f'fill="{text}">{escape(label)}</text></g>')
