"""The design side of deployments: registered nodes, deploy a bundle to a target (a node name,
a node URL or a production folder), roll a target back, read its history. Audit events on this
side record who deployed what to which node, including refusals."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

from ..clock import isoformat
from ..audit import audited
from ..errors import Conflict, InvalidInput, MlprodError, NotFound
from ..settings import CONFIG_FILE, STATE_DIR
from .audit import current_user
from .environments import check_mode
from .manifest import parse_manifest
from .targets import LocalTarget, RemoteTarget, push

_NODE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
TOKEN_ENV = "MLPROD_NODE_TOKEN"


class DeployMixin:
    # -- registered nodes -----------------------------------------------------------------
    @audited("node.register", "node")
    def register_node(self, name: str, url: str, token_env: str | None = None) -> dict:
        if not isinstance(name, str) or not _NODE_NAME.match(name):
            raise InvalidInput("a node name starts with a letter and uses letters, digits, _ and -",
                               field="name")
        if not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url):
            raise InvalidInput(f"node URL {url!r} must look like http://host:port", field="url")
        if token_env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token_env or ""):
            raise InvalidInput("token_env must be the NAME of an environment variable holding the "
                               "token (the token itself is never stored)", field="token_env")
        # the server sends that variable's value to the URL: only a token variable, and only
        # to the one node it was registered for (not $HOME to anyone, not prod's token to a
        # second URL)
        if token_env is not None and "TOKEN" not in token_env.upper():
            raise InvalidInput(f"token_env {token_env} does not name a token variable: its name "
                               "must contain TOKEN (e.g. PROD_NODE_TOKEN)", field="token_env",
                               code="not_a_token_variable")
        env, url = token_env or TOKEN_ENV, url.rstrip("/")
        for other in self.repo.list_nodes():
            if other["name"] != name and (other["token_env"] or TOKEN_ENV) == env and \
                    other["url"] != url:
                raise Conflict(f"${env} is the token of node {other['name']!r} "
                               f"({other['url']}); a token goes only to the node it was "
                               "registered for: give this node its own token_env",
                               field="token_env", code="token_of_another_node")
        old = self.repo.get_node(name)
        self.repo.upsert_node(name, url, token_env, self.clock.now(),
                              audit=self.audit_trail.event(
                                  "node.register", "node", name,
                                  before=old and {"url": old["url"], "token_env": old["token_env"]},
                                  after={"url": url, "token_env": token_env}))
        return self._node_view(self.repo.get_node(name))

    def nodes(self) -> list[dict]:
        return [self._node_view(n) for n in self.repo.list_nodes()]

    @audited("node.remove", "node")
    def remove_node(self, name: str) -> None:
        old = self.repo.get_node(name)
        if not old or not self.repo.delete_node(name, audit=self.audit_trail.event(
                "node.remove", "node", name,
                before={"url": old["url"], "token_env": old["token_env"]})):
            raise NotFound(f"no registered node named {name!r}", field="name")

    @staticmethod
    def _node_view(row: dict) -> dict:
        env = row["token_env"] or TOKEN_ENV
        return {"name": row["name"], "url": row["url"], "token_env": env,
                "token_available": bool(os.environ.get(env)),
                "created_at": isoformat(row["created_at"])}

    def _node_at(self, url: str) -> dict | None:
        url = url.rstrip("/")
        return next((n for n in self.repo.list_nodes() if n["url"] == url), None)

    def _target(self, target, token: str | None, *, new_folder: bool = False):
        """A registered node (by name or URL) with its token, a node URL with the token the
        caller gave, or a production folder: a project already, or (`new_folder`, a deploy) an
        empty folder. A token from this server's environment goes only to its own node."""
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
            node = self._node_at(text)
            if token:  # the caller's own token, for the URL the caller named
                return RemoteTarget(text, token, name=node["name"] if node else None)
            if node is None:
                raise InvalidInput(f"{text} is not a registered node: register it with the "
                                   "environment variable holding its token (nodes register / "
                                   "POST /nodes), or pass a token", field="target",
                                   code="unregistered_node")
            return self._target(node["name"], None)
        folder = Path(text).expanduser()
        if not folder.is_dir():
            raise NotFound(f"target {text!r} is neither a registered node, a node URL, nor an "
                           "existing folder", field="target", code="unknown_target")
        if folder.resolve() == self.root:
            raise InvalidInput("the target is this project itself; deploy to another folder or a "
                               "node", field="target")
        if not _is_project(folder) and not (new_folder and not any(folder.iterdir())):
            raise NotFound(f"folder {text!r} is not a project (no {CONFIG_FILE} or {STATE_DIR}/)"
                           + ("; deploy into an empty folder or a project" if new_folder else
                              ": nothing was ever deployed there"), field="target",
                           code="not_a_project")
        return LocalTarget(folder, self.clock)

    # -- deploy / rollback / history ------------------------------------------------------
    def deploy(self, ref: str, target, *, token: str | None = None, strict: bool = False,
               message: str = "", actor: str | None = None,
               progress: Callable[[dict], None] | None = None, env: str = "compare") -> dict:
        if not isinstance(strict, bool):
            raise InvalidInput("strict must be true or false", field="strict")
        env = check_mode(env)
        _check_message(message)
        bundle_id, raw = self.manifest_bytes(ref)
        manifest = parse_manifest(raw, expected_id=bundle_id)[1]
        actor = actor or current_user()
        where = self._target(target, token, new_folder=True)
        audit = {"object_type": "deployment", "bundle_id": bundle_id, "actor": actor,
                 "node": where.name}
        try:
            result = push(where, self.blobs, bundle_id, raw, manifest, strict=strict,
                          message=message or "", actor=actor, progress=progress, env=env)
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


def _is_project(folder: Path) -> bool:
    return (folder / CONFIG_FILE).is_file() or (folder / STATE_DIR).is_dir()


def _check_message(message) -> None:
    if message is not None and not isinstance(message, str):
        raise InvalidInput("message must be text", field="message")
