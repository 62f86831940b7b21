"""The DAG renderer behind `%mlprod dag` / `mlprod dag`: layout by depth, colours, valid SVG."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from jupyter_mlprod.pipelines.render import STATUS_COLORS, layout, render_svg

SVG_NS = "{http://www.w3.org/2000/svg}"


def view(steps, edges, statuses=None, problems=()):
    statuses = statuses or {}
    return {"steps": [{"name": s, "path": f"{s}.ipynb",
                       "latest": {"status": statuses[s], "run_id": 1} if s in statuses else None}
                      for s in steps],
            "edges": [{"source": a, "target": b, "via": []} for a, b in edges],
            "problems": [{"code": "x", "message": m, "steps": []} for m in problems]}


def nodes_of(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)  # well-formed XML
    return {g.get("data-step"): g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "node"}


def test_columns_follow_topological_depth():
    graph = layout(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("a", "c"), ("c", "d")])
    depth = {n.name: n.layer for n in graph.nodes.values() if not n.dummy}
    assert depth == {"a": 0, "b": 1, "c": 2, "d": 3}
    xs = [graph.nodes[n].x for n in "abcd"]
    assert xs == sorted(xs) and len(set(xs)) == 4
    # a -> c skips a column: it gets one waypoint so it bends around b
    waypoints = [n for n in graph.nodes.values() if n.dummy]
    assert [w.layer for w in waypoints] == [1]
    chain = next(path for s, t, path in graph.chains if (s, t) == ("a", "c"))
    assert len(chain) == 3


def test_crossings_are_reduced_by_ordering_columns():
    # a1 -> b2 and a2 -> b1 cross in name order; the barycentre sweep uncrosses them
    graph = layout(["a1", "a2", "b1", "b2"], [("a1", "b2"), ("a2", "b1")])
    y = {n: graph.nodes[n].y for n in ("a1", "a2", "b1", "b2")}
    assert (y["a1"] < y["a2"]) == (y["b2"] < y["b1"])


def test_nodes_are_coloured_by_latest_status_and_edges_have_arrowheads():
    svg = render_svg(view(["prep", "train", "score"], [("prep", "train"), ("train", "score")],
                          {"prep": "succeeded", "train": "failed"}), title="demo <&>")
    nodes = nodes_of(svg)
    assert set(nodes) == {"prep", "train", "score"}
    fills = {name: g.find(f"{SVG_NS}rect").get("fill") for name, g in nodes.items()}
    assert fills == {"prep": STATUS_COLORS["succeeded"][0], "train": STATUS_COLORS["failed"][0],
                     "score": STATUS_COLORS[None][0]}
    assert nodes["score"].get("data-status") == "never run"
    root = ET.fromstring(svg)
    edges = [p for p in root.iter(f"{SVG_NS}path") if p.get("class") == "edge"]
    assert len(edges) == 2 and all(e.get("marker-end", "").startswith("url(#mlprod-arrow-")
                                   for e in edges)
    assert "demo &lt;&amp;&gt;" in svg


def test_a_cycle_and_problems_still_render():
    svg = render_svg(view(["a", "b", "c"], [("a", "b"), ("b", "a"), ("b", "c")],
                          problems=["the pipeline has a cycle: a -> b -> a"]))
    assert set(nodes_of(svg)) == {"a", "b", "c"}
    assert "the pipeline has a cycle: a -&gt; b -&gt; a" in svg


def test_an_empty_pipeline_says_so():
    svg = render_svg(view([], []))
    assert nodes_of(svg) == {} and "no steps yet" in svg
