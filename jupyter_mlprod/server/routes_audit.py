"""Audit routes: the trail with filters, its export as JSON lines, and the chain's check.
Thin translations to `project.audit_trail`."""
from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import MlprodHandler

_FILTERS = ("action", "object", "actor", "since", "outcome")


class AuditHandler(MlprodHandler):
    def filters(self) -> dict:
        return {name: self.get_argument(name, None) for name in _FILTERS}

    @web.authenticated
    @authorized
    async def get(self):
        limit = self.int_argument("limit", 100)
        offset = self.int_argument("offset", 0)
        filters = self.filters()
        bundle = self.get_argument("bundle", None)
        self.reply(await self.call(lambda p: p.audit_trail.list(
            limit, offset, bundle=p.bundles.resolve(bundle) if bundle else None, **filters)))


class AuditExportHandler(AuditHandler):
    @web.authenticated
    @authorized
    async def get(self):
        filters = self.filters()
        lines = await self.call(lambda p: list(p.audit_trail.export_lines(**filters)))
        self.set_header("Content-Disposition", 'attachment; filename="mlprod-audit.jsonl"')
        self.finish("".join(lines), set_content_type="application/jsonl; charset=UTF-8")


class AuditVerifyHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self):
        self.reply(await self.call(lambda p: p.audit_trail.verify()))


ROUTES = [
    ("/audit", "audit", AuditHandler),
    ("/audit/export", "audit/export", AuditExportHandler),
    ("/audit/verify", "audit/verify", AuditVerifyHandler),
]
