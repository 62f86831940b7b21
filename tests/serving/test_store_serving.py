"""The serving repository on a SQLite file and on the real PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest

from jupyter_mlprod.errors import Conflict
from jupyter_mlprod.store import create_store_engine, migrate
from jupyter_mlprod.store.endpoints import EndpointRepository

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)
SPEC = {"mode": "mlprod", "notebook": "s.ipynb", "setup": [], "score": {"index": 0,
        "source": "response = 1"}, "sample": [], "routes": []}


def test_endpoints_versions_traffic_keys_logs_and_servers_round_trip(store_url):
    engine = create_store_engine(store_url)
    migrate(engine)
    repo, other = EndpointRepository(engine, "lab"), EndpointRepository(engine, "other")
    endpoint_id = repo.create_endpoint("score", "", {"timeout_ms": 100}, NOW)
    other.create_endpoint("score", "", {}, NOW)  # names are per project
    with pytest.raises(Conflict):
        repo.create_endpoint("score", "", {}, NOW)
    start = repo.revisions()["score"]
    repo.add_version(endpoint_id, {"version": "v1", "source": "notebook", "notebook": "s.ipynb",
                                   "bundle_id": None, "workdir": None, "digest": "d" * 64,
                                   "spec": SPEC}, NOW)
    with pytest.raises(Conflict):
        repo.add_version(endpoint_id, {"version": "v1", "source": "notebook", "notebook": "s",
                                       "bundle_id": None, "workdir": None, "digest": "d",
                                       "spec": SPEC}, NOW)
    first = repo.set_traffic(endpoint_id, {"weights": {"v1": 100}}, None, "activate", NOW)
    second = repo.set_traffic(endpoint_id, {"weights": {"v1": 50}}, first, "split", NOW)
    assert repo.traffic_entry(second)["previous_id"] == first
    assert [e["reason"] for e in repo.traffic_history(endpoint_id, 10)] == ["split", "activate"]
    repo.add_key(endpoint_id, "kabc", "ci", "h" * 64, NOW)
    assert repo.active_key_hashes(endpoint_id) == ["h" * 64]
    assert repo.revoke_key(endpoint_id, "kabc", NOW) and not repo.revoke_key(endpoint_id, "kabc", NOW)
    assert repo.active_key_hashes(endpoint_id) == []
    assert repo.revisions()["score"] == start + 5  # every change a server must notice
    repo.set_version_status(endpoint_id, "v1", "ready", None, NOW)
    assert repo.revisions()["score"] == start + 5  # ...and not the servers' own notes
    assert repo.get_versions(endpoint_id, ["v1"])["v1"]["spec"] == SPEC
    repo.append_predictions([{"endpoint_id": endpoint_id, "version": "v1", "shadow": False,
                              "at": NOW, "latency_ms": 1.5, "status": 200, "request_id": "r1",
                              "input": {"a": 1}, "output": {"b": 2}, "error": None,
                              "matches_primary": None}])
    items, total = repo.list_predictions(endpoint_id, 10, 0)
    assert total == 1 and items[0]["input"] == {"a": 1} and items[0]["at"] == NOW
    repo.register_server({"server_id": "s1", "url": "http://127.0.0.1:1", "host": "127.0.0.1",
                          "port": 1, "hostname": "h", "pid": 1, "workers": 2, "endpoints": None,
                          "started_at": NOW, "heartbeat_at": NOW})
    assert [s["server_id"] for s in repo.list_servers()] == ["s1"] and other.list_servers() == []
    repo.remove_server("s1")
    repo.delete_endpoint(endpoint_id)
    assert repo.get_endpoint("score") is None and other.get_endpoint("score") is not None
