"""NodeClient: talks to a production node's REST API (`jupyter_mlprod.node`) with the standard
library only (http.client), so deploy-to-URL needs no tornado. Node errors come back as the
same error tree: 400 -> InvalidInput, 401 -> InvalidInput(code "unauthorized"),
404 -> NotFound, 409 -> Conflict, 503 / unreachable -> Unavailable."""
from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from pathlib import Path

from ..errors import Conflict, InvalidInput, MlprodError, NotFound, Unavailable

API = "/api/node"
_BY_STATUS = {400: InvalidInput, 401: InvalidInput, 403: InvalidInput, 404: NotFound,
              409: Conflict, 413: InvalidInput, 503: Unavailable, 507: Unavailable}


class NodeClient:
    def __init__(self, url: str, token: str, *, timeout: float = 600.0):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise InvalidInput(f"node URL {url!r} must look like http://host:port", field="url")
        if not token:
            raise InvalidInput(f"a token is needed to talk to the node at {url}", field="token",
                               code="unauthorized")
        self.url = url.rstrip("/")
        self._scheme, self._host, self._port = parsed.scheme, parsed.hostname, parsed.port
        self._base = parsed.path.rstrip("/")
        self._token = token
        self.timeout = timeout

    def _connection(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=self.timeout, blocksize=1 << 20)

    def request(self, method: str, path: str, body=None, *, raw: bytes | None = None,
                file: Path | None = None, query: dict | None = None) -> dict:
        url = f"{self._base}{API}{path}"
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif raw is not None:
            payload = raw
            headers["Content-Type"] = "application/octet-stream"
        conn = self._connection()
        handle = None
        try:
            if file is not None:
                handle = open(file, "rb")
                headers["Content-Type"] = "application/octet-stream"
                headers["Content-Length"] = str(Path(file).stat().st_size)
                payload = handle
            try:
                conn.request(method, url, body=payload, headers=headers)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the node answered early (401, refused blob): read what it said
            response = conn.getresponse()
            data = response.read()
        except (ConnectionError, socket.timeout, OSError, http.client.HTTPException) as exc:
            raise Unavailable(f"cannot reach the node at {self.url}: {exc}",
                              code="node_unreachable", field="url") from None
        finally:
            if handle:
                handle.close()
            conn.close()
        try:
            parsed = json.loads(data) if data else {}
        except ValueError:
            parsed = {"error": {"message": data[:200].decode("utf-8", "replace")}}
        if response.status >= 400:
            raise _error(response.status, parsed, self.url)
        return parsed

    # -- the node's routes ----------------------------------------------------------------
    def health(self) -> dict:
        return self.request("GET", "/health")

    def environment(self) -> dict:
        return self.request("GET", "/environment")

    def missing(self, hashes: list[str]) -> list[str]:
        return self.request("POST", "/blobs/missing", {"hashes": hashes})["missing"]

    def upload(self, sha: str, path: Path) -> dict:
        return self.request("PUT", f"/blobs/{sha}", file=Path(path))

    def register(self, bundle_id: str, manifest_raw: bytes) -> dict:
        return self.request("POST", "/bundles", {"bundle_id": bundle_id,
                                                 "manifest": manifest_raw.decode("utf-8")})

    def bundles(self, limit: int = 50, offset: int = 0) -> dict:
        return self.request("GET", "/bundles", query={"limit": limit, "offset": offset})

    def deploy(self, bundle_id: str, manifest_raw: bytes | None, *, strict: bool = False,
               message: str = "", actor: str | None = None, env: str = "compare") -> dict:
        body = {"bundle_id": bundle_id, "strict": strict, "message": message, "actor": actor}
        if env != "compare":  # older nodes know no `env`
            body["env"] = env
        if manifest_raw is not None:
            body["manifest"] = manifest_raw.decode("utf-8")
        return self.request("POST", "/deployments", body)

    def rollback(self, to: str | None = None, *, message: str = "", actor: str | None = None,
                 strict: bool = False) -> dict:
        return self.request("POST", "/rollback", {"to": to, "message": message, "actor": actor,
                                                  "strict": strict})

    def deployments(self, limit: int = 50, offset: int = 0) -> dict:
        return self.request("GET", "/deployments", query={"limit": limit, "offset": offset})

    def audit(self, limit: int = 100, offset: int = 0) -> dict:
        return self.request("GET", "/audit", query={"limit": limit, "offset": offset})

    def start_run(self, **body) -> dict:
        return self.request("POST", "/runs", body)

    def get_run(self, run_id: int) -> dict:
        return self.request("GET", f"/runs/{int(run_id)}")


def _error(status: int, body: dict, url: str) -> MlprodError:
    err = body.get("error") if isinstance(body, dict) else None
    err = err if isinstance(err, dict) else {}
    message = err.get("message") or f"the node at {url} answered HTTP {status}"
    code = err.get("code")
    if status == 401:
        message = f"the node at {url} refused the token (401): {message}"
        code = "unauthorized"
    cls = _BY_STATUS.get(status, Unavailable if status >= 500 else InvalidInput)
    return cls(message, field=err.get("field"), code=code, details=err.get("details"))
