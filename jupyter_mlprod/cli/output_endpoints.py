"""Rows and lines for endpoints, versions, traffic, keys, servers and scoring answers: shared
by the CLI (text) and the magic (HTML + text). They only format what the core returned."""
from __future__ import annotations

import json

from .output import fmt_time, one_line

ENDPOINT_HEADERS = ["endpoint", "mode", "traffic", "versions", "keys", "served at", "description"]
VERSION_HEADERS = ["version", "source", "notebook", "weight", "shadow", "status", "created",
                   "environment"]
KEY_HEADERS = ["key id", "label", "created", "revoked"]
SERVER_HEADERS = ["server", "url", "pid", "workers", "endpoints", "started"]
HISTORY_HEADERS = ["#", "traffic", "reason", "at", ""]


def fmt_traffic(traffic: dict | None) -> str:
    if not traffic:
        return "(no traffic)"
    text = ", ".join(f"{v} {w:g}%" for v, w in traffic.get("weights", {}).items())
    if traffic.get("shadow"):
        text += f"; shadow {traffic['shadow']}"
    if traffic.get("sticky_header"):
        text += f"; sticky by {traffic['sticky_header']}"
    return text


def endpoint_rows(endpoints: list[dict]) -> list[list[str]]:
    return [[e["name"], e["mode"] or "", fmt_traffic(e["traffic"]), str(len(e["versions"])),
             str(e["keys"]), " ".join(s["url"] for s in e["servers"]),
             one_line(e["description"], 50)] for e in endpoints]


def version_rows(versions: list[dict]) -> list[list[str]]:
    return [[v["version"], v["source"] + (f" {v['bundle_id'][:12]}" if v["bundle_id"] else ""),
             v["notebook"], f"{v['weight']:g}%" if v["weight"] else "",
             "yes" if v["shadow"] else "", v["status"] + (f": {one_line(v['error'], 60)}"
                                                          if v["error"] else ""),
             fmt_time(v["created_at"]),
             f"bundle {v['environment']['digest']}" if v.get("environment") else "node"]
            for v in versions]


def key_rows(keys: list[dict]) -> list[list[str]]:
    return [[k["key_id"], k["label"], fmt_time(k["created_at"]), fmt_time(k["revoked_at"])]
            for k in keys]


def server_rows(servers: list[dict]) -> list[list[str]]:
    return [[s["server_id"], s["url"], str(s["pid"]), str(s["workers"]),
             ", ".join(s["endpoints"]) if s["endpoints"] is not None else "(all)",
             fmt_time(s["started_at"])] for s in servers]


def history_rows(history: list[dict]) -> list[list[str]]:
    return [[str(h["id"]), fmt_traffic(h["traffic"]), h["reason"], fmt_time(h["created_at"]),
             "current" if h["current"] else ""] for h in history]


def endpoint_lines(view: dict) -> list[str]:
    lines = [f"endpoint {view['name']} ({view['mode'] or 'no version'})",
             f"  traffic:  {fmt_traffic(view['traffic'])}",
             f"  keys:     {view['keys']} active",
             f"  paths:    POST {view['paths']['predict']}, POST {view['paths']['invocations']}"]
    if view["description"]:
        lines.insert(1, f"  {one_line(view['description'])}")
    for server in view["servers"]:
        lines.append(f"  served:   {server['url']} ({server['server_id']})")
    if view["sample"] is not None:
        lines.append(f"  sample:   {one_line(json.dumps(view['sample']), 200)}")
    return lines


def score_line(result: dict) -> str:
    """`200 in 1.23 ms (version v1)`"""
    via = f", via {result['via']}" if result.get("via") else ""
    return (f"{result['status']} in {result['latency_ms']:g} ms (version {result['version']}"
            f"{via})")


def score_lines(result: dict) -> list[str]:
    body = result["body"]
    text = json.dumps(body, indent=2) if not isinstance(body, str) else body
    return [text, score_line(result)]
