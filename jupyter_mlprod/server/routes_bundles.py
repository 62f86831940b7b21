"""Bundle, node and deployment routes: thin translations to `project.bundles`.

Deploys and rollbacks run to completion in the API's worker pool (they take seconds: only the
missing blobs travel) and answer 201 with the result. A node's token never goes through this
API: a registered node names the environment variable of the Jupyter server that holds it."""
from __future__ import annotations

import os
import shutil
import tempfile

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput
from .base import MlprodHandler

CREATE_FIELDS = ("message",)
DEPLOY_FIELDS = ("target", "strict", "message", "env")
ROLLBACK_FIELDS = ("to", "message", "strict")
NODE_FIELDS = ("name", "url", "token_env")
_CHUNK = 1 << 20


class BundlesHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self):
        limit = self.int_argument("limit", 50)
        offset = self.int_argument("offset", 0)
        self.reply(await self.call(lambda p: p.bundles.list(limit, offset)))

    @web.authenticated
    @authorized
    async def post(self):
        body = self.object_body(CREATE_FIELDS)
        message = body.get("message", "")
        self.reply(await self.call(lambda p: p.bundles.create(message)), 201)


class BundlePreviewHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self):
        self.reply(await self.call(lambda p: p.bundles.preview()))


class BundleDiffHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self):
        a, b = self.required_argument("a"), self.required_argument("b")
        self.reply(await self.call(lambda p: p.bundles.diff(a, b)))


class BundleHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self, bundle: str):
        self.reply(await self.call(lambda p: p.bundles.show(bundle)))


class BundleVerifyHandler(MlprodHandler):
    audit_refusals = False  # changes nothing
    @web.authenticated
    @authorized
    async def post(self, bundle: str):
        self.object_body(())
        self.reply(await self.call(lambda p: p.bundles.verify(bundle)))


class BundleArchiveHandler(MlprodHandler):
    """The bundle as one archive file (what `mlprod bundle import` reads), streamed: written to
    a temporary file in the worker pool, sent in 1 MiB chunks read in the pool, then removed."""

    @web.authenticated
    @authorized
    async def get(self, bundle: str):
        compress = self.get_argument("compress", "false")
        if compress not in ("true", "false"):
            raise InvalidInput("compress must be true or false", field="compress")
        folder = await self.in_pool(tempfile.mkdtemp, "", "mlprod-export-")
        try:
            result = await self.call(lambda p: p.bundles.export(
                bundle, folder, compress=compress == "true"))
            name = os.path.basename(result["path"])
            self.set_header("Content-Type", "application/gzip" if compress == "true"
                            else "application/x-tar")
            self.set_header("Content-Disposition", f'attachment; filename="{name}"')
            self.set_header("Content-Length", str(result["size"]))
            self.set_header("X-Mlprod-Bundle-Id", result["bundle_id"])
            handle = await self.in_pool(open, result["path"], "rb")
            try:
                while chunk := await self.in_pool(handle.read, _CHUNK):
                    self.write(chunk)
                    await self.flush()
            finally:
                await self.in_pool(handle.close)
            self.finish()
        finally:
            await self.in_pool(shutil.rmtree, folder, True)


class BundleDeployHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def post(self, bundle: str):
        body = self.object_body(DEPLOY_FIELDS)
        self.reply(await self.call(lambda p: p.bundles.deploy(
            bundle, body.get("target"), strict=body.get("strict", False),
            message=body.get("message", ""), env=body.get("env", "compare"))), 201)


class NodesHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self):
        self.reply({"nodes": await self.call(lambda p: p.bundles.nodes())})

    @web.authenticated
    @authorized
    async def post(self):
        body = self.object_body(NODE_FIELDS)
        self.reply(await self.call(lambda p: p.bundles.register_node(
            body.get("name"), body.get("url"), body.get("token_env"))), 201)


class NodeHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def delete(self, name: str):
        await self.call(lambda p: p.bundles.remove_node(name))
        self.set_status(204)
        self.finish()


class NodeRollbackHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def post(self, name: str):
        body = self.object_body(ROLLBACK_FIELDS)
        self.reply(await self.call(lambda p: p.bundles.rollback(
            name, to=body.get("to"), message=body.get("message", ""),
            strict=body.get("strict", False))), 201)


class NodeDeploymentsHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str):
        limit = self.int_argument("limit", 50)
        offset = self.int_argument("offset", 0)
        self.reply(await self.call(lambda p: p.bundles.deployments(name, limit=limit,
                                                                   offset=offset)))


_BUNDLE = r"bundles/(?P<bundle>[^/]+)"
_NODE = r"nodes/(?P<name>[^/]+)"

# (route as in openapi.yaml, regex, handler); preview and diff come before {id}.
ROUTES: list[tuple[str, str, type[MlprodHandler]]] = [
    ("/bundles", "bundles", BundlesHandler),
    ("/bundles/preview", "bundles/preview", BundlePreviewHandler),
    ("/bundles/diff", "bundles/diff", BundleDiffHandler),
    ("/bundles/{id}", _BUNDLE, BundleHandler),
    ("/bundles/{id}/verify", _BUNDLE + "/verify", BundleVerifyHandler),
    ("/bundles/{id}/archive", _BUNDLE + "/archive", BundleArchiveHandler),
    ("/bundles/{id}/deploy", _BUNDLE + "/deploy", BundleDeployHandler),
    ("/nodes", "nodes", NodesHandler),
    ("/nodes/{name}", _NODE, NodeHandler),
    ("/nodes/{name}/rollback", _NODE + "/rollback", NodeRollbackHandler),
    ("/nodes/{name}/deployments", _NODE + "/deployments", NodeDeploymentsHandler),
]
