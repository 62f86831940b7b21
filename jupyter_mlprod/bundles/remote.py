"""The design side of deployments: registered nodes, deploy a bundle to a target (a node name,
a node URL or a production folder), roll a target back, read its history. Audit events on this
side record who deployed what to which node, including refusals."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

from ..clock import isoformat
from ..errors import InvalidInput, MlprodError, NotFound
from .audit import current_user
from .manifest import parse_manifest
from .targets import LocalTarget, RemoteTarget, push

_NODE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
TOKEN_ENV = "MLPROD_NODE_TOKEN"


class DeployMixin:
    # -- registered nodes -----------------------------------------------------------------
    def register_node(self, name: str, url: str, token_env: str | None = None) -> dict:
        if not isinstance(name, str) or not _NODE_NAME.match(name):
            raise InvalidInput("a node name starts with a letter and uses letters, digits, _ and -",
                               field="name")
        if not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url):
            raise InvalidInput(f"node URL {url!r} must look like http://host:port", field="url")
        if token_env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token_env or ""):
            raise InvalidInput("token_env must be the NAME of an environment variable holding the "
                               "token (the token itself is never stored)", field="token_env")
        self.repo.upsert_node(name, url.rstrip("/"), token_env, self.clock.now())
        return self._node_view(self.repo.get_node(name))

    def nodes(self) -> list[dict]:
        return [self._node_view(n) for n in self.repo.list_nodes()]

    def remove_node(self, name: str) -> None:
        if not self.repo.delete_node(name):
            raise NotFound(f"no registered node named {name!r}", field="name")

    @staticmethod
    def _node_view(row: dict) -> dict:
        env = row["token_env"] or TOKEN_ENV
        return {"name": row["name"], "url": row["url"], "token_env": env,
                "token_available": bool(os.environ.get(env)),
                "created_at": isoformat(row["created_at"])}

    def _target(self, target, token: str | None):
        if isinstance(target, (LocalTarget, RemoteTarget)):
            return target
        if not isinstance(target, (str, Path)) or not str(target).strip():
            raise InvalidInput("give a target: a registered node name, a node URL or a folder",
                               field="target")
        text = str(target).strip()
        if isinstance(target, str) and _NODE_NAME.match(text):
            node = self.repo.get_node(text)
            if node:
                env = node["token_env"] or TOKEN_ENV
                secret = token or os.environ.get(env)
                if not secret:
                    # a setting missing here, not a refusal by the node: the caller's 4xx
                    raise InvalidInput(f"no token for node {text!r}: set ${env} or pass a token",
                                       field="token_env", code="missing_token")
                return RemoteTarget(node["url"], secret, name=text)
        if re.match(r"^https?://", text):
            return RemoteTarget(text, token or os.environ.get(TOKEN_ENV, ""))
        folder = Path(text).expanduser()
        if not folder.is_dir():
            raise NotFound(f"target {text!r} is neither a registered node, a node URL, nor an "
                           "existing folder", field="target", code="unknown_target")
        if folder.resolve() == self.root:
            raise InvalidInput("the target is this project itself; deploy to another folder or a "
                               "node", field="target")
        return LocalTarget(folder, self.clock)

    # -- deploy / rollback / history ------------------------------------------------------
    def deploy(self, ref: str, target, *, token: str | None = None, strict: bool = False,
               message: str = "", actor: str | None = None,
               progress: Callable[[dict], None] | None = None) -> dict:
        if not isinstance(strict, bool):
            raise InvalidInput("strict must be true or false", field="strict")
        _check_message(message)
        bundle_id, raw = self.manifest_bytes(ref)
        manifest = parse_manifest(raw, expected_id=bundle_id)[1]
        actor = actor or current_user()
        where = self._target(target, token)
        audit = {"object_type": "deployment", "bundle_id": bundle_id, "actor": actor,
                 "node": where.name}
        try:
            result = push(where, self.blobs, bundle_id, raw, manifest, strict=strict,
                          message=message or "", actor=actor, progress=progress)
        except MlprodError as exc:
            self.audit_log.record("bundle.deploy", outcome="refused", **audit,
                                  details={"target": where.address, "code": exc.code,
                                           "error": exc.message})
            raise
        finally:
            where.close()
        deployment = result["deployment"]
        self.audit_log.record("bundle.deploy", object_id=str(deployment.get("id")),
                              previous_bundle_id=deployment.get("previous_bundle_id"), **audit,
                              details={"target": where.address, "kind": where.kind,
                                       "uploaded_bytes": result["uploaded_bytes"],
                                       "uploaded_blobs": result["uploaded_blobs"],
                                       "environment_ok": result["environment"]["ok"]})
        result["target"] = {"kind": where.kind, "name": where.name, "address": where.address}
        return result

    def rollback(self, target=None, *, to: str | None = None, token: str | None = None,
                 message: str = "", actor: str | None = None, strict: bool = False) -> dict:
        """Roll a target back to the bundle active before the current one (or to `to`), in one
        action. Without a target, this project is the node."""
        _check_message(message)
        if not isinstance(strict, bool):
            raise InvalidInput("strict must be true or false", field="strict")
        actor = actor or current_user()
        if target is None:
            return self.rollback_here(to, message=message, actor=actor, strict=strict)
        where = self._target(target, token)
        try:
            deployment = where.rollback(to, message=message, actor=actor, strict=strict)
        except MlprodError as exc:
            self.audit_log.record("deployment.rollback", outcome="refused", actor=actor,
                                  object_type="deployment", node=where.name,
                                  details={"target": where.address, "code": exc.code,
                                           "error": exc.message, "to": to})
            raise
        finally:
            where.close()
        self.audit_log.record("deployment.rollback", actor=actor, object_type="deployment",
                              object_id=str(deployment.get("id")), node=where.name,
                              bundle_id=deployment.get("bundle_id"),
                              previous_bundle_id=deployment.get("previous_bundle_id"),
                              details={"target": where.address})
        return deployment

    def deployments(self, target=None, *, token: str | None = None, limit: int = 50,
                    offset: int = 0) -> dict:
        if target is None:
            return self.history(limit, offset)
        where = self._target(target, token)
        try:
            return where.deployments(limit, offset)
        finally:
            where.close()


def _check_message(message) -> None:
    if message is not None and not isinstance(message, str):
        raise InvalidInput("message must be text", field="message")
